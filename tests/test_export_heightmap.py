"""Heightmap files: every format round-trips exactly; bad input raises one line and leaves no file."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import exporters
from exporters import HEIGHTMAP_FORMATS, dequantize_u16, quantize_u16, read_heightmap, write_heightmap
from exporters.errors import ExportError
from exporters.files import json_bytes, write_files

CELL = 30.0


def surface(rows=33, cols=65, seed=0) -> np.ndarray:
    """A real-looking surface in metres: ridges plus noise, with a negative (below sea) corner."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols] / 16.0
    h = 800 * np.sin(x) * np.cos(0.7 * y) + 300 * np.sin(2.3 * x + y) + 20 * rng.standard_normal((rows, cols))
    return (h - 150).astype(np.float32)


def expected(h, fmt, meta):
    if not HEIGHTMAP_FORMATS[fmt].is_u16:
        return h
    lo, hi = meta["min_height_m"], meta["max_height_m"]
    return dequantize_u16(quantize_u16(h, lo, hi), lo, hi)


@pytest.mark.parametrize("fmt", sorted(HEIGHTMAP_FORMATS))
def test_round_trip_is_exact(tmp_path, fmt):
    if fmt == "exr":
        pytest.importorskip("OpenEXR", reason="EXR needs the optional 'openexr' package")
    h = surface()
    path = tmp_path / f"tile{HEIGHTMAP_FORMATS[fmt].suffix}"
    meta = write_heightmap(h, path, cell_size_m=CELL)
    write_files({exporters.sidecar_path(path): json_bytes(meta)})
    back, back_meta = read_heightmap(path)
    assert back.dtype == np.float32 and back.shape == h.shape
    np.testing.assert_array_equal(back, expected(h, fmt, meta))
    assert back_meta["cell_size_m"] == CELL
    assert meta["data_min_m"] == float(h.min()) and meta["data_max_m"] == float(h.max())
    if HEIGHTMAP_FORMATS[fmt].is_u16:
        # The extremes come back exactly; everything else within half a step.
        assert back.min() == h.min() and back.max() == h.max()
        assert np.abs(back.astype(np.float64) - h).max() <= meta["height_step_m"] / 2 + 1e-4


def test_quantisation_rule_is_round_half_even_over_the_range():
    lo, hi = 0.0, 65535.0
    q = quantize_u16(np.array([0.5, 1.5, 2.5, 65534.5, 70000.0, -3.0]), lo, hi)
    assert q.tolist() == [0, 2, 2, 65534, 65535, 0]
    assert quantize_u16(np.full((2, 2), 7.0), 7.0, 7.0).tolist() == [[0, 0], [0, 0]]


def test_height_range_sets_the_codes(tmp_path):
    h = np.array([[0.0, 50.0], [100.0, 25.0]], np.float32)
    meta = write_heightmap(h, tmp_path / "t.r16", cell_size_m=1, height_range=(-100, 100))
    q = np.fromfile(tmp_path / "t.r16", "<u2").reshape(2, 2)
    assert q.tolist() == [[32768, 49151], [65535, 40959]]
    assert (meta["min_height_m"], meta["max_height_m"]) == (-100.0, 100.0)
    with pytest.raises(ExportError, match="outside height_range"):
        write_heightmap(h, tmp_path / "u.r16", cell_size_m=1, height_range=(0, 10))


def test_row_order_unity_south_first_godot_north_first(tmp_path):
    h = np.array([[10.0, 10.0], [0.0, 0.0]], np.float32)  # north row high
    write_heightmap(h, tmp_path / "u.raw", cell_size_m=1)
    write_heightmap(h, tmp_path / "g.r16", cell_size_m=1)
    assert (tmp_path / "u.raw").read_bytes() == b"\x00\x00\x00\x00\xff\xff\xff\xff"
    assert (tmp_path / "g.r16").read_bytes() == b"\xff\xff\xff\xff\x00\x00\x00\x00"


def test_png16_reads_back_with_an_independent_decoder(tmp_path):
    import imageio.v3 as iio

    h = surface(17, 9)
    meta = write_heightmap(h, tmp_path / "t.png", cell_size_m=CELL)
    np.testing.assert_array_equal(iio.imread(tmp_path / "t.png"),
                                  quantize_u16(h, meta["min_height_m"], meta["max_height_m"]))


def test_geotiff_has_pixel_scale_and_tiepoint(tmp_path):
    import tifffile

    write_heightmap(surface(9, 5), tmp_path / "t.tif", cell_size_m=12.5)
    with tifffile.TiffFile(tmp_path / "t.tif") as tif:
        tags = tif.pages[0].tags
        assert tif.pages[0].dtype == np.float32
        assert tuple(tags[33550].value) == (12.5, 12.5, 0.0)
        assert tuple(tags[33922].value) == (0.0, 0.0, 0.0, 0.0, 9 * 12.5, 0.0)


def test_exr_single_float_channel_named_r(tmp_path):
    OpenEXR = pytest.importorskip("OpenEXR", reason="EXR needs the optional 'openexr' package")
    h = surface(9, 5)
    write_heightmap(h, tmp_path / "t.exr", cell_size_m=CELL)
    with OpenEXR.File(str(tmp_path / "t.exr")) as f:
        channels = f.channels()
        assert list(channels) == ["R"]
        np.testing.assert_array_equal(channels["R"].pixels, h)


def test_exr_without_openexr_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "OpenEXR", None)
    with pytest.raises(ExportError, match=r"terrain-gan\[exr\]"):
        write_heightmap(surface(), tmp_path / "t.exr", cell_size_m=CELL)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad, match", [
    (np.full((4, 4), np.nan, np.float32), "NaN"),
    (np.zeros((0, 5), np.float32), "too small"),
    (np.zeros((1, 5), np.float32), "too small"),
    (np.zeros((5, 1), np.float32), "too small"),
    (np.zeros((3, 3, 3), np.float32), "2-D"),
    (np.array([["a", "b"], ["c", "d"]]), "numbers"),
])
def test_bad_heightmaps_raise_and_leave_no_file(tmp_path, bad, match):
    with pytest.raises(ExportError, match=match) as e:
        write_heightmap(bad, tmp_path / "t.png", cell_size_m=CELL)
    assert "\n" not in str(e.value) and "t.png" in str(e.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, match", [
    ({"path_name": "t.png", "fmt": "jpeg"}, "unknown heightmap format"),
    ({"path_name": "t.jpg"}, "cannot tell the heightmap format"),
    ({"path_name": "missing/t.png"}, "does not exist"),
    ({"path_name": "t.png", "cell_size_m": 0}, "cell size"),
    ({"path_name": "t.png", "cell_size_m": float("nan")}, "cell size"),
])
def test_bad_options_raise_and_leave_no_file(tmp_path, kwargs, match):
    kwargs = {"cell_size_m": CELL, **kwargs}
    path = tmp_path / kwargs.pop("path_name")
    with pytest.raises(ExportError, match=match):
        write_heightmap(surface(), path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_reading_16_bit_without_sidecar_is_one_clear_line(tmp_path):
    write_heightmap(surface(), tmp_path / "t.png", cell_size_m=CELL)
    with pytest.raises(ExportError, match=r"t\.png: needs its sidecar t\.json"):
        read_heightmap(tmp_path / "t.png")
    (tmp_path / "t.json").write_text(json.dumps({"cell_size_m": 1}))
    with pytest.raises(ExportError, match="min_height_m"):
        read_heightmap(tmp_path / "t.png")


def test_corrupt_file_is_one_clear_line(tmp_path):
    (tmp_path / "t.npy").write_bytes(b"not numpy")
    with pytest.raises(ExportError, match=r"t\.npy: cannot read as npy"):
        read_heightmap(tmp_path / "t.npy")
