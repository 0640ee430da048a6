"""`terrain-gan world`: files, manifest, resume, split jobs, height range, bad input (one line, exit 2)."""

import hashlib
import json

import imageio.v3 as iio
import numpy as np
import pytest

from terrain_gan import pretrained
from terrain_gan.cli import main
from terrain_gan.world import batch as world_batch
from terrain_gan.world.core import World
from terrain_gan.world.layout import Layout

S = 33


@pytest.fixture(scope="module")
def weights(smoke_weights):
    return str(smoke_weights)


def _world(weights, out, *extra):
    return main(["world", "--seed", "7", "--tiles", "3x2", "--tile-size", str(S), "--out", str(out),
                 "--formats", "png16,npy", "--model", weights, *extra])


def _snapshot(folder) -> dict:
    """{relative path: sha256} of every file under `folder`."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def made(weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("w") / "world"
    assert _world(weights, out) == 0
    return out


def test_world_writes_every_tile_manifest_and_overview(made, weights):
    doc = json.loads((made / "manifest.json").read_text())
    model = pretrained.load_model(weights)
    assert doc["world"]["seed"] == 7 and doc["world"]["model_sha256"] == model.sha256
    assert doc["world"]["model_id"] == model.model_id and doc["world"]["cell_size_m"] == 90.0
    assert doc["grid"] == [3, 2] and doc["tile_size"] == S and doc["tiles_done"] == 6
    lo, hi = doc["height_range_m"]
    world = World(7, weights)
    for z in range(2):
        for x in range(3):
            entry = doc["tiles"][f"{x}_{z}"]
            for name, checksum in entry["files"].items():
                assert hashlib.sha256((made / name).read_bytes()).hexdigest() == checksum
            h = np.load(made / f"tile_{x}_{z}.npy")
            assert h.tobytes() == world.tile(x, z, S).tobytes()
            codes = iio.imread(made / f"tile_{x}_{z}.png")
            expect = np.rint((h.astype(np.float64) - lo) * 65535 / (hi - lo)).astype(np.uint16)
            assert codes.dtype == np.uint16 and np.array_equal(codes, expect)  # one world-wide range
            side = json.loads((made / f"tile_{x}_{z}.json").read_text())
            assert (side["min_height_m"], side["max_height_m"]) == (lo, hi)
    a, b = iio.imread(made / "tile_0_0.png"), iio.imread(made / "tile_1_0.png")
    assert a[:, -1].tobytes() == b[:, 0].tobytes()  # seams survive 16-bit export bit for bit
    overview = iio.imread(made / "overview.png")
    assert overview.shape[:2] == (2 * 32, 3 * 32) and overview.ndim == 3


def test_rerun_skips_finished_tiles_and_writes_nothing_new(made, weights, capsys):
    before = _snapshot(made)
    tiles_before = {k: v for k, v in before.items() if k.startswith("tile_")}
    assert _world(weights, made) == 0
    assert "0 tiles made, 6 already finished" in capsys.readouterr().out
    after = _snapshot(made)
    assert {k: v for k, v in after.items() if k.startswith("tile_")} == tiles_before
    assert after["manifest.json"] == before["manifest.json"]


def test_resume_remakes_only_damaged_or_missing_tiles(made, weights, tmp_path, capsys):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(made, out)
    (out / "tile_1_1.png").write_bytes(b"half a file")
    (out / ".tiles" / "2_0.json").unlink()
    assert _world(weights, out) == 0
    assert "2 tiles made, 4 already finished" in capsys.readouterr().out
    assert _snapshot(out) == _snapshot(made)


def test_crash_mid_run_leaves_whole_tiles_and_resume_completes(made, weights, tmp_path, monkeypatch):
    out = tmp_path / "crashed"
    real, calls = world_batch.encode_tile, []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(world_batch, "encode_tile", flaky)
    assert _world(weights, out) == 130
    assert not list(out.rglob("*.part*"))
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["tiles_done"] == 3
    monkeypatch.setattr(world_batch, "encode_tile", real)
    assert _world(weights, out) == 0
    assert _snapshot(out) == _snapshot(made)


def test_jobs_splitting_a_world_make_the_same_files(made, weights, tmp_path):
    out = tmp_path / "split"
    assert _world(weights, out, "--x", "0:2") == 0
    assert _world(weights, out, "--x", "2:3", "--z", "0:1") == 0
    assert _world(weights, out, "--x", "2:3", "--z", "1:2") == 0
    assert _snapshot(out) == _snapshot(made)


def test_another_worlds_folder_is_refused_and_left_alone(made, weights, capsys):
    before = _snapshot(made)
    rc = main(["world", "--seed", "8", "--tiles", "3x2", "--tile-size", str(S), "--out", str(made),
               "--model", weights])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "another world (seed 7, not 8)" in err
    assert _snapshot(made) == before


@pytest.mark.parametrize("args, message", [
    (["--tiles", "0x3"], "tile count along x must be 1..1024, got 0"),
    (["--tiles", "5000x1"], "tile count along x"),
    (["--tiles", "3by3"], "expected NXxNZ"),
    (["--tile-size", "500"], "try 497 or 513"),
    (["--tile-size", "-5"], "17..8193"),
    (["--x", "2:9"], "inside 0:3"),
    (["--z", "1:1"], "non-empty"),
    (["--periodic"], "multiple of 256"),
    (["--formats", "png16,bmp"], "unknown export format 'bmp'"),
    (["--height-range", "5,1"], "LO < HI"),
    (["--height-range", "lots"], "auto, exact or LO,HI"),
    (["--guide", "/nonexistent/guide.png"], "file not found"),
    (["--relief", "-1"], "relief must be"),
    (["--seed", "-3"], "seed must be"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(weights, tmp_path, capsys, args, message):
    out = tmp_path / "w"
    base = {"--tiles": "3x2", "--tile-size": str(S)}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    argv = ["world", "--out", str(out), "--model", weights] + [t for kv in base.items() for t in kv]
    if args == ["--periodic"]:
        argv.append("--periodic")
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("terrain-gan: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists()


def test_unreadable_guide_map_is_one_line(weights, tmp_path, capsys):
    bad = tmp_path / "guide.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    assert _world(weights, tmp_path / "w", "--guide", str(bad)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "guide map" in err and "unreadable" in err
    assert not (tmp_path / "w").exists()


def test_folder_with_foreign_tiles_is_refused(weights, tmp_path, capsys):
    out = tmp_path / "w"
    out.mkdir()
    (out / "tile_0_0.png").write_bytes(b"someone else's")
    assert _world(weights, out) == 2
    assert "no manifest.json" in capsys.readouterr().err
    assert (out / "tile_0_0.png").read_bytes() == b"someone else's"


def test_exact_height_range_is_the_worlds_min_and_max(weights, tmp_path):
    out = tmp_path / "exact"
    assert _world(weights, out, "--height-range", "exact", "--x", "0:1", "--z", "0:1") == 0
    doc = json.loads((out / "manifest.json").read_text())
    world = World(7, weights)
    tiles = [world.tile(x, z, S) for z in range(2) for x in range(3)]  # the whole grid, not just this job
    lo, hi = min(t.min() for t in tiles), max(t.max() for t in tiles)
    assert doc["height_range_m"] == [float(np.floor(lo)), float(np.ceil(hi))]
    assert doc["world"]["height_range"] == "exact"


def test_fixed_height_range_clips_and_counts(weights, tmp_path, capsys):
    out = tmp_path / "clip"
    h = World(7, weights).tile(0, 0, S)
    mid = float(np.median(h))
    assert _world(weights, out, f"--height-range={mid - 1},{mid + 1}", "--x", "0:1", "--z", "0:1") == 0
    assert "clipped" in capsys.readouterr().out
    doc = json.loads((out / "manifest.json").read_text())
    stored = np.load(out / "tile_0_0.npy")
    assert doc["tiles"]["0_0"]["clipped"] == int(np.count_nonzero(np.abs(h - mid) > 1))
    assert np.array_equal(stored, np.clip(h, np.float32(mid - 1), np.float32(mid + 1)))


def test_periodic_single_tile_wraps(weights, tmp_path):
    out = tmp_path / "torus"
    assert main(["world", "--seed", "1", "--tiles", "1x1", "--tile-size", "257", "--periodic", "--out", str(out),
                 "--formats", "npy", "--model", weights]) == 0
    h = np.load(out / "tile_0_0.npy")
    assert h[0].tobytes() == h[-1].tobytes() and h[:, 0].tobytes() == h[:, -1].tobytes()


def test_mesh_formats_and_engine_files(weights, tmp_path):
    out = tmp_path / "mesh"
    assert _world(weights, out, "--formats", "glb,unity,godot", "--x", "0:2", "--z", "0:1") == 0
    names = {p.name for p in out.iterdir()}
    assert {"tile_0_0.glb", "tile_1_0.glb", "world.tscn", "unity_terrain.json"} <= names
    assert any(n.startswith("tile_unity_0_1") for n in names)  # Unity's Z counts rows from the south


def test_godot_tiles_carry_their_import_settings_in_the_manifest_and_resume_byte_identical(weights, tmp_path,
                                                                                           capsys):
    """`--formats godot`: each tile's GLB has its `.glb.import` beside it (mesh compression off), listed with
    its checksum like every tile file; a re-run writes nothing, and a tile whose .import changed (Godot
    rewrites it when it imports the folder in place) is made again, byte-identical."""
    import shutil

    out = tmp_path / "godot"
    assert _world(weights, out, "--formats", "godot", "--x", "0:2", "--z", "0:1") == 0
    doc = json.loads((out / "manifest.json").read_text())
    for x in range(2):
        name = f"tile_{x}_0.glb.import"
        text = (out / name).read_text()
        assert "[params]" in text and "meshes/force_disable_compression=true" in text.splitlines()
        assert doc["tiles"][f"{x}_0"]["files"][name] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    before = _snapshot(out)
    assert _world(weights, out, "--formats", "godot", "--x", "0:2", "--z", "0:1") == 0
    assert "0 tiles made, 2 already finished" in capsys.readouterr().out and _snapshot(out) == before
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "tile_1_0.glb.import").write_text((copy / "tile_1_0.glb.import").read_text() + 'uid="uid://x"\n')
    assert _world(weights, copy, "--formats", "godot", "--x", "0:2", "--z", "0:1") == 0
    assert "1 tiles made, 1 already finished" in capsys.readouterr().out
    assert _snapshot(copy) == before


def test_python_api_plan_and_run(weights, tmp_path):
    p = world_batch.plan(3, weights, tiles=(2, 1), tile_size=S, out=tmp_path / "api", formats="npy",
                         layout=Layout(relief_variation=0.0))
    assert p.todo == [(0, 0), (1, 0)]
    summary = world_batch.run(p, quiet=True)
    assert summary["made"] == 2 and summary["skipped"] == 0
    assert np.load(tmp_path / "api" / "tile_1_0.npy").tobytes() == World(
        3, weights, layout=Layout(relief_variation=0.0)).tile(1, 0, S).tobytes()


def test_progress_shows_tiles_per_second_and_eta(weights, tmp_path, capsys):
    assert _world(weights, tmp_path / "p", "--x", "0:2", "--z", "0:1") == 0
    err = capsys.readouterr().err
    assert "2/2 tiles" in err and "tiles/s" in err and "ETA" in err and "Msamples_s" in err
