"""DEM readers and resampling, against small cuts of real files (see tests/fixtures/dem/README.md).

Expected heights were read from the source files at the positions named; cell sizes in metres were
computed by hand from the WGS84 radii of curvature at the raster centre.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from terrain_gan.dem.core import Dem, read_dem
from terrain_gan.dem.resample import axis_weights, resample, resample_array
from terrain_gan.dem.units import degrees_to_metres
from terrain_gan.errors import TerrainGanError

FIX = Path(__file__).resolve().parent / "fixtures" / "dem"


def test_geotiff_geographic_int16_with_srtm_voids():
    d = read_dem(FIX / "everest_cut.tif")  # mt_everest_90m.tif rows 282:322, cols 534:584, LZW
    assert d.height.dtype == np.float32 and d.height.shape == (40, 50)
    assert d.height[0, 0] == 4512 and d.height[39, 49] == 3967
    assert np.isnan(d.height[20, 25]) and np.isnan(d.height[5, :3]).all()
    assert int(np.isnan(d.height).sum()) == 496  # every -32768 of the source window, nothing else
    # Centre latitude 27.765417 - 20/1200 = 27.74875 N; 3" cells: M*pi/180/1200, N*cos(lat)*pi/180/1200.
    assert d.cell_size_m == pytest.approx((92.34618, 82.15756), abs=1e-4)
    assert d.cell_size_m[0] == pytest.approx(111320 / 1200, rel=5e-3)  # the spherical rule of thumb agrees
    assert d.name == "everest_cut" and d.source.endswith("everest_cut.tif")


def test_geotiff_projected_metres_deflate():
    d = read_dem(FIX / "bigtujunga_cut.tif")  # bigtujunga.tif rows 200:240, cols 400:450, UTM 11N
    assert d.cell_size_m == (30.0, 30.0)
    assert (d.height[0, 0], d.height[39, 49], d.height[10, 30]) == (1478, 1333, 1557)
    assert not np.isnan(d.height).any()


def _retag_tif(src: Path, dst: Path, data=None, *, nodata: str | None = None, unit: int | None = None):
    """Rewrites a fixture GeoTIFF with new data, GDAL_NODATA or linear unit geokey."""
    with tifffile.TiffFile(src) as t:
        page = t.pages[0]
        arr = page.asarray() if data is None else data
        tags = {c: page.tags[c].value for c in (33550, 33922, 34735, 34737, 42113) if c in page.tags}
    if nodata is not None:
        tags[42113] = nodata
    if unit is not None:
        keys = list(tags[34735])
        keys[keys.index(3076) + 3] = unit
        tags[34735] = tuple(keys)
    types = {33550: "d", 33922: "d", 34735: "H", 34737: "s", 42113: "s"}
    tifffile.imwrite(dst, arr, extratags=[(c, types[c], 0 if types[c] == "s" else len(v), v, True)
                                          for c, v in tags.items()])


def test_geotiff_float_fill_nodata_and_feet(tmp_path):
    base = read_dem(FIX / "bigtujunga_cut.tif").height.astype(np.float32)
    fill = np.float32(1.70141000918782799e38)  # greenriver.tif's GDAL_NODATA
    data = base.copy()
    data[3, 4] = fill
    _retag_tif(FIX / "bigtujunga_cut.tif", tmp_path / "fill.tif", data, nodata="1.70141000918782799e+38")
    d = read_dem(tmp_path / "fill.tif")
    assert np.isnan(d.height[3, 4]) and int(np.isnan(d.height).sum()) == 1
    _retag_tif(FIX / "bigtujunga_cut.tif", tmp_path / "feet.tif", unit=9002)
    assert read_dem(tmp_path / "feet.tif").cell_size_m == pytest.approx((30 * 0.3048, 30 * 0.3048))


def test_srtm_hgt_zip_values_and_cell_size():
    d = read_dem(FIX / "N38W028.SRTMGL3.hgt.zip")
    raw = np.frombuffer(zipfile.ZipFile(FIX / "N38W028.SRTMGL3.hgt.zip").read("N38W028.hgt"), ">i2")
    assert d.height.shape == (1201, 1201)
    np.testing.assert_array_equal(d.height, raw.reshape(1201, 1201).astype(np.float32))
    assert (d.height[324, 817], d.height[300, 900], d.height[600, 600]) == (1024, 524, 0)
    assert d.cell_size_m == pytest.approx((92.50497, 72.69397), abs=1e-4)  # 3" at 38.5 N
    assert d.name == "N38W028.SRTMGL3"


def test_hgt_wrong_length_and_corrupt_zip(tmp_path):
    data = zipfile.ZipFile(FIX / "N38W028.SRTMGL3.hgt.zip").read("N38W028.hgt")
    (tmp_path / "N38W028.hgt").write_bytes(data[:-2])
    with pytest.raises(TerrainGanError, match=r"N38W028\.hgt.*wrong length"):
        read_dem(tmp_path / "N38W028.hgt")
    bad = tmp_path / "N10E010.hgt.zip"
    bad.write_bytes((FIX / "N38W028.SRTMGL3.hgt.zip").read_bytes()[:5000])
    with pytest.raises(TerrainGanError, match=r"N10E010\.hgt\.zip"):
        read_dem(bad)


def test_envi_bil_float_with_ignore_value():
    d = read_dem(FIX / "mandakini_cut.bil")  # Mandakini.bil rows 181:221, cols 534:584
    assert d.cell_size_m == pytest.approx((88.8141288965872,) * 2)
    assert (d.height[0, 0], d.height[39, 49]) == (4916.0, 5078.0)
    assert np.isnan(d.height[0, 24]) and int(np.isnan(d.height).sum()) == 436


def test_envi_header_lying_about_size(tmp_path):
    for name in ("mandakini_cut.bil", "mandakini_cut.hdr"):
        shutil.copy(FIX / name, tmp_path / name)
    hdr = tmp_path / "mandakini_cut.hdr"
    hdr.write_text(hdr.read_text().replace("samples = 50", "samples = 60"))
    with pytest.raises(TerrainGanError, match=r"mandakini_cut\.bil.*says 40x60x1.*8000 bytes"):
        read_dem(tmp_path / "mandakini_cut.bil")
    (tmp_path / "mandakini_cut.hdr").unlink()
    with pytest.raises(TerrainGanError, match=r"mandakini_cut\.bil.*header"):
        read_dem(tmp_path / "mandakini_cut.bil")


def test_esri_ascii_grid():
    d = read_dem(FIX / "mega_divide_cut.asc")  # Mega_divide.bil rows 500:540, cols 900:950
    assert d.cell_size_m == (50.0, 50.0)
    assert (d.height[0, 0], d.height[39, 49], d.height[5, 7]) == (1244, 870, 1662)


def test_ascii_grid_wrong_count_and_not_a_grid(tmp_path):
    text = (FIX / "mega_divide_cut.asc").read_text().rsplit("\n", 2)[0] + "\n"  # drop the last row
    (tmp_path / "short.asc").write_text(text)
    with pytest.raises(TerrainGanError, match=r"short\.asc.*2000 values but the file has 1950"):
        read_dem(tmp_path / "short.asc")
    (tmp_path / "README.asc").write_text("This folder holds example data.\n")
    with pytest.raises(TerrainGanError, match=r"README\.asc: not an ESRI ASCII grid"):
        read_dem(tmp_path / "README.asc")


def test_png16_with_sidecar_and_without(tmp_path):
    d = read_dem(FIX / "rainier_cut16.png")  # mt_rainier_90m.tif rows 600:640, cols 500:550
    assert d.cell_size_m == (90.0, 90.0)
    assert d.height[0, 0] == pytest.approx(817, abs=0.01) and d.height[39, 49] == pytest.approx(1412, abs=0.01)
    assert (np.nanmin(d.height), np.nanmax(d.height)) == (811.0, 1597.0)
    shutil.copy(FIX / "rainier_cut16.png", tmp_path / "bare.png")
    with pytest.raises(TerrainGanError, match=r"bare\.png: cell size unknown.*pass a cell size"):
        read_dem(tmp_path / "bare.png")
    bare = read_dem(tmp_path / "bare.png", cell_size_m=30.0)
    assert bare.cell_size_m == (30.0, 30.0)
    np.testing.assert_array_equal(bare.height, iio.imread(tmp_path / "bare.png").astype(np.float32))


def test_png8_is_rejected():
    with pytest.raises(TerrainGanError, match=r"rainier_cut8\.png: PNG is 8-bit"):
        read_dem(FIX / "rainier_cut8.png", cell_size_m=90.0)


def test_npz_jacksboro_keys_give_geographic_cells(tmp_path):
    d = read_dem(FIX / "jacksboro_cut.npz")  # elevation rows 100:140, cols 100:150, 3" cells
    assert (d.height[0, 0], d.height[39, 49]) == (853, 680)
    lat = (36.73291666666667 + 36.44625) / 2
    m_lat, m_lon = degrees_to_metres(lat)
    assert d.cell_size_m == pytest.approx((m_lat / 1200, m_lon / 1200))
    np.save(tmp_path / "h.npy", d.height)
    with pytest.raises(TerrainGanError, match=r"h\.npy: cell size unknown"):
        read_dem(tmp_path / "h.npy")
    assert read_dem(tmp_path / "h.npy", cell_size_m=10.0).cell_size_m == (10.0, 10.0)


def test_usgs_ascii_dem_profiles():
    d = read_dem(FIX / "sainthelens_cut.dem")  # SainteHelens.dem, first 12 of 327 profiles
    assert d.cell_size_m == (30.0, 30.0) and d.height.shape[1] == 12
    col = d.height[:, 0]
    first = [909, 910, 910, 910, 911, 912, 913, 911, 910, 911, 911, 911, 910, 911, 913, 913, 911, 906, 902, 896,
             890, 888]  # profile 1, south to north, from the file's first B record
    np.testing.assert_array_equal(col[np.isfinite(col)], np.array(first[::-1], np.float32))


def test_degrees_to_metres_hand_values():
    assert degrees_to_metres(0.0) == pytest.approx((110574.27, 111319.49), abs=0.01)
    m_lat, m_lon = degrees_to_metres(60.0)
    assert m_lat == pytest.approx(111412.3, abs=0.5) and m_lon == pytest.approx(55799.98, abs=0.5)


@pytest.mark.parametrize("name, content, pattern", [
    ("dem.xyz", b"1 2 3", r"dem\.xyz: unsupported DEM format"),
    ("bad.tif", b"GIF89a not a tiff", r"bad\.tif: not a TIFF file"),
    ("bad.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 20, r"bad\.png: corrupt or unreadable"),
])
def test_bad_files_name_the_file(tmp_path, name, content, pattern):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(TerrainGanError, match=pattern):
        read_dem(tmp_path / name)


def test_truncated_geotiff(tmp_path):
    data = (FIX / "everest_cut.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[: len(data) // 2])
    with pytest.raises(TerrainGanError, match=r"cut\.tif: corrupt or unreadable"):
        read_dem(tmp_path / "cut.tif")


def test_all_void_dem(tmp_path):
    np.save(tmp_path / "void.npy", np.full((8, 8), np.nan, np.float32))
    with pytest.raises(TerrainGanError, match=r"void\.npy: every cell is void"):
        read_dem(tmp_path / "void.npy", cell_size_m=30.0)
    np.save(tmp_path / "srtm_void.npy", np.full((8, 8), -32768, np.int16))
    with pytest.raises(TerrainGanError, match=r"srtm_void\.npy: every cell is void"):
        read_dem(tmp_path / "srtm_void.npy", cell_size_m=30.0)


# ---- resampling ------------------------------------------------------------------------------


def test_axis_weights_are_normalised_tents():
    idx, w = axis_weights(90, 30, 3.0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    centre = (w * idx).sum(axis=1)  # a symmetric kernel's centre of mass is the output centre
    np.testing.assert_allclose(centre[1:-1], (np.arange(30)[1:-1] + 0.5) * 3 - 0.5)


def test_resample_preserves_mean_and_linear_surfaces():
    y, x = np.mgrid[0:300, 0:400].astype(np.float64)
    smooth = 1000 + 0.5 * x - 0.3 * y + 20 * np.sin(x / 40) * np.cos(y / 50)
    out = resample_array(smooth.astype(np.float32), (10.0, 10.0), 30.0)
    assert out.shape == (100, 133)
    assert abs(out.mean() - smooth[:, :399].mean()) < 0.05
    plane = (0.5 * x - 0.3 * y).astype(np.float32)
    up = resample_array(plane, (10.0, 10.0), 7.0)  # upsampling: bilinear reproduces planes exactly
    yy, xx = np.mgrid[0:up.shape[0], 0:up.shape[1]]
    expect = 0.5 * ((xx + 0.5) * 0.7 - 0.5) - 0.3 * ((yy + 0.5) * 0.7 - 0.5)
    inner = (slice(2, -2), slice(2, -2))
    np.testing.assert_allclose(up[inner], expect[inner], atol=1e-3)


def test_resample_anisotropic_geographic_cells():
    d = read_dem(FIX / "everest_cut.tif")
    r = resample(d, 90.0)
    assert r.cell_size_m == (90.0, 90.0)
    assert r.height.shape == (int(40 * 92.34618 / 90), int(50 * 82.15756 / 90))  # (41, 45)


def test_resample_voids():
    h = np.full((60, 60), 500.0, np.float32)
    h[:, :30] = np.nan
    out = resample_array(h, (10.0, 10.0), 30.0)
    assert np.isnan(out[:, :9]).all() and (out[:, 11:] == 500.0).all()
    assert np.isnan(out[:, 10]).sum() in (0, 20)  # the boundary column is decided by the 0.5 weight rule
    assert np.nanmax(out) == 500.0 and np.nanmin(out) == 500.0  # no void value leaks into averages
    d = resample(read_dem(FIX / "mandakini_cut.bil"), 120.0)
    void = np.isnan(d.height)
    assert 0.1 < void.mean() < 0.35 and np.isfinite(d.height[~void]).all()
    assert np.nanmin(d.height) >= 4080.0 and np.nanmax(d.height) <= 5561.0


def test_dem_is_frozen():
    d = read_dem(FIX / "bigtujunga_cut.tif")
    assert isinstance(d, Dem)
    with pytest.raises(ValueError):
        d.height[0, 0] = 1.0


def test_sidecar_json_is_honoured(tmp_path):
    shutil.copy(FIX / "rainier_cut16.png", tmp_path / "t.png")
    (tmp_path / "t.json").write_text(json.dumps({"cell_size_m": 45.0, "min_height_m": 0, "max_height_m": 65535}))
    d = read_dem(tmp_path / "t.png")
    assert d.cell_size_m == (45.0, 45.0)
    np.testing.assert_array_equal(d.height, iio.imread(tmp_path / "t.png").astype(np.float32))
    (tmp_path / "t.json").write_text("{not json")
    with pytest.raises(TerrainGanError, match=r"t\.json: sidecar"):
        read_dem(tmp_path / "t.png")


def test_downsampling_is_anti_aliased():
    x = np.arange(600, dtype=np.float64)
    ripple = np.tile(100.0 * np.cos(2 * np.pi * x / 3.2), (60, 1)).astype(np.float32)  # beyond output Nyquist
    out = resample_array(ripple, (10.0, 10.0), 30.0)
    assert np.abs(out[:, 2:-2]).max() < 2.0  # a tent of radius 3 cells passes < 1% of it; no alias survives
