"""Safety and determinism of what terrain_gan writes: no loader runs code, nothing lands outside the output
folder, memory is checked before work starts, and exports are the same bytes however a world is made."""

from __future__ import annotations

import hashlib
import pathlib
import pickle

import numpy as np
import pytest

import exporters
import terrain_gan
from exporters.errors import ExportError
from terrain_gan import pretrained
from terrain_gan.cli import main
from terrain_gan.dataset.core import load_dataset
from terrain_gan.dem.core import read_dem
from terrain_gan.errors import TerrainGanError
from terrain_gan.train import checkpoint
from terrain_gan.world import synth
from terrain_gan.world.maps import load_map


class _Bomb:
    """Unpickling this creates the file `marker`: proof that a loader executed code from a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


@pytest.fixture
def bombs(tmp_path):
    """Files carrying a pickle that would create tmp_path/pwned when loaded: .npy, .npz and a bare pickle."""
    marker = tmp_path / "pwned"
    bomb = np.array([_Bomb(marker)], dtype=object)
    np.save(tmp_path / "bomb.npy", bomb)
    np.savez(tmp_path / "bomb.npz", __meta__=bomb, height=bomb)
    (tmp_path / "pickle.npz").write_bytes(pickle.dumps(_Bomb(marker)))
    (tmp_path / "pickle.npy").write_bytes(pickle.dumps(_Bomb(marker)))
    return tmp_path, marker


def test_no_loader_executes_code_from_a_file(bombs):
    d, marker = bombs
    loaders = [
        lambda: pretrained.load_model(d / "bomb.npz"),
        lambda: pretrained.load_model(d / "pickle.npz"),
        lambda: checkpoint.read_meta(d / "bomb.npz"),
        lambda: load_dataset(d / "bomb.npz"),
        lambda: load_dataset(d / "pickle.npz"),
        lambda: read_dem(d / "bomb.npy", cell_size_m=30.0),
        lambda: read_dem(d / "pickle.npy", cell_size_m=30.0),
        lambda: read_dem(d / "bomb.npz", cell_size_m=30.0),
        lambda: load_map(d / "bomb.npy", extent=(64, 64)),
        lambda: exporters.read_heightmap(d / "bomb.npy"),  # the exporters' own error type
    ]
    for i, load in enumerate(loaders):
        with pytest.raises(ExportError if i == len(loaders) - 1 else TerrainGanError):
            load()
        assert not marker.exists(), f"loader {i} ran code from a file"


def test_checkpoints_refuse_unknown_formats(tmp_path, smoke_weights):
    """Only our .npz with our metadata loads: a plain npz, another format string, a text file are refused."""
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with np.load(smoke_weights) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["__meta__"] = np.frombuffer(b'{"format": "someone/else-v9", "kind": "weights"}', np.uint8)
    np.savez(tmp_path / "future.npz", **arrays)
    (tmp_path / "text.npz").write_text("weights")
    for name, message in (("plain", "no readable metadata"), ("future", "format 'someone/else-v9'"),
                          ("text", "not an .npz archive")):
        with pytest.raises(TerrainGanError, match=message):
            pretrained.load_model(tmp_path / f"{name}.npz")


def _files(folder: pathlib.Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_nothing_is_written_outside_the_output_folder(tmp_path, smoke_weights):
    """Out paths with `..` in them: every file each command writes lies in the folder its --out names."""
    sandbox = tmp_path / "sandbox"
    (sandbox / "a").mkdir(parents=True)
    (tmp_path / "canary.txt").write_text("left alone")
    model = ["--model", str(smoke_weights)]
    assert main(["generate", "--size", "33", "--out", str(sandbox / "a" / ".." / "g.png"),
                 "--also", "npy,glb,unity,godot,preview", *model]) == 0
    made = _files(sandbox)
    assert made and all(n.startswith("g") and "/" not in n for n in made), made
    assert main(["export", str(sandbox / "g.npy"), "--out", str(sandbox / "a" / ".." / "a" / "e"),
                 "--formats", "glb,obj,godot,unity"]) == 0
    assert {n for n in _files(sandbox) - made} and all(n.startswith("a/e") for n in _files(sandbox) - made)
    made = _files(sandbox)
    assert main(["world", "--seed", "1", "--tiles", "2x1", "--tile-size", "33", "--formats", "glb,godot,unity",
                 "--out", str(sandbox / "a" / ".." / "w"), *model]) == 0
    assert all(n.startswith("w/") for n in _files(sandbox) - made)
    assert _files(tmp_path) - {f"sandbox/{n}" for n in _files(sandbox)} == {"canary.txt"}


def test_memory_is_checked_before_any_work(smoke_weights, monkeypatch):
    """A 100000^2 single map is refused up front, pointing at `terrain-gan world` (CLI: test_generate)."""
    monkeypatch.setattr(synth.ChunkCache, "chunk", lambda *a: pytest.fail("work started"))
    with pytest.raises(TerrainGanError, match=r"100000x100000 needs about .* GiB.*terrain-gan world"):
        terrain_gan.generate(seed=1, size=100000, model=smoke_weights)


# ---- exports ---------------------------------------------------------------------------------------------


def test_height_range_equal_to_the_heights_up_to_float32_rounding_is_accepted(tmp_path):
    """Regression: (0.1, 0.3) used to be 'outside height_range [0.1, 0.3]' once the heights were float32."""
    files = exporters.world_files(tmp_path, (2, 2), 33, 30.0, (0.1, 0.3), "godot,unity")
    assert sorted(p.name for p in files) == ["unity_terrain.json", "world.tscn"]
    h = np.array([[0.1, 0.2], [0.3, 0.25]])  # float64 heights, range taken in float64
    made = exporters.export_files(h, tmp_path / "t", "png16,r16", cell_size_m=1.0, height_range=(h.min(), h.max()))
    codes = np.frombuffer(exporters.join_payload(made[tmp_path / "t.r16"]), "<u2").reshape(2, 2)
    assert codes.tolist() == [[0, 32768], [65535, 49151]]
    with pytest.raises(ExportError, match="outside height_range"):  # a real miss is still refused
        exporters.export_files(h, tmp_path / "t", "png16", cell_size_m=1.0, height_range=(0.1, 0.29))


def _digests(folder: pathlib.Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_mesh_and_engine_exports_are_the_same_bytes_in_any_tile_order(tmp_path, smoke_weights):
    """Meshes, textures and engine files of a world made in one go, or as jobs in reverse order, are
    byte-identical (heights across processes / Dask: test_world, test_world_dask; kills: test_hardening_crash)."""
    base = ["world", "--seed", "4", "--tiles", "3x2", "--tile-size", "33", "--model", str(smoke_weights),
            "--formats", "glb,gltf,obj,unity,godot,tif", "--texture", "relief", "--colors", "height"]
    assert main(base + ["--out", str(tmp_path / "one")]) == 0
    for x, z in (("2:3", "1:2"), ("0:2", "1:2"), ("2:3", "0:1"), ("0:2", "0:1")):
        assert main(base + ["--out", str(tmp_path / "jobs"), "--x", x, "--z", z]) == 0
    assert _digests(tmp_path / "jobs") == _digests(tmp_path / "one")
