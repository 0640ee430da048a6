"""Model v2's data: the sea masked out of land DEMs, NetCDF / GMT grids read, datasets coarsened."""

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from terrain_gan.dataset import build as dataset_build
from terrain_gan.dataset import core as ds
from terrain_gan.dem.core import mask_sea, read_dem
from terrain_gan.errors import TerrainGanError

FIXTURES = Path(__file__).parent / "fixtures" / "dem"


def _touches_edge_through_low_cells(height):
    """Cells at or below 0 m (finite) 8-connected to the map edge."""
    low = np.isfinite(height) & (height <= 0)
    labels, _ = ndimage.label(low, structure=np.ones((3, 3), bool))
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, edge[edge > 0])


def test_srtm_sea_becomes_void_and_land_is_untouched():
    dem = read_dem(FIXTURES / "N38W028.SRTMGL3.hgt.zip")  # Azores: the sea is written as 0 m
    before = dem.height
    after = mask_sea(before)
    assert (before == 0).mean() > 0.5
    assert not _touches_edge_through_low_cells(after).any()
    land = before > 0
    np.testing.assert_array_equal(after[land], before[land])
    assert np.isnan(after).mean() > 0.5


def test_land_below_sea_level_enclosed_by_land_is_kept():
    h = np.full((9, 9), 50.0, np.float32)
    h[3:6, 3:6] = -20.0  # a polder / Dead Sea shore: below 0 m, no way out to the edge
    h[0, :] = 0.0  # the sea along the north edge
    out = mask_sea(h)
    np.testing.assert_array_equal(out[3:6, 3:6], h[3:6, 3:6])
    assert np.isnan(out[0]).all() and np.isfinite(out[1:]).all()


def test_dataset_build_masks_the_sea_unless_asked_to_keep_it(tmp_path):
    src = FIXTURES / "N38W028.SRTMGL3.hgt.zip"
    masked = dataset_build.build([src], tmp_path / "m.npz", window=32)
    kept = dataset_build.build([src], tmp_path / "k.npz", window=32, keep_sea=True)
    assert 0 < masked["valid_windows"] < kept["valid_windows"]
    windows = ds.Dataset.load(tmp_path / "m.npz").windows_grid(window=32, stride=8)
    assert np.isfinite(windows).all() and not (windows == 0).all(axis=(1, 2)).any()


def _write_netcdf(path, fmt, lat_increasing=True):
    import netCDF4

    lat = np.linspace(44.0, 45.0, 11) if lat_increasing else np.linspace(45.0, 44.0, 11)
    lon = np.linspace(6.0, 7.5, 16)
    z = np.add.outer(lat * 100, lon).astype(np.float32)
    z[2, 3] = np.nan
    with netCDF4.Dataset(path, "w", format=fmt) as nc:
        nc.createDimension("lat", lat.size)
        nc.createDimension("lon", lon.size)
        nc.createVariable("lat", "f8", ("lat",))[:] = lat
        nc.createVariable("lon", "f8", ("lon",))[:] = lon
        nc.variables["lat"].units = "degrees_north"
        nc.variables["lon"].units = "degrees_east"
        v = nc.createVariable("z", "f4", ("lat", "lon"), fill_value=np.float32(np.nan))
        v[:] = z
    return z


@pytest.mark.parametrize("fmt", ["NETCDF4", "NETCDF3_CLASSIC"])
def test_netcdf_grids_read_north_first_with_geographic_cells(tmp_path, fmt):
    path = tmp_path / "grid.grd"
    z = _write_netcdf(path, fmt)
    dem = read_dem(path)
    assert dem.shape == (11, 16)
    np.testing.assert_array_equal(dem.height[0], z[-1])  # north (lat 45) first
    assert np.isnan(dem.height[10 - 2, 3]) and np.isnan(dem.height).sum() == 1
    dy, dx = dem.cell_size_m
    assert 11_100 < dy < 11_130 and 7_940 < dx < 7_970  # 0.1 deg at 44.5 N (WGS84)


def test_netcdf_with_latitude_decreasing_is_not_flipped(tmp_path):
    z = _write_netcdf(tmp_path / "grid.nc", "NETCDF4", lat_increasing=False)
    np.testing.assert_array_equal(read_dem(tmp_path / "grid.nc").height[0], z[0])


def test_netcdf_without_its_extra_names_the_extra(tmp_path, monkeypatch):
    _write_netcdf(tmp_path / "grid.nc", "NETCDF4")
    monkeypatch.setitem(sys.modules, "netCDF4", None)
    with pytest.raises(TerrainGanError, match=r"netcdf extra"):
        read_dem(tmp_path / "grid.nc")


def test_a_grd_that_is_not_netcdf_is_one_line(tmp_path):
    (tmp_path / "x.grd").write_bytes(b"DSAA 10 10\n" * 5)  # a Surfer ASCII grid, not NetCDF
    with pytest.raises(TerrainGanError, match=r"not a NetCDF file"):
        read_dem(tmp_path / "x.grd")


def test_coarsen_is_the_block_mean_the_detail_level_is_conditioned_on(tmp_path):
    summary = dataset_build.coarsen("builtin", tmp_path / "c.npz", factor=4, window=32)
    fine, coarse = ds.load_dataset("builtin"), ds.Dataset.load(tmp_path / "c.npz")
    assert coarse.cell_size_m == 4 * fine.cell_size_m and summary["regions"] == len(coarse.names) > 0
    i = fine.names.index(coarse.names[0])
    h, c = fine.heights[i], coarse.heights[0]
    block = h[8:12, 20:24]
    if np.isfinite(block).all():
        assert abs(c[2, 5] - block.mean()) <= 0.25  # the coarse set is quantised at 0.25 m too
    assert c.shape == (h.shape[0] // 4, h.shape[1] // 4)
