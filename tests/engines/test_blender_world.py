"""A 2 x 2 world in Blender 5.0: every tile's GLB (the Godot scene's), glTF, OBJ and EXR imports with the
right counts and heights, and the tiles, placed where world.tscn and their sidecars say, meet without a gap.

`terrain-gan world --tiles 2x2 --tile-size 65 --formats godot,gltf,obj,npy --colors height --texture relief`
with the shipped model; one Blender process imports all sixteen files.
"""

from __future__ import annotations

import json
import re

import imageio.v3 as iio
import numpy as np
import pytest
from test_export_support import read_glb

from engines.engine_support import N, on_grid, only_mesh, run_blender, texel_at_cells

CELL, GRID = 90.0, (2, 2)
TILES = [(x, z) for z in range(GRID[1]) for x in range(GRID[0])]  # x east, z south (row 0 = north)
MESHES = (".glb", ".gltf", ".obj")


@pytest.fixture(scope="module")
def world(blender, world_dir, tmp_path_factory):
    """(folder, {tile: float32 heights}, {tile: sidecar}, {tile: place from world.tscn}, Blender's report)."""
    out = world_dir
    heights = {t: np.load(out / f"tile_{t[0]}_{t[1]}.npy") for t in TILES}
    sides = {t: json.loads((out / f"tile_{t[0]}_{t[1]}.json").read_text()) for t in TILES}
    # world.tscn: one instance per tile, Transform3D(basis..., origin) in Godot's axes (those of glTF).
    scene = (out / "world.tscn").read_text()
    places = {(int(x), int(z)): tuple(float(v) for v in origin.split(", "))
              for x, z, origin in re.findall(r'\[node name="tile_(\d+)_(\d+)" parent="\." instance=ExtResource\("\d+_tile"'
                                             r'\)\]\ntransform = Transform3D\(1, 0, 0, 0, 1, 0, 0, 0, 1, ([^)]+)\)', scene)}
    assert sorted(places) == sorted(TILES)
    files = [out / f"tile_{x}_{z}{s}" for x, z in TILES for s in MESHES + (".exr",)]
    report = run_blender(blender, files, tmp_path_factory.mktemp("blender"))
    return out, heights, sides, places, {k.removeprefix(str(out) + "/"): v for k, v in report.items()}


def blender_offset(place) -> np.ndarray:
    """A glTF / Godot position (x east, y up, z south) in Blender's axes (x east, y north, z up)."""
    x, y, z = place
    return np.array([x, -z, y])


def placed(world, tile, suffix):
    """(heights on the grid, vertex index grid, world-space vertices) of one tile moved to its place.

    A tile's mesh has its own north-west sample at the origin; world.tscn's transform places it."""
    _, _, _, places, report = world
    mesh = only_mesh(report[f"tile_{tile[0]}_{tile[1]}{suffix}"])
    z, index = on_grid(mesh, (N, N), CELL)
    return z, index, np.asarray(mesh["vertices"], np.float64) + blender_offset(places[tile])


def test_tiles_are_placed_where_their_sidecars_say(world):
    _, _, sides, places, _ = world
    for (x, z), place in places.items():
        assert place == (x * (N - 1) * CELL, 0.0, z * (N - 1) * CELL)  # tile z = 1 lies south (+Z in Godot)
        for fmt in ("glb", "gltf", "obj"):
            assert tuple(sides[(x, z)][fmt]["position"]) == place


@pytest.mark.parametrize("suffix", MESHES)
def test_every_tile_has_its_counts_and_heights(world, suffix):
    _, heights, sides, _, report = world
    fmt = suffix[1:]
    for tile in TILES:
        r = report[f"tile_{tile[0]}_{tile[1]}{suffix}"]
        mesh = only_mesh(r)
        assert len(mesh["vertices"]) == sides[tile][fmt]["vertices"] == N * N
        assert mesh["n_polygons"] == mesh["polygon_sizes"][3] == sides[tile][fmt]["faces"] == 2 * (N - 1) ** 2
        z, _, _ = placed(world, tile, suffix)
        np.testing.assert_allclose(z, heights[tile], rtol=0, atol=1e-3)
        assert abs(z.min() - sides[tile]["data_min_m"]) <= 0.01 and abs(z.max() - sides[tile]["data_max_m"]) <= 0.01


@pytest.mark.parametrize("suffix", MESHES)
def test_placed_tiles_meet_without_gaps(world, suffix):
    """Shared border vertices of neighbouring tiles coincide in Blender's world space: exactly from glTF
    (float32 both sides), to 1 mm from OBJ (text, and Blender's axis rotation)."""
    tol = 1e-3 if suffix == ".obj" else 0.0
    tiles = {t: placed(world, t, suffix) for t in TILES}
    pairs = 0
    for (x, z), (_, index, v) in tiles.items():
        for neighbour, mine, theirs in (((x + 1, z), np.s_[:, -1], np.s_[:, 0]),   # east: my last column
                                        ((x, z + 1), np.s_[-1, :], np.s_[0, :])):  # south: my last row
            if neighbour in tiles:
                _, index_b, v_b = tiles[neighbour]
                np.testing.assert_allclose(v[index[mine]], v_b[index_b[theirs]], rtol=0, atol=tol)
                pairs += 1
    assert pairs == 4


def test_the_world_rebuilds_in_blender_north_on_plus_y(world):
    """All tiles placed: one 129 x 129 grid equal to the tiles' heights stitched (row 0 = north on +Y), and
    the world's highest sample is the highest vertex, where the heightmap puts it."""
    _, heights, _, places, report = world
    big = np.full(((N - 1) * GRID[1] + 1, (N - 1) * GRID[0] + 1), np.nan)
    for (x, z), h in heights.items():
        big[(N - 1) * z:(N - 1) * z + N, (N - 1) * x:(N - 1) * x + N] = h
    v = np.concatenate([np.asarray(only_mesh(report[f"tile_{x}_{z}.glb"])["vertices"]) + blender_offset(places[(x, z)])
                        for x, z in TILES])
    z, _ = on_grid({"vertices": np.unique(v, axis=0)}, big.shape, CELL)
    np.testing.assert_array_equal(z, big.astype(np.float32))
    r, c = np.unravel_index(np.argmax(big), big.shape)
    top = v[np.argmax(v[:, 2])]
    assert 2 * r != big.shape[0] - 1 and 2 * c != big.shape[1] - 1 and r != c
    np.testing.assert_allclose(top[:2], [c * CELL, -r * CELL], rtol=0, atol=0)


@pytest.mark.parametrize("suffix", MESHES)
def test_every_tile_has_its_texture_and_vertex_colours(world, suffix):
    out, _, _, _, report = world
    for tile in TILES:
        name = f"tile_{tile[0]}_{tile[1]}{suffix}"
        mesh = only_mesh(report[name])
        assert list(mesh["colors"]) == ["Color"]
        assert len(mesh["colors"]["Color"]["color"]) in (N * N, 6 * (N - 1) ** 2)  # per vertex or per corner
        images = {i["name"]: i for i in report[name]["images"]}
        (image_name,) = mesh["base_color_images"]
        png = (iio.imread(out / f"tile_{tile[0]}_{tile[1]}_texture.png") if suffix == ".obj"
               else iio.imread(read_glb(out / f"tile_{tile[0]}_{tile[1]}.glb")["image"]))
        assert images[image_name]["size"] == [N - 1, N - 1] and png.shape == (N - 1, N - 1, 3)
        _, index, _ = placed(world, tile, suffix)
        texels = np.rint(texel_at_cells(mesh, images[image_name], index)[..., :3] * 255).astype(np.uint8)
        np.testing.assert_array_equal(texels, png)  # the file's texture, north on top, one texel per cell


def test_exr_tiles_read_as_their_heights(world):
    _, heights, _, _, report = world
    for (x, z), h in heights.items():
        (image,) = report[f"tile_{x}_{z}.exr"]["images"]
        assert image["size"] == [N, N] and image["is_float"]
        np.testing.assert_array_equal(np.asarray(image["pixels"], np.float32)[::-1, :, 0], h)
