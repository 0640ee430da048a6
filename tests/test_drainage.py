"""Drainage measures: exact depression areas on built surfaces, known exponents recovered, real vs fBm."""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

import numpy as np
import pytest

pyflwdir = pytest.importorskip("pyflwdir")

from terrain_gan.dataset import core as dataset
from terrain_gan.dem import core as dem
from terrain_gan.dem import resample
from terrain_gan.errors import TerrainGanError
from terrain_gan.eval import drainage, fbm

CELL = 90.0
AZORES = Path(__file__).parent / "fixtures" / "dem" / "N38W028.SRTMGL3.hgt.zip"


def _plane(rows: int, cols: int, drop_per_cell: float = 1.0) -> np.ndarray:
    """A plane falling `drop_per_cell` metres a row towards the south edge."""
    return np.repeat(drop_per_cell * np.arange(rows, 0, -1, dtype=np.float32)[:, None], cols, axis=1)


def _cone(n: int, drop_per_cell: float = 9.0) -> np.ndarray:
    """A cone 5000 m high, falling `drop_per_cell` metres a cell away from the centre."""
    r, c = np.mgrid[0:n, 0:n]
    return (5000.0 - drop_per_cell * np.hypot(r - n / 2, c - n / 2)).astype(np.float32)


@pytest.fixture(scope="module")
def azores() -> np.ndarray:
    """The fixture SRTM tile (Terceira and east São Jorge) at 90 m, sea masked."""
    return dem.mask_sea(resample.resample(dem.read_dem(AZORES), CELL).height)


@pytest.fixture(scope="module")
def shipped() -> dict[str, np.ndarray]:
    """Two large real regions of the shipped 90 m dataset (read_dem → resample → 0.25 m codes)."""
    ds = dataset.load_dataset()
    return {n: h for n, h in zip(ds.names, ds.heights) if n in ("mt_rainier_90m", "Mega_divide")}


def _stream_power_surface(theta: float, n: int = 300, seed: int = 0) -> np.ndarray:
    """Heights with S = 0.5 (A / 1 km²)^-θ on every cell, integrated up the D8 network of an fBm map."""
    _, d8 = pyflwdir.dem.fill_depressions(fbm.fbm_heightmap(n, seed=seed), nodata=np.nan)
    flw = pyflwdir.from_array(d8, ftype="d8", check_ftype=False)
    area = flw.upstream_area(unit="cell").astype(np.float64) * CELL**2
    (r0, c0), (r1, c1) = (np.divmod(i, n) for i in (np.arange(n * n), flw.idxs_ds.astype(np.int64)))
    run = np.hypot(r1 - r0, c1 - c0).reshape(n, n) * CELL
    return flw.accuflux(run * 0.5 * (area / 1e6) ** -theta, direction="down").astype(np.float32)


def test_docstring_examples():
    result = doctest.testmod(drainage)
    assert result.failed == 0 and result.attempted > 0


def test_plane_and_cone_hold_no_water():
    for h in (_plane(200, 150), _cone(201)):
        assert np.array_equal(drainage.fill_depth(h), np.zeros_like(h))
        assert drainage.depression_fraction(h, CELL) == 0.0


@pytest.mark.parametrize("base", ["plane", "cone"])
def test_dug_pit_counts_its_own_area_exactly(base):
    h = _plane(128, 128, 0.05) if base == "plane" else _cone(128, 0.05)  # < 1 m of relief across the pit
    pit = h.copy()
    pit[40:53, 70:77] -= 30.0  # 13 x 7 cells
    assert drainage.depression_fraction(pit, CELL) * pit.size == 13 * 7
    shallow = h.copy()
    shallow[40:53, 70:77] -= 0.8  # holds water, but less than 1 m
    assert drainage.depression_fraction(shallow, CELL) == 0.0
    assert drainage.depression_fraction(shallow, CELL, min_depth_m=0.5) > 0.0


def test_pit_open_to_the_edge_drains():
    h = _plane(64, 64)
    h[20:30, 0:8] -= 30.0  # touches the west edge: an outlet, not a depression
    assert drainage.depression_fraction(h, CELL) == 0.0


def test_nan_is_an_outlet_and_not_counted():
    h = _plane(64, 64)
    h[20:30, 20:28] -= 30.0
    assert drainage.depression_fraction(h, CELL) * h.size == 80
    h[30, 24] = np.nan  # a void on the pit's rim lets it drain
    assert drainage.depression_fraction(h, CELL) == 0.0
    h[0:32, :] = np.nan  # the valid half still holds a pit of 32 x 8 cells
    h[40:44, 10:18] -= 30.0
    assert drainage.depression_fraction(h, CELL) == 32 / (32 * 64)


def test_windows_skip_nan_and_drain_to_their_own_edge():
    h = _plane(512, 768)
    h[300:310, 300:320] -= 30.0  # in window (1, 1)
    h[10, 700] = np.nan  # spoils window (0, 2)
    h[100:110, 250:262] -= 30.0  # crosses windows (0, 0) and (0, 1): open to both windows' edges
    fractions = drainage.window_depression_fractions(h, CELL)
    np.testing.assert_array_equal(fractions, [0.0, 0.0, 0.0, 200 / 256**2, 0.0])
    assert drainage.window_depression_fractions(h[:200], CELL).size == 0


def test_fbm_holds_far_more_water_than_real_terrain(azores, shipped):
    real = [drainage.depression_fraction(azores, CELL)]
    real += [float(np.median(drainage.window_depression_fractions(h, CELL))) for h in shipped.values()]
    synthetic = drainage.window_depression_fractions(fbm.fbm_heightmap(512, seed=3, relief_m=1000.0), CELL)
    assert synthetic.size == 4 and max(real) < 0.06  # measured 0.007 (Azores), 0.012, 0.029
    assert np.median(synthetic) > 4 * max(real)  # measured 0.33


@pytest.mark.parametrize("name", ["mt_rainier_90m", "Mega_divide"])
def test_real_rivers_have_real_exponents(shipped, name):
    stats = drainage.drainage_stats(shipped[name], CELL)
    assert 0.2 <= stats.theta <= 0.8  # measured 0.46 (Rainier), 0.31 (Meghalaya)
    assert 0.4 <= stats.hack_h <= 0.75  # measured 0.51, 0.60
    assert stats.channel_cells > 20_000


def test_volcanic_island_hack_exponent(azores):
    # Only Hack's law is asserted here: young volcanic cones are barely incised, their θ is low (0.19).
    assert 0.4 <= drainage.hack_exponent(azores, CELL) <= 0.75  # measured 0.57


def test_fbm_lacks_concave_river_profiles(shipped):
    fbm_theta = drainage.slope_area(fbm.fbm_heightmap(512, seed=3, relief_m=1000.0), CELL)
    assert fbm_theta < 0.2 < min(drainage.slope_area(h, CELL) for h in shipped.values())  # measured ≈ 0.1


@pytest.mark.parametrize("theta", [0.25, 0.45, 0.7])
def test_slope_area_recovers_stream_power_concavity(theta):
    assert drainage.slope_area(_stream_power_surface(theta), CELL) == pytest.approx(theta, abs=0.03)


def test_parallel_valleys_have_hack_exponent_one_and_no_concavity():
    r, c = np.mgrid[0:400, 0:400].astype(np.float32)
    h = 4.5 * (399 - r) + 18.0 * np.abs(c % 8 - 4)  # straight valleys 8 cells apart: L and A both grow as r
    stats = drainage.drainage_stats(h, CELL)
    assert 0.9 <= stats.hack_h <= 1.05  # measured 0.96: the valley head adds a constant to L
    assert abs(stats.theta) < 0.02  # every valley falls at the same slope
    assert stats.depression_fraction == 0.0


def test_too_small_a_map_gives_nan_not_an_error():
    stats = drainage.drainage_stats(_cone(20), CELL)
    assert np.isnan(stats.theta) and np.isnan(stats.hack_h) and np.isnan(stats.depression_fraction)
    assert stats.channel_cells == 0


def test_missing_pyflwdir_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyflwdir", None)  # import pyflwdir now raises ImportError
    with pytest.raises(TerrainGanError, match="pip install pyflwdir"):
        drainage.depression_fraction(_plane(8, 8), CELL)
