"""A map and a 2 x 2 world in Godot 4 (headless): `godot --import` imports the GLBs of `--formats godot`
as scenes, then t.tscn and world.tscn are instanced as a game would, and every vertex is read back in
world space. Checks the counts, the heights to the centimetre, north = -Z, and that world.tscn's tiles
meet without a gap and carry their vertex colours (the colour map's sRGB, from glTF's linear COLOR_0)
and texture.

The project keeps Godot's default import settings: the `NAME.glb.import` the bundle writes beside each
GLB turns off Godot's mesh compression, which otherwise stores vertex positions in 16 bits over the
mesh's bounds and moves them by centimetres to metres (the control test imports the GLB without it).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engines.engine_support import N, godot_to_blender, on_grid, run_godot
from exporters.colors import color_map

CELL, GRID = 90.0, (2, 2)
TILES = [(x, z) for z in range(GRID[1]) for x in range(GRID[0])]


@pytest.fixture(scope="module")
def made(godot, map_dir, world_dir, tmp_path_factory):
    """Godot's report on res://t.tscn (the map) and res://w/world.tscn (the world), with the heights."""
    work = tmp_path_factory.mktemp("godot")
    project = work / "project"
    (project / "w").mkdir(parents=True)
    for name in ("t.glb", "t.glb.import", "t.tscn"):
        shutil.copy(map_dir / name, project / name)
    for path in [*world_dir.glob("tile_*.glb"), *world_dir.glob("tile_*.glb.import"), world_dir / "world.tscn"]:
        shutil.copy(path, project / "w" / path.name)
    assert len(list((project / "w").glob("*.glb.import"))) == len(TILES)
    report = run_godot(godot, project, ["res://t.tscn", "res://w/world.tscn"], work)
    report["t.glb.import"] = (project / "t.glb.import").read_text()  # as Godot rewrote it
    heights = {t: np.load(world_dir / f"tile_{t[0]}_{t[1]}.npy") for t in TILES}
    return report, np.load(map_dir / "t.npy"), json.loads((map_dir / "t.json").read_text()), heights


def test_godot_imports_the_glb_with_our_settings(made, map_dir):
    """Godot read the bundle's t.glb.import, imported t.glb with it and wrote the file back in full (its uid,
    the imported scene), keeping mesh compression off; the rest are Godot's defaults."""
    report = made[0]
    ours = (map_dir / "t.glb.import").read_text()
    theirs = report["t.glb.import"]
    assert "meshes/force_disable_compression=true" in ours.splitlines()
    assert theirs != ours and 'uid="uid://' in theirs and 'source_file="res://t.glb"' in theirs
    assert "meshes/force_disable_compression=true" in theirs.splitlines()
    assert "meshes/ensure_tangents=true" in theirs.splitlines()  # a default Godot filled in


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


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """The sRGB decoding (IEC 61966-2-1)."""
    return np.where(c <= 0.04045, c / 12.92, np.power((np.maximum(c, 0.04045) + 0.055) / 1.055, 2.4))


def test_world_tiles_carry_their_colours_and_texture(made, world_dir):
    """Each tile has its texture and its vertex colours, and Godot holds the colours as the linear light
    glTF's COLOR_0 is (its material does not take them for sRGB): the height tint terrain-gan made (sRGB,
    over the world's height range), decoded, at every sample. To one step of 8 bits: Godot keeps vertex
    colours in 8 bits (linear, so dark tints show up to ~2 sRGB steps off: Godot's limit, not the file's)."""
    report, _, _, heights = made
    meshes = {m["name"]: m for m in report["res://w/world.tscn"]}
    for (x, z) in TILES:
        mesh = meshes[f"tile_{x}_{z}"]
        assert mesh["colors"] and mesh["vertex_color_is_albedo"] and mesh["albedo_texture_size"] == [N - 1, N - 1]
        local = godot_to_blender(mesh["vertices"]) - [x * (N - 1) * CELL, -z * (N - 1) * CELL, 0.0]
        _, index = on_grid({"vertices": local}, (N, N), CELL, tol=0.0)
        held = np.asarray(mesh["color_values"], np.float64).reshape(-1, 4)[index]
        side = json.loads((world_dir / f"tile_{x}_{z}.json").read_text())
        tint = color_map(heights[(x, z)], CELL, "height", (side["min_height_m"], side["max_height_m"])) / 255.0
        assert not mesh["vertex_color_is_srgb"]
        np.testing.assert_allclose(held[..., :3], srgb_to_linear(tint), rtol=0, atol=1.01 / 255)
        assert np.ptp(tint) > 0.2 and (held[..., 3] == 1.0).all()
    (plain,) = report["res://t.tscn"]
    assert not plain["colors"] and plain["albedo_texture_size"] == []


def test_without_the_import_file_godot_compresses_positions(godot, map_dir, tmp_path_factory):
    """The control: the same t.glb imported with Godot's defaults and no t.glb.import comes back off its grid
    (by about one 16-bit step of the map's 5.76 km width), which is why the bundle writes that file (and
    the README asks `--formats glb` users to untick compression by hand)."""
    work = tmp_path_factory.mktemp("godot_default")
    (work / "project").mkdir()
    for name in ("t.glb", "t.tscn"):
        shutil.copy(map_dir / name, work / "project" / name)
    (mesh,) = run_godot(godot, work / "project", ["res://t.tscn"], work)["res://t.tscn"]
    assert "meshes/force_disable_compression=false" in (work / "project" / "t.glb.import").read_text().splitlines()
    v = godot_to_blender(mesh["vertices"])
    lateral = np.abs(v[:, :2] / CELL - np.rint(v[:, :2] / CELL)).max() * CELL
    assert 0.01 < lateral < 2 * (N - 1) * CELL / 65535 + 1e-3
