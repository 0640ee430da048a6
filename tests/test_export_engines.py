"""Engine and GIS files from `export_files`: every heightmap format reads back exactly, Unity's RAW and
numbers, Godot's scene and plugin settings, the shared sidecar, and all-or-nothing writes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_export_support import surface

from exporters import (
    FORMAT_NAMES,
    HEIGHTMAP_FORMATS,
    ExportOptions,
    check_formats,
    dequantize_u16,
    export_files,
    quantize_u16,
    read_heightmap,
    write_files,
)
from exporters.errors import ExportError

CELL = 30.0


def export(tmp_path, h, formats, **kw):
    return write_files(export_files(h, tmp_path / "t", formats, cell_size_m=kw.pop("cell", CELL), **kw))


@pytest.mark.parametrize("height_range", [None, (-2000.0, 3000.0)])
def test_every_heightmap_format_reads_back_exactly(tmp_path, height_range):
    h = surface(33, 20)
    export(tmp_path, h, ",".join(HEIGHTMAP_FORMATS), height_range=height_range)
    lo, hi = height_range or (float(h.min()), float(h.max()))
    for fmt, spec in HEIGHTMAP_FORMATS.items():
        back, meta = read_heightmap(tmp_path / f"t{spec.suffix}")
        want = dequantize_u16(quantize_u16(h, lo, hi), lo, hi) if spec.is_u16 else h
        np.testing.assert_array_equal(back, want, err_msg=fmt)
        assert meta["cell_size_m"] == CELL
    codes = np.fromfile(tmp_path / "t.r16", "<u2").reshape(h.shape)
    np.testing.assert_array_equal(codes, quantize_u16(h, lo, hi))
    np.testing.assert_array_equal(np.fromfile(tmp_path / "t.raw", "<u2").reshape(h.shape)[::-1], codes)
    side = json.loads((tmp_path / "t.json").read_text())
    assert (side["min_height_m"], side["max_height_m"], side["rows"], side["columns"]) == (lo, hi, 33, 20)
    assert side["raw16"]["row0"] == "south" and side["r16"]["row0"] == "north"
    assert side["png16"]["byte_order"] == "big" and side["r16"]["byte_order"] == "little"


def test_exr_is_one_float_channel_r_in_metres(tmp_path):
    OpenEXR = pytest.importorskip("OpenEXR")
    h = surface(9, 6)
    export(tmp_path, h, "exr")
    with OpenEXR.File(str(tmp_path / "t.exr")) as f:
        assert list(f.channels()) == ["R"]
        np.testing.assert_array_equal(f.channels()["R"].pixels, h)


def test_unity_single_tile_raw_and_settings(tmp_path):
    h = surface(65, 65)
    paths = export(tmp_path, h, "unity", options=ExportOptions(scale=0.5, height_scale=2.0))
    assert sorted(p.name for p in paths) == ["t_unity.json", "t_unity.raw"]
    lo, hi = float(h.min()), float(h.max())
    codes = np.fromfile(tmp_path / "t_unity.raw", "<u2").reshape(65, 65)
    np.testing.assert_array_equal(codes[::-1], quantize_u16(h, lo, hi))  # south row first
    s = json.loads((tmp_path / "t_unity.json").read_text())["unity"]
    assert s["import_raw"] == {"depth": "Bit 16", "resolution": 65, "byte_order": "Windows",
                               "flip_vertically": False}
    assert s["terrain_size"]["x"] == s["terrain_size"]["z"] == 64 * CELL * 0.5
    # Unity: height = position.y + q / 65536 * Terrain Height (in units of metres x scale x height_scale).
    k = 0.5 * 2.0
    assert s["position"]["y"] == lo * k
    assert s["position"]["y"] + 65535 / 65536 * s["terrain_size"]["y"] == pytest.approx(hi * k, abs=1e-6)
    back, _ = read_heightmap(tmp_path / "t_unity.raw")
    np.testing.assert_array_equal(back, dequantize_u16(quantize_u16(h, lo, hi), lo, hi))


def test_unity_refuses_other_sizes_unless_resampled(tmp_path):
    h = surface(40, 50)
    with pytest.raises(ExportError, match=r"2\^n\+1 .*got 40x50; pass --resample") as e:
        export(tmp_path, h, "glb,unity")
    assert "\n" not in str(e.value) and list(tmp_path.iterdir()) == []
    export(tmp_path, h, "unity", options=ExportOptions(resample=True))
    s = json.loads((tmp_path / "t_unity.json").read_text())
    assert s["rows"] == s["columns"] == 65 and s["unity"]["resampled_from"] == [40, 50]
    assert s["unity"]["terrain_size"]["x"] == 49 * CELL and s["unity"]["terrain_size"]["z"] == 39 * CELL
    back, _ = read_heightmap(tmp_path / "t_unity.raw")
    lo, hi = float(h.min()), float(h.max())
    step = (hi - lo) / 65535
    for corner in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        assert abs(back[corner] - h[corner]) <= step / 2 + 1e-4
    with pytest.raises(ExportError, match="4097"):
        export(tmp_path, np.zeros((4098, 2), np.float32), "unity", options=ExportOptions(resample=True))


def test_godot_bundle(tmp_path):
    h = surface(65, 65)
    paths = export(tmp_path, h, "godot", options=ExportOptions(scale=2.0))
    assert sorted(p.name for p in paths) == ["t.exr", "t.glb", "t.glb.import", "t.json", "t.r16", "t.tscn"]
    # Godot's own .import format (what its editor writes: ConfigFile sections), with mesh compression off.
    assert (tmp_path / "t.glb.import").read_text().split("\n\n") == [
        "[remap]", 'importer="scene"', "[params]", "meshes/force_disable_compression=true\n"]
    tscn = (tmp_path / "t.tscn").read_text()
    assert '[ext_resource type="PackedScene" path="t.glb" id="1_tile"]' in tscn
    g = json.loads((tmp_path / "t.json").read_text())["godot"]
    lo, hi = float(h.min()), float(h.max())
    assert g["terrain3d"]["r16_range"] == [lo, hi] and g["terrain3d"]["r16_size"] == [65, 65]
    assert g["terrain3d"]["vertex_spacing"] == 2 * CELL and g["terrain3d"]["height_scale"] == 2.0
    assert g["terrain3d"]["import_position"] == [64 * CELL, 0.0, 64 * CELL]  # the centre, x scale 2
    assert (g["hterrain"]["min_height"], g["hterrain"]["max_height"]) == (2 * lo, 2 * hi)
    assert g["hterrain"]["size_ok"] is True and g["scene"] == "t.tscn" and g["mesh_import"] == "t.glb.import"
    for shape in ((33, 33), (65, 129)):  # HTerrain: 65 .. 4097, square
        export(tmp_path, surface(*shape), "godot")
        assert json.loads((tmp_path / "t.json").read_text())["godot"]["hterrain"]["size_ok"] is False


def test_format_names_are_checked_and_bundles_expanded():
    assert FORMAT_NAMES == ("glb", "gltf", "obj", "png16", "tif", "npy", "raw16", "r16", "exr", "unity", "godot",
                            "masks")
    assert check_formats(["glb", "glb", "godot"]) == ("glb", "godot", "exr", "r16")
    for bad, match in (("fbx", "unknown export format 'fbx'"), ("", "no export formats"), (" , ", "no export"),
                       (None, "no export formats"), ([3], "unknown export format 3")):
        with pytest.raises(ExportError, match=match):
            check_formats(bad)


def test_mesh_only_exports_write_no_sidecar(tmp_path):
    assert sorted(p.name for p in export(tmp_path, surface(5, 5), "glb,obj")) == ["t.glb", "t.obj"]


@pytest.mark.parametrize("bad, match", [
    (np.full((4, 4), np.nan, np.float32), "NaN"),
    (np.zeros((0, 5), np.float32), "too small"),
    (np.zeros((1, 5), np.float32), "too small"),
    (np.array([[1.0, np.inf], [0.0, 0.0]]), "infinite"),
])
def test_bad_heights_are_one_line_and_no_file(tmp_path, bad, match):
    with pytest.raises(ExportError, match=match) as e:
        export(tmp_path, bad, FORMAT_NAMES)
    assert "\n" not in str(e.value) and list(tmp_path.iterdir()) == []


def test_a_failure_while_writing_leaves_no_file_and_keeps_old_ones(tmp_path):
    (tmp_path / "t.glb").write_bytes(b"old")
    files = export_files(surface(9, 9), tmp_path / "t", "glb,obj,r16", cell_size_m=CELL)

    def broken():
        yield b"half of a file"
        raise ExportError("disk on fire")

    files[tmp_path / "t.obj"] = broken()
    with pytest.raises(ExportError, match="disk on fire"):
        write_files(files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.glb"]
    assert (tmp_path / "t.glb").read_bytes() == b"old"


def test_unwritable_destinations_are_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    for stem, match in ((tmp_path / "missing" / "t", "does not exist"), (tmp_path / "file" / "t", "does not exist")):
        with pytest.raises(ExportError, match=match) as e:
            write_files(export_files(surface(5, 5), stem, "glb,png16", cell_size_m=CELL))
        assert "\n" not in str(e.value)
    (tmp_path / "t.glb").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        write_files(export_files(surface(5, 5), tmp_path / "t", "glb,png16", cell_size_m=CELL))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "t.glb"]
