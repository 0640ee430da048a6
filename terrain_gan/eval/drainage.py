"""Large-scale drainage realism: closed depressions, slope–area concavity and Hack's law.

Every measure takes float32 heights in metres (row 0 north, NaN where void) on square cells of
`cell_size_m` metres and treats real DEM regions and generated maps alike. Water leaves the map at
the edge of the valid cells (the window edge, or a void such as a masked sea).

Real river networks have concavity θ ≈ 0.45 (0.3–0.7) in S = k·A^-θ and Hack exponent h ≈ 0.5–0.6
in L = c·A^h. Random-phase (fBm) surfaces are full of closed pits that real landscapes drain.

Needs pyflwdir (which brings numba and scipy), the eval extra: `pip install 'terrain-gan[eval]'`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from terrain_gan.errors import TerrainGanError

CHANNEL_AREA_M2 = 1e6  # channel cells drain at least 1 km² (the fluvial regime of slope–area plots)
REACH_CELLS = 4  # slopes are taken over this many D8 steps downstream (smooths 1 m SRTM steps)
BIN_DECADES = 0.1  # width of the log10-area bins
MIN_BIN_CELLS = 10  # a bin enters the fit only with at least this many cells
MIN_BINS = 4  # fewer usable bins than this: the exponent is NaN
WINDOW = 256  # side of the windows whose depression fractions `drainage_stats` takes the median of


@dataclasses.dataclass(frozen=True)
class DrainageStats:
    """Drainage measures of one heightmap; NaN where the map is too small to measure."""

    depression_fraction: float  # median over WINDOW-cell windows of the area in >1 m deep pits
    theta: float  # concavity θ of S = k A^-θ over channel cells
    hack_h: float  # Hack exponent h of L = c A^h over channel cells
    channel_cells: int  # cells draining at least CHANNEL_AREA_M2


def _pyflwdir():
    """The pyflwdir module, or one clear error naming what to install."""
    try:
        import pyflwdir
    except ImportError:
        raise TerrainGanError("drainage measures need pyflwdir, from the eval extra: pip install 'terrain-gan[eval]' "
                              "(or pip install pyflwdir)") from None
    return pyflwdir


def _fill(height: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Priority-flood filled heights and D8 directions; outlets at the edge of the valid cells."""
    h = np.ascontiguousarray(height, dtype=np.float32)  # the numba kernel wants one dtype, C order
    return _pyflwdir().dem.fill_depressions(h, nodata=np.nan)  # NaN cells are nodata, i.e. more edge


def fill_depth(height: np.ndarray) -> np.ndarray:
    """Metres of water each cell would hold if every closed depression were filled (NaN stays NaN)."""
    return _fill(height)[0] - np.asarray(height, dtype=np.float32)


def depression_fraction(height: np.ndarray, cell_size_m: float, min_depth_m: float = 1.0) -> float:
    """Fraction of the valid cells whose fill depth exceeds `min_depth_m` metres.

    A cell counts by its own depth, not its depression's: the shallow rim of a deep pit does not.
    The fraction is of area, so `cell_size_m` does not change it (it keeps the measures' signature).

    >>> plane = np.add.outer(np.arange(64.0), np.zeros(64)).astype(np.float32)
    >>> pit = plane.copy(); pit[20:30, 20:28] -= 20.0
    >>> depression_fraction(plane, 90.0), depression_fraction(pit, 90.0) * 64 * 64
    (0.0, 80.0)
    """
    depth = fill_depth(height)
    valid = np.isfinite(depth)
    return float(np.count_nonzero(depth[valid] > min_depth_m) / max(np.count_nonzero(valid), 1))


def window_depression_fractions(height: np.ndarray, cell_size_m: float, window: int = WINDOW,
                                stride: int = WINDOW) -> np.ndarray:
    """`depression_fraction` of each window x window tile (every `stride` cells, row-major) with no NaN."""
    if min(height.shape) < window:
        return np.zeros(0)
    tiles = np.lib.stride_tricks.sliding_window_view(height, (window, window))[::stride, ::stride]
    tiles = tiles.reshape(-1, window, window)
    whole = np.isfinite(tiles).all(axis=(1, 2))
    return np.array([depression_fraction(t, cell_size_m) for t in tiles[whole]])


@dataclasses.dataclass(frozen=True)
class _Network:
    """D8 flow network of the filled heights, flattened; only `valid` cells are meaningful."""

    filled: np.ndarray  # metres
    idxs_ds: np.ndarray  # downstream cell of each cell (itself at an outlet)
    area_m2: np.ndarray  # upstream area including the cell
    dist_m: np.ndarray  # flow distance to the outlet
    length_m: np.ndarray  # longest flow path from a divide (headwater) down to the cell
    valid: np.ndarray


def _network(height: np.ndarray, cell_size_m: float) -> _Network:
    """Fills `height`, routes D8 flow and accumulates area, distance and longest upstream length."""
    pyflwdir = _pyflwdir()
    filled, d8 = _fill(height)
    flw = pyflwdir.from_array(d8, ftype="d8", check_ftype=False)  # identity transform: cell units
    valid = flw.mask
    area = flw.upstream_area(unit="cell").ravel() * np.float64(cell_size_m) ** 2
    # Not flw.stream_distance(unit="m"): pyflwdir 0.5.12 hands an affine>=3 Affine to numba, which fails.
    (r0, c0), (r1, c1) = (np.divmod(i, flw.shape[1]) for i in (np.arange(valid.size), flw.idxs_ds.astype(np.int64)))
    step = np.where(valid, np.hypot(r1 - r0, c1 - c0), 0.0)  # cells: 1, √2 on a diagonal, 0 at an outlet
    dist = flw.accuflux(step.reshape(flw.shape), direction="down").ravel()  # summed down to the outlet
    # Longest path to a cell = farthest headwater's distance to the outlet minus the cell's own.
    head = np.where(valid & (flw.n_upstream.ravel() == 0), dist, -9999.0)
    far = flw.fillnodata(head.reshape(flw.shape), nodata=-9999.0, direction="down", how="max").ravel()
    length = (far - dist) * cell_size_m
    return _Network(filled.ravel().astype(np.float64), flw.idxs_ds, area, dist * cell_size_m, length, valid)


def _reach_slope(net: _Network) -> np.ndarray:
    """Drop over distance from each cell to the cell REACH_CELLS D8 steps downstream (0 at outlets)."""
    down = np.arange(net.idxs_ds.size)
    for _ in range(REACH_CELLS):  # a loop over steps, each step vectorised over all cells
        down = np.where(net.valid[down], net.idxs_ds[down], down)
    run = net.dist_m - net.dist_m[down]
    drop = net.filled - net.filled[down]
    return np.where(run > 0, drop / np.where(run > 0, run, 1.0), 0.0)


def _binned_exponent(area: np.ndarray, y: np.ndarray) -> float:
    """Slope of log y on log area through per-bin medians of BIN_DECADES-wide log-area bins."""
    if area.size < MIN_BINS * MIN_BIN_CELLS:
        return float("nan")
    la, ly = np.log10(area), np.log10(y)
    bins = np.floor((la - la.min()) / BIN_DECADES).astype(np.int64)
    order = np.lexsort((ly, bins))
    bins, la, ly = bins[order], la[order], ly[order]
    counts = np.bincount(bins)
    starts = np.cumsum(counts) - counts
    keep = counts >= MIN_BIN_CELLS
    if np.count_nonzero(keep) < MIN_BINS:
        return float("nan")
    lo, hi = (starts + (counts - 1) // 2)[keep], (starts + counts // 2)[keep]
    mid_ly = 0.5 * (ly[lo] + ly[hi])  # median of each bin's log y (ly is sorted within a bin)
    mid_la = (np.bincount(bins, la)[keep] / counts[keep])  # mean log area of each bin
    return float(np.polyfit(mid_la, mid_ly, 1)[0])


def slope_area(height: np.ndarray, cell_size_m: float) -> float:
    """Concavity θ of S = k A^-θ: binned log-log fit over channel cells with a positive slope."""
    return _theta(_network(height, cell_size_m))


def hack_exponent(height: np.ndarray, cell_size_m: float) -> float:
    """Hack exponent h of L = c A^h: binned log-log fit of longest upstream length over channel cells."""
    return _hack(_network(height, cell_size_m))


def _theta(net: _Network) -> float:
    """θ of one network."""
    slope = _reach_slope(net)
    channel = net.valid & (net.area_m2 >= CHANNEL_AREA_M2) & (slope > 0)
    return -_binned_exponent(net.area_m2[channel], slope[channel])


def _hack(net: _Network) -> float:
    """h of one network."""
    channel = net.valid & (net.area_m2 >= CHANNEL_AREA_M2) & (net.length_m > 0)
    return _binned_exponent(net.area_m2[channel], net.length_m[channel])


def drainage_stats(height: np.ndarray, cell_size_m: float) -> DrainageStats:
    """All drainage measures of one heightmap (depressions over WINDOW-cell windows, θ and h over the whole map)."""
    net = _network(height, cell_size_m)
    fractions = window_depression_fractions(height, cell_size_m)
    return DrainageStats(
        depression_fraction=float(np.median(fractions)) if fractions.size else float("nan"),
        theta=_theta(net),
        hack_h=_hack(net),
        channel_cells=int(np.count_nonzero(net.valid & (net.area_m2 >= CHANNEL_AREA_M2))),
    )
