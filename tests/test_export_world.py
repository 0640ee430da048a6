"""World tiles: adjacent tiles meet bit for bit (positions, normals, colours, codes), and the world files
(Godot scene, Unity multi-tile JSON and `_X_Z` names) put every tile back where it came from.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from test_export_support import read_glb, surface

from exporters import ExportOptions, export_files, padded_tile, quantize_u16, tile_stem, world_files, write_files
from exporters.errors import ExportError
from exporters.tiles import check_tiles, tile_origin_m

CELL = 30.0
NX, NZ, N = 3, 2, 33  # 3 tiles east, 2 rows south, 33 x 33 samples each


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A 65 x 97 map cut into 3 x 2 tiles, each exported (GLB, R16, Unity) alongside the whole map."""
    out = tmp_path_factory.mktemp("world")
    big = surface((N - 1) * NZ + 1, (N - 1) * NX + 1, seed=7)
    tiles = check_tiles({(x, z): big[(N - 1) * z:(N - 1) * z + N, (N - 1) * x:(N - 1) * x + N]
                         for x in range(NX) for z in range(NZ)})
    rng = (float(big.min()), float(big.max()))
    options = ExportOptions(colors="relief", texture="slope")
    for (x, z), h in tiles.items():
        write_files(export_files(h, tile_stem(out, (x, z)), "glb,r16,unity", cell_size_m=CELL, height_range=rng,
                                 padded=padded_tile(tiles, (x, z)), tile=(x, z), grid=(NX, NZ), options=options))
        write_files(export_files(h, out / f"lod_{x}_{z}", "glb", cell_size_m=CELL, height_range=rng,
                                 padded=padded_tile(tiles, (x, z)), tile=(x, z), grid=(NX, NZ),
                                 options=ExportOptions(lod=4)))
    write_files(export_files(big, out / "whole", "glb,r16", cell_size_m=CELL, options=options))
    write_files(export_files(big, out / "whole_lod", "glb", cell_size_m=CELL, options=ExportOptions(lod=4)))
    write_files(world_files(out, (NX, NZ), N, CELL, rng, "godot,unity", options))
    return out, big, tiles, rng


def world_mesh(out, stem, x, z):
    """A tile's GLB with positions moved to world metres (north-west corner of the world at 0, 0)."""
    m = read_glb(out / f"{stem}_{x}_{z}.glb")
    x0, z0 = tile_origin_m((x, z), (N, N), CELL)
    m["world"] = m["POSITION"].astype(np.float64) + [x0, 0.0, z0]
    return m


@pytest.mark.parametrize("stem, whole, k", [("tile", "whole", 1), ("lod", "whole_lod", 4)])
def test_tiles_equal_the_whole_map_mesh_bit_for_bit(world, stem, whole, k):
    out, big, tiles, _ = world
    w = read_glb(out / f"{whole}.glb")
    r, c = (big.shape[0] - 1) // k + 1, (big.shape[1] - 1) // k + 1
    n = (N - 1) // k + 1
    for (x, z) in tiles:
        t = world_mesh(out, stem, x, z)
        rows = slice(z * (n - 1), z * (n - 1) + n)
        cols = slice(x * (n - 1), x * (n - 1) + n)
        np.testing.assert_array_equal(t["world"].reshape(n, n, 3),
                                      w["POSITION"].reshape(r, c, 3)[rows, cols].astype(np.float64))
        assert t["NORMAL"].reshape(n, n, 3).tobytes() == w["NORMAL"].reshape(r, c, 3)[rows, cols].tobytes()
        if k == 1:
            assert t["COLOR_0"].reshape(n, n, 4).tobytes() == w["COLOR_0"].reshape(r, c, 4)[rows, cols].tobytes()


@pytest.mark.parametrize("stem", ["tile", "lod"])
def test_adjacent_tiles_share_border_positions_and_normals(world, stem):
    out, _, tiles, _ = world
    meshes = {key: world_mesh(out, stem, *key) for key in tiles}
    n = int(round(np.sqrt(len(meshes[(0, 0)]["POSITION"]))))
    for (x, z), a in meshes.items():
        pa, na = a["world"].reshape(n, n, 3), a["NORMAL"].reshape(n, n, 3)
        for (dx, dz), edge_a, edge_b in (((1, 0), (slice(None), -1), (slice(None), 0)),
                                         ((0, 1), (-1, slice(None)), (0, slice(None)))):
            b = meshes.get((x + dx, z + dz))
            if b is None:
                continue
            pb, nb = b["world"].reshape(n, n, 3), b["NORMAL"].reshape(n, n, 3)
            np.testing.assert_array_equal(pa[edge_a], pb[edge_b])
            assert na[edge_a].tobytes() == nb[edge_b].tobytes()


def test_textures_and_16_bit_codes_equal_the_whole_maps(world):
    import imageio.v3 as iio

    out, big, tiles, (lo, hi) = world
    whole_codes = np.fromfile(out / "whole.r16", "<u2").reshape(big.shape)
    np.testing.assert_array_equal(whole_codes, quantize_u16(big, lo, hi))
    whole_tex = read_glb(out / "whole.glb")["image"]
    whole_rgb = iio.imread(whole_tex)
    assert whole_rgb.shape == (big.shape[0] - 1, big.shape[1] - 1, 3)  # one pixel per cell
    for (x, z) in tiles:
        rows, cols = slice(32 * z, 32 * z + N), slice(32 * x, 32 * x + N)
        codes = np.fromfile(out / f"tile_{x}_{z}.r16", "<u2").reshape(N, N)
        np.testing.assert_array_equal(codes, whole_codes[rows, cols])
        cells = slice(32 * z, 32 * z + 32), slice(32 * x, 32 * x + 32)
        np.testing.assert_array_equal(iio.imread(read_glb(out / f"tile_{x}_{z}.glb")["image"]), whole_rgb[cells])
        side = json.loads((out / f"tile_{x}_{z}.json").read_text())
        assert (side["min_height_m"], side["max_height_m"]) == (lo, hi)
        assert side["tile"] == [x, z] and side["grid"] == [NX, NZ]


def test_godot_scene_places_every_tile_where_it_came_from(world):
    out, big, tiles, _ = world
    text = (out / "world.tscn").read_text()
    assert text.startswith(f"[gd_scene load_steps={NX * NZ + 1} format=3]\n")
    resources = dict(re.findall(r'\[ext_resource type="PackedScene" path="([^"]+)" id="([^"]+)"\]', text))
    nodes = re.findall(r'\[node name="([^"]+)" parent="\." instance=ExtResource\("([^"]+)"\)\]\n'
                       r'transform = Transform3D\(1, 0, 0, 0, 1, 0, 0, 0, 1, ([^,]+), ([^,]+), ([^)]+)\)', text)
    assert len(nodes) == NX * NZ and len(resources) == NX * NZ
    by_id = {v: k for k, v in resources.items()}
    rebuilt = np.full(big.shape, np.nan)
    for name, rid, tx, ty, tz in nodes:
        m = read_glb(out / by_id[rid])
        p = m["POSITION"].astype(np.float64) + [float(tx), float(ty), float(tz)]
        rebuilt[np.rint(p[:, 2] / CELL).astype(int), np.rint(p[:, 0] / CELL).astype(int)] = p[:, 1]
        assert by_id[rid] == f"{name}.glb"
    np.testing.assert_array_equal(rebuilt, big)


def test_unity_x_z_names_and_positions_rebuild_the_map(world):
    out, big, tiles, (lo, hi) = world
    doc = json.loads((out / "unity_terrain.json").read_text())
    assert doc["toolbox"]["tiles_x"] == NX and doc["toolbox"]["tiles_z"] == NZ
    assert doc["import_raw"] == {"depth": "Bit 16", "resolution": N, "byte_order": "Windows",
                                 "flip_vertically": False}
    assert len(doc["tiles"]) == NX * NZ
    q = quantize_u16(big, lo, hi)
    rebuilt = np.full(big.shape, -1, np.int64)
    for t in doc["tiles"]:
        X, Z = map(int, re.fullmatch(r"tile_unity_(\d+)_(\d+)\.raw", t["file"]).groups())
        assert (X, Z) == (t["x"], t["z"])
        assert t["position"]["x"] == X * 32 * CELL and t["position"]["z"] == Z * 32 * CELL
        codes = np.fromfile(out / t["file"], "<u2").reshape(N, N)
        # Unity: +Z north, the file's first row at the terrain's z = 0 (south) edge.
        south_row = big.shape[0] - 1 - 32 * Z
        rebuilt[south_row - 32:south_row + 1, 32 * X:32 * X + N] = codes[::-1]
        per_tile = json.loads((out / t["file"].replace(".raw", ".json")).read_text())["unity"]
        assert per_tile["position"] == t["position"] and per_tile["tile"] == {"x": X, "z": Z}
    np.testing.assert_array_equal(rebuilt, q)
    # Code 65535 lands exactly on the world's top with Unity's q / 65536 rule.
    height = doc["terrain_size"]["y"]
    assert doc["position"]["y"] + 65535 / 65536 * height == pytest.approx(hi, abs=1e-6)


def test_world_files_need_only_the_grid(tmp_path):
    files = world_files(tmp_path, (2, 1), (17, 33), 10.0, (0.0, 50.0), "glb", ExportOptions(scale=0.5))
    assert list(files) == [tmp_path / "world.tscn"]
    text = files[tmp_path / "world.tscn"].decode()
    assert "path=\"tile_1_0.glb\"" in text and "0, 0, 1, 160.0, 0.0, 0.0)" in text  # (33 - 1) * 10 m * 0.5
    assert world_files(tmp_path, (2, 2), 33, 10.0, (0.0, 50.0), "png16,r16") == {}


@pytest.mark.parametrize("kwargs, match", [
    ({"tile": (0, 0)}, "needs grid"),
    ({"tile": (3, 0), "grid": (3, 2)}, "outside"),
    ({"tile": (0.5, 0), "grid": (3, 2)}, "whole numbers"),
    ({"grid": (0, 2)}, "at least 1 x 1"),
    ({"padded": np.zeros((5, 5))}, "padded heightmap must be"),
    ({"padded": np.zeros((35, 35))}, "interior differs"),
    ({"height_range": (0.0, 1.0)}, "outside height_range"),
    ({"options": {"lod": 2}}, "ExportOptions"),
])
def test_bad_tile_arguments_are_one_line(tmp_path, kwargs, match):
    with pytest.raises(ExportError, match=match) as e:
        export_files(surface(N, N), tmp_path / "t", "glb", cell_size_m=CELL, **kwargs)
    assert "\n" not in str(e.value)


def test_world_files_refuse_a_size_unity_cannot_take(tmp_path):
    with pytest.raises(ExportError, match="2\\^n\\+1"):
        world_files(tmp_path, (2, 2), 100, CELL, (0.0, 1.0), "unity")
    files = world_files(tmp_path, (2, 2), 100, CELL, (0.0, 1.0), "unity", ExportOptions(resample=True))
    assert json.loads(files[tmp_path / "unity_terrain.json"])["heightmap_resolution"] == 129


def test_tiles_that_do_not_share_borders_are_refused():
    a = surface(5, 5)
    with pytest.raises(ExportError, match="share their border"):
        check_tiles({(0, 0): a, (1, 0): a + 1})


def test_without_the_ring_border_normals_differ(world, tmp_path):
    """The control for the seam tests: one-sided edge normals do not match the neighbour's."""
    out, _, tiles, rng = world
    write_files(export_files(tiles[(0, 0)], tmp_path / "alone", "glb", cell_size_m=CELL, height_range=rng))
    alone, ringed = read_glb(tmp_path / "alone.glb"), read_glb(out / "tile_0_0.glb")
    east = np.s_[:, -1]
    assert (alone["NORMAL"].reshape(N, N, 3)[east] != ringed["NORMAL"].reshape(N, N, 3)[east]).any()
    west = np.s_[:-1, 0]  # the world's west edge (above the south neighbour's row): no ring either way
    assert alone["NORMAL"].reshape(N, N, 3)[west].tobytes() == ringed["NORMAL"].reshape(N, N, 3)[west].tobytes()
