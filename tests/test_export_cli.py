"""`terrain-gan export` end to end, and `terrain-gan generate --also` with mesh formats: files that read
back, and bad input as one line on stderr, exit code 2, no file left behind.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_export_support import read_glb, read_obj, surface

from terrain_gan import generation as generate
from terrain_gan.cli import main

CELL = 90.0


@pytest.fixture
def png(tmp_path):
    """t.png + t.json as `terrain-gan generate` writes them (a 33 x 33 map, 90 m cells)."""
    from exporters import write_files

    hm = generate.Heightmap(surface(33, 33), CELL, 42, "test-model")
    write_files(generate.output_files(hm, tmp_path / "t.png", ("npy",)))
    return tmp_path / "t.png"


def run_error(capsys, argv) -> str:
    """Runs the CLI expecting a user error: exit 2 and exactly one line on stderr, which it returns."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("terrain-gan: error: ") and "Traceback" not in err
    return err


def test_export_png_with_sidecar_defaults(tmp_path, png, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", str(png), "--formats", "glb,obj,unity", "--out", str(out / "t")]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(printed) == sorted(str(out / n) for n in ("t.glb", "t.obj", "t_unity.raw", "t_unity.json"))
    m = read_glb(out / "t.glb")
    h = np.load(tmp_path / "t.npy")
    side = json.loads((tmp_path / "t.json").read_text())
    # Heights come back to within the PNG's 16-bit step; the cell size is the sidecar's.
    assert m["doc"]["accessors"][0]["max"][0] == 32 * CELL
    assert np.abs(m["POSITION"][:, 1].reshape(33, 33) - h).max() <= side["png16"]["height_step_m"] / 2 + 1e-4
    assert read_obj(out / "t.obj")["v"].shape == (33 * 33, 3)


def test_export_options_reach_the_files(tmp_path, png, capsys):
    args = ["export", str(png), "--formats", "glb,gltf", "--out", str(tmp_path / "o.glb"), "--cell-size", "10",
            "--scale", "0.5", "--height-scale", "2", "--lod", "4", "--skirt", "20", "--colors", "slope",
            "--texture", "relief"]
    assert main(args) == 0
    m = read_glb(tmp_path / "o.glb")
    assert m["POSITION"].shape == (9 * 9 + 32, 3) and "COLOR_0" in m and "image" in m
    assert m["doc"]["accessors"][0]["max"][0] == 32 * 10 * 0.5
    assert (tmp_path / "o.gltf").exists() and (tmp_path / "o.bin").exists()


def test_export_npy_needs_a_cell_size(tmp_path, capsys):
    np.save(tmp_path / "a.npy", surface(5, 5))
    assert "--cell-size" in run_error(capsys, ["export", str(tmp_path / "a.npy")])
    assert main(["export", str(tmp_path / "a.npy"), "--cell-size", "5"]) == 0
    assert (tmp_path / "a.glb").exists()


@pytest.mark.parametrize("heights, match", [
    (np.full((4, 4), np.nan, np.float32), "NaN"),
    (np.zeros((0, 4), np.float32), "too small"),
    (np.zeros((1, 4), np.float32), "too small"),
    (np.zeros((40, 40), np.float32), "2\\^n\\+1"),
])
def test_bad_heightmaps_exit_2_and_write_nothing(tmp_path, capsys, heights, match):
    np.save(tmp_path / "bad.npy", heights)
    err = run_error(capsys, ["export", str(tmp_path / "bad.npy"), "--cell-size", "5",
                             "--formats", "glb,obj,png16,unity"])
    assert __import__("re").search(match, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npy"]


@pytest.mark.parametrize("extra, match", [
    (["--formats", "glb,fbx"], "unknown export format 'fbx'"),
    (["--formats", ""], "no export formats"),
    (["--lod", "0"], "--lod"),
    (["--scale", "-1"], "--scale"),
    (["--skirt", "nan"], "--skirt"),
    (["--cell-size", "0"], "cell size"),
    (["--height-range", "5"], "LO,HI"),
    (["--height-range", "0,1"], "outside height_range"),
    (["--colors", "rainbow"], "invalid choice"),
    (["--out", "nowhere/t"], "does not exist"),
    (["--formats", "godot"], "overwrite its own input"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, png, capsys, extra, match):
    before = sorted(p.name for p in tmp_path.iterdir())
    err = run_error(capsys, ["export", str(png), *extra])
    assert match in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unreadable_inputs_exit_2(tmp_path, png, capsys):
    assert "no such heightmap" in run_error(capsys, ["export", str(tmp_path / "none.png")])
    (tmp_path / "t.json").unlink()
    assert "needs its sidecar t.json" in run_error(capsys, ["export", str(png)])
    (tmp_path / "c.npy").write_bytes(b"garbage")
    assert "cannot read as npy" in run_error(capsys, ["export", str(tmp_path / "c.npy")])
    assert "cannot tell the heightmap format" in run_error(capsys, ["export", str(tmp_path / "t.jpg")])


def test_unity_resample_flag(tmp_path, capsys):
    np.save(tmp_path / "m.npy", surface(40, 40))
    assert main(["export", str(tmp_path / "m.npy"), "--cell-size", "5", "--formats", "unity", "--resample"]) == 0
    assert (tmp_path / "m_unity.raw").stat().st_size == 65 * 65 * 2


def test_generate_also_writes_meshes_and_engine_files(tmp_path):
    from exporters import write_files

    hm = generate.Heightmap(surface(33, 33), CELL, 7, "test-model")
    paths = write_files(generate.output_files(hm, tmp_path / "t.png", ("npy", "glb", "obj", "unity", "godot")))
    assert sorted(p.name for p in paths) == sorted(["t.png", "t.npy", "t.glb", "t.obj", "t_unity.raw",
                                                    "t_unity.json", "t.glb.import", "t.tscn", "t.exr", "t.r16",
                                                    "t.json"])
    side = json.loads((tmp_path / "t.json").read_text())
    assert side["seed"] == 7 and side["png16"]["max_height_m"] == float(hm.height.max())  # unchanged keys
    assert side["glb"]["vertices"] == 33 * 33 and side["godot"]["scene"] == "t.tscn"
    np.testing.assert_array_equal(read_glb(tmp_path / "t.glb")["POSITION"][:, 1].reshape(33, 33), hm.height)
    with pytest.raises(Exception, match="unknown output 'fbx'"):
        generate.output_files(hm, tmp_path / "t.png", ("fbx",))


def test_generate_refuses_unity_for_a_size_it_cannot_take(tmp_path, capsys):
    err = run_error(capsys, ["generate", "--size", "64", "--out", str(tmp_path / "t.png"), "--also", "unity"])
    assert "--also unity needs --size 2^n+1" in err and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["tif", "exr", "r16", "npy"])
def test_export_reads_every_float_and_16_bit_input(tmp_path, capsys, fmt):
    from exporters import HEIGHTMAP_FORMATS, export_files, write_files

    h = surface(17, 9)
    write_files(export_files(h, tmp_path / "in", fmt, cell_size_m=12.5))
    out = tmp_path / "out"
    out.mkdir()
    src = tmp_path / f"in{HEIGHTMAP_FORMATS[fmt].suffix}"
    if fmt == "tif":
        (tmp_path / "in.json").unlink()  # the GeoTIFF's own pixel-scale tag gives the cell size
    assert main(["export", str(src), "--formats", "glb", "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / "in.glb")]
    m = read_glb(out / "in.glb")
    assert m["doc"]["accessors"][0]["max"][0] == 8 * 12.5
    y = m["POSITION"][:, 1].reshape(h.shape)
    if fmt == "r16":
        assert np.abs(y - h).max() <= (h.max() - h.min()) / 65535 / 2 + 1e-4
    else:
        np.testing.assert_array_equal(y, h)
