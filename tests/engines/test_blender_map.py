"""One map in Blender 5.0: every mesh format terrain-gan writes imports with the right counts, heights,
orientation (README: north on +Y, east on +X, heights on +Z, metres), textures and vertex colours.

The files come from the CLI (`terrain-gan generate --also ...`, `terrain-gan export ...`) with the shipped
model; one Blender process imports all of them (File > Import defaults) and reports what it holds.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_export_support import read_glb, read_gltf, read_obj

from engines.engine_support import (
    HEIGHT_SCALE,
    SCALE,
    N,
    on_grid,
    only_mesh,
    per_vertex_colors,
    run_blender,
    texel_at_cells,
)
from exporters.colors import cell_colors, color_map

CELL = 90.0  # the shipped model's cells
PLAIN = ("t.glb", "t.gltf", "t.obj")  # `generate --also glb,gltf,obj,godot` (godot's mesh is t.glb)
COLOURED = ("c/t.glb", "c/t.gltf", "c/t.obj")  # `export --colors relief --texture height`
SCALED = ("s/t.glb", "s/t.obj")  # `export --height-scale 2 --scale 0.01`


@pytest.fixture(scope="module")
def made(blender, map_dir, tmp_path_factory):
    """The folder, the float32 heights (t.npy), the sidecar, and Blender's report on every file."""
    d = map_dir
    report = run_blender(blender, [d / n for n in PLAIN + COLOURED + SCALED + ("t.exr",)], tmp_path_factory.mktemp("blender"))
    h = np.load(d / "t.npy")
    assert h.shape == (N, N) and h.dtype == np.float32
    return d, h, json.loads((d / "t.json").read_text()), {k.removeprefix(str(d) + "/"): v for k, v in report.items()}


@pytest.mark.parametrize("name", PLAIN + COLOURED + SCALED)
def test_vertex_and_face_counts_are_the_sidecars(made, name):
    _, _, side, report = made
    mesh = only_mesh(report[name])
    assert report[name]["blender"].startswith("5.")
    fmt = name.rsplit(".", 1)[1]
    assert len(mesh["vertices"]) == side[fmt]["vertices"] == N * N
    assert mesh["n_polygons"] == side[fmt]["faces"] == 2 * (N - 1) ** 2
    assert mesh["polygon_sizes"][3] == mesh["n_polygons"]  # all triangles, none merged or dropped


@pytest.mark.parametrize("name", PLAIN + COLOURED + SCALED)
def test_every_vertex_is_where_the_readme_says(made, name):
    """x = column * cell east, y = -row * cell (row 0 = north on +Y), z = the height in metres (x scales)."""
    _, h, side, report = made
    k = (SCALE, SCALE * HEIGHT_SCALE) if name.startswith("s/") else (1.0, 1.0)
    z, _ = on_grid(only_mesh(report[name]), h.shape, CELL * k[0], tol=1e-3 * k[0])
    # The heights, sample by sample: exact to float32 in glTF, to the OBJ's 4 decimals (and Blender's
    # axis rotation) in OBJ.
    np.testing.assert_allclose(z, h * k[1], rtol=0, atol=1e-3 * max(k[1], 0.1))
    # The extremes are the sidecar's, to the centimetre.
    assert abs(z.min() - side["min_height_m"] * k[1]) <= 0.01 * k[1]
    assert abs(z.max() - side["max_height_m"] * k[1]) <= 0.01 * k[1]


@pytest.mark.parametrize("name", PLAIN + SCALED)
def test_the_highest_sample_is_the_highest_vertex_north_is_plus_y(made, name):
    """A known feature: the heightmap's top sample (row r from the north, column c from the west)."""
    _, h, _, report = made
    r, c = np.unravel_index(np.argmax(h), h.shape)
    # Off the centre lines and the diagonal: a north-south or east-west flip or a transpose would move it.
    assert 2 * r != N - 1 and 2 * c != N - 1 and r != c
    v = np.asarray(only_mesh(report[name])["vertices"])
    top = v[np.argmax(v[:, 2])]
    s = SCALE if name.startswith("s/") else 1.0
    np.testing.assert_allclose(top[:2], [c * CELL * s, -r * CELL * s], atol=1e-3)
    # North (row 0) is the mesh's +Y edge, east (the last column) its +X edge.
    assert v[:, 1].max() == pytest.approx(0.0, abs=1e-3) and v[:, 0].max() == pytest.approx((N - 1) * CELL * s)


def test_godot_scene_names_the_glb_blender_read(made):
    d, _, side, report = made
    assert side["godot"]["mesh"] == "t.glb" and side["godot"]["scene"] == "t.tscn"
    assert 'path="t.glb"' in (d / "t.tscn").read_text() and "t.glb" in report


def test_exr_reads_as_the_heights(made):
    """Blender loads the EXR as a float image whose R channel is the heights in metres, north on top."""
    _, h, _, report = made
    (image,) = report["t.exr"]["images"]
    assert image["size"] == [N, N] and image["is_float"]
    pixels = np.asarray(image["pixels"], np.float32)
    np.testing.assert_array_equal(pixels[::-1, :, 0], h)  # Blender's rows run bottom (south) to top


@pytest.mark.parametrize("name", PLAIN + SCALED)
def test_no_texture_or_colours_unless_asked(made, name):
    _, _, _, report = made
    mesh = only_mesh(report[name])
    assert mesh["colors"] == {} and not any(mesh["base_color_images"]) and report[name]["images"] == []


@pytest.mark.parametrize("name", COLOURED)
def test_texture_is_wired_to_base_color_and_lies_on_the_right_cells(made, name):
    """The --texture image feeds the material's Base Color, one pixel per cell, and through Blender's own
    UVs the texel at each cell's centre is that cell's colour (the height tint of its four samples)."""
    _, h, _, report = made
    mesh = only_mesh(report[name])
    images = {i["name"]: i for i in report[name]["images"]}
    (image_name,) = mesh["base_color_images"]
    image = images[image_name]
    assert image["size"] == [N - 1, N - 1] and image["colorspace"] == "sRGB"
    _, index = on_grid(mesh, h.shape, CELL)
    texels = np.rint(texel_at_cells(mesh, image, index)[..., :3] * 255).astype(np.uint8)
    np.testing.assert_array_equal(texels, cell_colors(color_map(h, CELL, "height")))


def srgb(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer function (IEC 61966-2-1)."""
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.power(linear, 1 / 2.4) - 0.055)


@pytest.mark.parametrize("name", COLOURED)
def test_vertex_colours_are_attached_to_the_right_vertices(made, name):
    """--colors: one colour attribute; at every sample it holds the colour the file gives that sample.

    glTF's COLOR_0 is linear by the spec, and Blender reads it so (storing it as sRGB bytes); OBJ colour
    extensions are read as sRGB. Compared as the sRGB bytes Blender keeps, to within one step."""
    d, h, _, report = made
    mesh = only_mesh(report[name])
    assert list(mesh["colors"]) == ["Color"]
    colors = per_vertex_colors(mesh)
    _, index = on_grid(mesh, h.shape, CELL)
    if name.endswith(".obj"):
        written = read_obj(d / name)["rgb"]
    else:  # normalized integers: 0 .. the type's maximum is 0 .. 1
        rgba = (read_glb if name.endswith(".glb") else read_gltf)(d / name)["COLOR_0"]
        written = srgb(rgba[:, :3] / np.iinfo(rgba.dtype).max)
    seen = colors["color_srgb"][..., :3]
    # The file's vertex order is row by row from the north-west: sample (r, c) is vertex r * N + c.
    np.testing.assert_allclose(seen[index], written.reshape(N, N, 3), rtol=0, atol=1.01 / 255)
    assert np.ptp(written) > 0.2  # a real colour map, not a constant


@pytest.mark.parametrize("name", ["c/t.glb", "c/t.gltf"])
def test_glb_and_obj_vertex_colours_look_the_same_in_blender(made, name):
    """The same --colors look the same from glTF (linear COLOR_0) and OBJ (sRGB): Blender's sRGB colour at
    every sample agrees to within one 8-bit step, and both are the colour map terrain-gan made (sRGB bytes)."""
    _, h, _, report = made
    shown = {}
    for n in (name, "c/t.obj"):
        mesh = only_mesh(report[n])
        _, index = on_grid(mesh, h.shape, CELL)
        shown[n] = per_vertex_colors(mesh)["color_srgb"][index]
    np.testing.assert_allclose(shown[name], shown["c/t.obj"], rtol=0, atol=1.01 / 255)
    expected = color_map(h, CELL, "relief") / 255.0
    np.testing.assert_allclose(shown[name][..., :3], expected, rtol=0, atol=1.01 / 255)
    assert np.ptp(expected) > 0.2 and (shown[name][..., 3] == 1.0).all()
