"""Mesh exports (GLB, .gltf + .bin, OBJ) read back exactly: counts, bounds, heights, normals, UVs, winding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_export_support import (
    face_normals_y,
    linear_to_srgb,
    read_glb,
    read_gltf,
    read_obj,
    srgb_to_linear,
    surface,
)

import exporters
from exporters import ExportOptions, export_files, write_files
from exporters.errors import ExportError
from exporters.grid import TerrainGrid, index_dtype

CELL = 30.0


def export(tmp_path, h, formats, **kw):
    """Writes an export of `h` under tmp_path/t; returns the written paths."""
    return write_files(export_files(h, tmp_path / "t", formats, cell_size_m=kw.pop("cell", CELL), **kw))


def expected_normals(h: np.ndarray, cell: float, k: float = 1.0) -> np.ndarray:
    """Unit normals of y(x, z) by central differences in float64, one-sided at the edges (np.gradient)."""
    dz_drow, dz_dcol = np.gradient(h.astype(np.float64) * k, cell)
    n = np.stack([-dz_dcol, np.ones_like(h, np.float64), -dz_drow], -1)
    return (n / np.linalg.norm(n, axis=-1, keepdims=True)).reshape(-1, 3)


@pytest.mark.parametrize("reader, fmt", [(read_glb, "glb"), (read_gltf, "gltf")])
def test_gltf_round_trip_is_exact(tmp_path, reader, fmt):
    h = surface(17, 29)
    export(tmp_path, h, fmt)
    m = reader(tmp_path / f"t.{fmt}")
    rows, cols = h.shape
    pos = m["POSITION"]
    assert pos.shape == (rows * cols, 3) and m["indices"].shape == (2 * (rows - 1) * (cols - 1), 3)
    # Heights at every sample, exactly; x east and z south on the cell grid.
    np.testing.assert_array_equal(pos[:, 1].reshape(rows, cols), h)
    np.testing.assert_array_equal(pos[:, 0].reshape(rows, cols), np.broadcast_to(np.arange(cols) * CELL, h.shape))
    np.testing.assert_array_equal(pos[:, 2].reshape(rows, cols), np.broadcast_to(np.arange(rows)[:, None] * CELL,
                                                                                 h.shape))
    acc = m["doc"]["accessors"][0]
    assert acc["min"] == [0.0, float(h.min()), 0.0] and acc["max"] == [(cols - 1) * CELL, float(h.max()),
                                                                       (rows - 1) * CELL]
    assert (face_normals_y(pos, m["indices"]) > 0).all()  # counter-clockwise seen from above
    np.testing.assert_allclose(m["NORMAL"], expected_normals(h, CELL), atol=2e-6)
    uv = m["TEXCOORD_0"].reshape(rows, cols, 2)
    np.testing.assert_allclose(uv[0, :, 0], np.linspace(0, 1, cols), atol=1e-7)
    np.testing.assert_allclose(uv[:, 0, 1], np.linspace(0, 1, rows), atol=1e-7)  # v = 0 on the north edge
    assert m["index_type"] == "<u2" and "COLOR_0" not in m


def test_glb_reads_back_with_trimesh(tmp_path):
    import trimesh

    h = surface(9, 12)
    export(tmp_path, h, "glb")
    scene = trimesh.load(tmp_path / "t.glb", process=False)
    (mesh,) = scene.geometry.values()
    assert mesh.vertices.shape == (9 * 12, 3) and mesh.faces.shape == (2 * 8 * 11, 3)
    np.testing.assert_array_equal(mesh.bounds, [[0, h.min(), 0], [11 * CELL, h.max(), 8 * CELL]])
    np.testing.assert_array_equal(mesh.vertices[:, 1].reshape(9, 12), h)


def read_glb_of(tmp_path, h):
    """The GLB of `h` (default options), as a reference for the OBJ's numbers."""
    write_files(export_files(h, tmp_path / "ref", "glb", cell_size_m=CELL))
    return read_glb(tmp_path / "ref.glb")


def test_obj_round_trip(tmp_path):
    h = surface(13, 21)
    export(tmp_path, h, "obj")
    m = read_obj(tmp_path / "t.obj")
    rows, cols = h.shape
    assert m["v"].shape == (rows * cols, 3) and m["f"].shape == (2 * (rows - 1) * (cols - 1), 3)
    # Text keeps 4 decimals for positions, 5 for normals, 6 for UVs (rounded half to even): exactly those.
    dec = lambda a, d: np.rint(np.asarray(a, np.float64) * 10.0**d) / 10.0**d  # noqa: E731
    g = read_glb_of(tmp_path, h)
    np.testing.assert_array_equal(m["v"], dec(g["POSITION"], 4))
    np.testing.assert_array_equal(m["vn"], dec(g["NORMAL"], 5))
    np.testing.assert_array_equal(m["vt"], dec(np.c_[g["TEXCOORD_0"][:, 0], 1 - g["TEXCOORD_0"][:, 1].astype(
        np.float64)], 6))
    assert np.abs(m["v"][:, 1].reshape(rows, cols) - h).max() <= 5e-5
    np.testing.assert_array_equal(m["v"][:, 0].reshape(rows, cols), np.broadcast_to(np.arange(cols) * CELL, h.shape))
    assert (face_normals_y(m["v"], m["f"]) > 0).all()
    np.testing.assert_allclose(m["vn"], expected_normals(h, CELL), atol=6e-6)
    np.testing.assert_allclose(m["vt"][:cols, 1], 1.0)  # OBJ's v runs up: the north row is at the top
    assert m["rgb"] is None and not (tmp_path / "t.mtl").exists()
    assert [p[0] for p in m["other"]] == ["s"]


def test_obj_matches_glb_vertex_for_vertex(tmp_path):
    h = surface(10, 7)
    export(tmp_path, h, "obj,glb", options=ExportOptions(skirt_m=50, colors="height"))
    o, g = read_obj(tmp_path / "t.obj"), read_glb(tmp_path / "t.glb")
    np.testing.assert_allclose(o["v"], g["POSITION"], atol=5e-5)
    np.testing.assert_array_equal(o["f"], g["indices"])
    # OBJ holds the colour map's sRGB bytes; glTF's COLOR_0 the same colours as linear light (the spec's
    # definition), normalized 16-bit, alpha opaque.
    srgb_bytes = np.rint(o["rgb"] * 255.0)
    np.testing.assert_allclose(o["rgb"], srgb_bytes / 255.0, atol=5e-5)
    np.testing.assert_array_equal(g["COLOR_0"][:, :3], np.rint(srgb_to_linear(srgb_bytes / 255.0) * 65535))
    assert g["COLOR_0"].dtype == np.dtype("<u2") and (g["COLOR_0"][:, 3] == 65535).all()
    accessor = g["doc"]["accessors"][g["doc"]["meshes"][0]["primitives"][0]["attributes"]["COLOR_0"]]
    assert accessor["normalized"] is True and np.ptp(srgb_bytes) > 50


def test_textured_obj_has_mtl_and_png(tmp_path):
    import imageio.v3 as iio

    h = surface(9, 14)
    paths = export(tmp_path, h, "obj", options=ExportOptions(texture="slope"))
    assert sorted(p.name for p in paths) == ["t.mtl", "t.obj", "t_texture.png"]
    m = read_obj(tmp_path / "t.obj")
    assert m["other"][0] == ["mtllib", "t.mtl"] and ["usemtl", "terrain"] in m["other"]
    assert "map_Kd t_texture.png" in (tmp_path / "t.mtl").read_text()
    img = iio.imread(tmp_path / "t_texture.png")
    assert img.shape == (8, 13, 3) and img.dtype == np.uint8  # one pixel per cell


@pytest.mark.parametrize("fmt", ["glb", "gltf"])
def test_texture_is_embedded_and_equals_the_obj_png(tmp_path, fmt):
    h = surface(9, 14)
    export(tmp_path, h, f"{fmt},obj", options=ExportOptions(texture="relief"))
    m = (read_glb if fmt == "glb" else read_gltf)(tmp_path / f"t.{fmt}")
    assert m["image"] == (tmp_path / "t_texture.png").read_bytes()
    assert m["doc"]["materials"][0]["pbrMetallicRoughness"]["baseColorTexture"] == {"index": 0}


def test_vertex_colours_follow_the_height_range(tmp_path):
    h = np.array([[0.0, 50.0], [100.0, 100.0]], np.float32)
    export(tmp_path, h, "glb", options=ExportOptions(colors="height"), height_range=(0.0, 200.0))
    rgba = read_glb(tmp_path / "t.glb")["COLOR_0"]
    # 0 m is the bottom of the range (lowland green); 100 m is half way, not the top (white): in linear light.
    green, white = (np.rint(srgb_to_linear(np.array(c) / 255.0) * 65535).tolist() + [65535]
                    for c in ([70, 120, 60], [245, 245, 245]))
    assert rgba[0].tolist() == green == [4014, 12309, 2961, 65535] and rgba[2].tolist() != white
    np.testing.assert_array_equal(rgba[2], rgba[3])


def test_linear_16_bit_colours_keep_every_srgb_step():
    """glTF's linear COLOR_0 in 16 bits: each of the 256 sRGB bytes encodes to its own code, and decodes
    (sRGB transfer function) back to itself; 8-bit linear would merge dark steps (banding)."""
    from exporters.colors import linear_rgb16

    codes = linear_rgb16(np.arange(256, dtype=np.uint8)).astype(np.float64)
    np.testing.assert_array_equal(codes, np.rint(srgb_to_linear(np.arange(256) / 255.0) * 65535))
    back = linear_to_srgb(codes / 65535)
    np.testing.assert_array_equal(np.rint(back * 255), np.arange(256))
    assert len(np.unique(np.rint(srgb_to_linear(np.arange(256) / 255.0) * 255))) < 200  # why not 8 bits


def test_scale_and_height_scale(tmp_path):
    h = surface(6, 5)
    export(tmp_path, h, "glb", options=ExportOptions(scale=0.5, height_scale=3.0))
    m = read_glb(tmp_path / "t.glb")
    np.testing.assert_array_equal(m["POSITION"][:, 1].reshape(h.shape), h * np.float32(1.5))
    assert m["POSITION"][:, 0].max() == 4 * CELL * 0.5
    # `scale` keeps the shape, so normals see only the exaggeration.
    np.testing.assert_allclose(m["NORMAL"], expected_normals(h, CELL, 3.0), atol=2e-6)


@pytest.mark.parametrize("lod, kept", [(2, [0, 2, 4, 6, 8, 10, 12]), (4, [0, 4, 8, 12]), (5, [0, 5, 10, 12])])
def test_lod_keeps_every_kth_sample_and_the_borders(tmp_path, lod, kept):
    h = surface(13, 13)
    export(tmp_path, h, "glb", options=ExportOptions(lod=lod))
    m = read_glb(tmp_path / "t.glb")
    n = len(kept)
    assert m["POSITION"].shape == (n * n, 3) and m["indices"].shape == (2 * (n - 1) ** 2, 3)
    np.testing.assert_array_equal(m["POSITION"][:, 1].reshape(n, n), h[np.ix_(kept, kept)])
    full = expected_normals(h, CELL).reshape(13, 13, 3)[np.ix_(kept, kept)].reshape(-1, 3)
    np.testing.assert_allclose(m["NORMAL"], full, atol=2e-6)  # normals of the full-resolution surface
    assert (face_normals_y(m["POSITION"], m["indices"]) > 0).all()


def test_skirt_hangs_below_every_border_vertex(tmp_path):
    h = surface(5, 7)
    export(tmp_path, h, "glb", options=ExportOptions(skirt_m=40.0))
    m = read_glb(tmp_path / "t.glb")
    grid, border = 5 * 7, 2 * (5 + 7) - 4
    pos = m["POSITION"]
    assert pos.shape == (grid + border, 3) and m["indices"].shape == (2 * 4 * 6 + 2 * border, 3)
    skirt = pos[grid:]
    on_border = {tuple(p) for p in pos[:grid][np.r_[0:7, 28:35, 7:28:7, 13:34:7]][:, [0, 2]]}
    assert {tuple(p) for p in skirt[:, [0, 2]]} == on_border
    top = {(x, z): y for x, y, z in pos[:grid]}
    np.testing.assert_array_equal(skirt[:, 1], [top[(x, z)] - np.float32(40.0) for x, _, z in skirt])
    assert m["doc"]["accessors"][0]["min"][1] == float(skirt[:, 1].min())
    # Skirt faces are vertical and face outward (away from the tile's centre).
    faces = m["indices"][2 * 4 * 6:]
    a, b, c = (pos[faces[:, k]].astype(np.float64) for k in range(3))
    n = np.cross(b - a, c - a)
    centre = (a + b + c) / 3 - [3 * CELL, 0, 2 * CELL]
    assert (np.abs(n[:, 1]) < 1e-9).all() and ((n[:, [0, 2]] * centre[:, [0, 2]]).sum(1) > 0).all()


def test_index_type_switches_at_65536_vertices(tmp_path):
    assert index_dtype(65535) == np.uint16 and index_dtype(65536) == np.uint32
    export(tmp_path, np.zeros((256, 256), np.float32), "glb")  # 65536 vertices
    m = read_glb(tmp_path / "t.glb")
    assert m["index_type"] == "<u4" and m["indices"].max() == 65535
    export(tmp_path, np.zeros((255, 257), np.float32), "glb")  # 65535 vertices
    assert read_glb(tmp_path / "t.glb")["index_type"] == "<u2"


def test_glb_beyond_4_gib_is_refused_before_anything_is_built(tmp_path):
    from exporters.gltf import check_glb_size

    n = 12000  # 144 M vertices x 32 bytes: beyond a GLB's uint32 length
    idx = np.arange(n)
    huge = TerrainGrid(np.broadcast_to(np.float32(0), (n, n)), None, idx, idx, 1.0, 1.0, 1.0, 0.0, None)
    with pytest.raises(ExportError, match="beyond GLB's 4 GiB limit") as e:
        check_glb_size(huge, None, "big.glb")
    assert "\n" not in str(e.value)
    check_glb_size(TerrainGrid(huge.height, None, idx[:8000], idx[:8000], 1.0, 1.0, 1.0, 0.0, None), None, "ok")


def test_glb_limit_error_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(exporters.gltf, "GLB_LIMIT", 10_000)
    with pytest.raises(ExportError, match="4 GiB"):
        export(tmp_path, surface(33, 33), "glb,obj")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(2, 12), cols=st.integers(2, 12), lod=st.integers(1, 5), skirt=st.sampled_from([0.0, 7.5]),
       seed=st.integers(0, 2**16))
def test_any_grid_round_trips(tmp_path_factory, rows, cols, lod, skirt, seed):
    tmp = tmp_path_factory.mktemp("g")
    h = surface(rows, cols, seed)
    export(tmp, h, "glb", options=ExportOptions(lod=lod, skirt_m=skirt))
    m = read_glb(tmp / "t.glb")
    r, c = len(range(0, rows - 1, lod)) + 1, len(range(0, cols - 1, lod)) + 1
    border = 2 * (r + c) - 4 if skirt else 0
    assert m["POSITION"].shape == (r * c + border, 3)
    assert m["indices"].shape == (2 * (r - 1) * (c - 1) + 2 * border, 3)
    assert m["indices"].max() == r * c + border - 1
    grid = m["POSITION"][:r * c]
    assert (face_normals_y(grid, m["indices"][:2 * (r - 1) * (c - 1)]) > 0).all()
    assert grid[:, 1].min() >= h.min() and grid[:, 1].max() <= h.max()
    np.testing.assert_allclose(np.linalg.norm(m["NORMAL"], axis=1), 1.0, atol=1e-6)
