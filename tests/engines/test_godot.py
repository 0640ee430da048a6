"""A map and a 2 x 2 world in Godot 4 (headless): `godot --import` imports the GLBs of `--formats godot`
as scenes, then t.tscn and world.tscn are instanced as a game would, and every vertex is read back in
world space. Checks the counts, the heights to the centimetre, north = -Z, and that world.tscn's tiles
meet without a gap and carry their vertex colours and texture.

Imported with *Force Disable Mesh Compression*, as the README says: Godot's default import stores vertex
positions in 16 bits over the mesh's bounds, which moves them by centimetres to metres (the control test).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engines.engine_support import N, godot_to_blender, on_grid, run_godot

CELL, GRID = 90.0, (2, 2)
TILES = [(x, z) for z in range(GRID[1]) for x in range(GRID[0])]


@pytest.fixture(scope="module")
def made(godot, map_dir, world_dir, tmp_path_factory):
    """Godot's report on res://t.tscn (the map) and res://w/world.tscn (the world), with the heights."""
    work = tmp_path_factory.mktemp("godot")
    project = work / "project"
    (project / "w").mkdir(parents=True)
    for name in ("t.glb", "t.tscn"):
        shutil.copy(map_dir / name, project / name)
    for path in [*world_dir.glob("tile_*.glb"), world_dir / "world.tscn"]:
        shutil.copy(path, project / "w" / path.name)
    report = run_godot(godot, project, ["res://t.tscn", "res://w/world.tscn"], work, compress_meshes=False)
    heights = {t: np.load(world_dir / f"tile_{t[0]}_{t[1]}.npy") for t in TILES}
    return report, np.load(map_dir / "t.npy"), json.loads((map_dir / "t.json").read_text()), heights


def test_the_map_scene_has_the_sidecars_counts_and_heights(made):
    report, h, side, _ = made
    assert report["godot"].startswith("4.")
    (mesh,) = report["res://t.tscn"]
    v = godot_to_blender(mesh["vertices"])
    assert len(v) == side["glb"]["vertices"] == N * N and mesh["faces"] == side["glb"]["faces"]
    # x = column * cell east, z = row * cell south (north = -Z), y = metres: sample by sample to 1 mm.
    z, _ = on_grid({"vertices": v}, h.shape, CELL)
    np.testing.assert_allclose(z, h, rtol=0, atol=1e-3)
    assert abs(z.min() - side["min_height_m"]) <= 0.01 and abs(z.max() - side["max_height_m"]) <= 0.01
    r, c = np.unravel_index(np.argmax(h), h.shape)
    top = np.asarray(mesh["vertices"]).reshape(-1, 3)[np.argmax(v[:, 2])]
    assert 2 * r != N - 1 and 2 * c != N - 1 and r != c
    assert (top[0], top[2]) == (c * CELL, r * CELL)  # Godot's own axes: the highest sample's row is +Z


def test_world_scene_tiles_meet_and_rebuild_the_world(made):
    report, _, _, heights = made
    meshes = {m["name"]: godot_to_blender(m["vertices"]) for m in report["res://w/world.tscn"]}
    assert sorted(meshes) == sorted(f"tile_{x}_{z}" for x, z in TILES)
    grids = {}
    for (x, z) in TILES:
        local = meshes[f"tile_{x}_{z}"] - [x * (N - 1) * CELL, -z * (N - 1) * CELL, 0.0]
        tz, index = on_grid({"vertices": local}, (N, N), CELL, tol=0.0)  # placed exactly: no offset error
        np.testing.assert_allclose(tz, heights[(x, z)], rtol=0, atol=1e-3)
        grids[(x, z)] = meshes[f"tile_{x}_{z}"][index]
    for (x, z), g in grids.items():  # shared borders coincide in world space, bit for bit
        if (x + 1, z) in grids:
            np.testing.assert_array_equal(g[:, -1], grids[(x + 1, z)][:, 0])
        if (x, z + 1) in grids:
            np.testing.assert_array_equal(g[-1, :], grids[(x, z + 1)][0, :])


def test_world_tiles_carry_their_colours_and_texture(made):
    report, _, _, _ = made
    for mesh in report["res://w/world.tscn"]:
        assert mesh["colors"] and mesh["albedo_texture_size"] == [N - 1, N - 1]
    (plain,) = report["res://t.tscn"]
    assert not plain["colors"] and plain["albedo_texture_size"] == []


def test_default_import_compresses_positions_so_the_readme_disables_it(godot, map_dir, tmp_path_factory):
    """The control: the same t.glb imported with Godot's defaults comes back off its grid (by about one
    16-bit step of the map's 5.76 km width), which is why the README says to disable mesh compression."""
    work = tmp_path_factory.mktemp("godot_default")
    (work / "project").mkdir()
    for name in ("t.glb", "t.tscn"):
        shutil.copy(map_dir / name, work / "project" / name)
    (mesh,) = run_godot(godot, work / "project", ["res://t.tscn"], work, compress_meshes=True)["res://t.tscn"]
    v = godot_to_blender(mesh["vertices"])
    lateral = np.abs(v[:, :2] / CELL - np.rint(v[:, :2] / CELL)).max() * CELL
    assert 0.01 < lateral < 2 * (N - 1) * CELL / 65535 + 1e-3
