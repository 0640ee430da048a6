"""Texturing masks of a heightmap: slope, height bands, curvature, wetness, and RGBA splat maps.

Every mask is one byte per heightmap sample (row 0 = north), computed from the heights in metres
inside a surround of `MASK_HALO` samples on every side. World tiles get that surround from the
world itself, so two tiles compute their shared border from the same samples and agree bit for bit;
a lone map gets it by point reflection (`np.pad(reflect_type="odd")`: slopes continue across the
edge, curvature there is zero).

Only IEEE-exact operations (+, -, *, /, comparisons; no transcendental ufuncs, no reductions whose
order depends on the array's shape) touch the heights, so a sample's mask bytes are the same
whatever array it was computed in. Definitions (also recorded in the sidecar, `masks_section`):

  slope      degrees from central differences over one cell: byte = round(deg * 255 / 90).
  bands      low / mid / high / peak: the height range (lo, hi) split at BAND_EDGES; byte = band * 85.
  curvature  k = -Laplacian over a (2r+1)^2 box, r = CURVATURE_RADIUS cells (exact for quadratics:
             k = -6 (box mean - centre) / (cell^2 r (r+1))), 1/m, > 0 on ridges, < 0 in valleys;
             byte = 128 + round(127 * clip(k / CURVATURE_REF_PER_M, -1, 1)).
  wetness    topographic wetness index ln(a / tan b): a = specific catchment (m) of multiple-flow-
             direction routing (Quinn: each sample sends its water to every lower neighbour in
             proportion to drop / distance), truncated to paths of at most WET_STEPS cells (a window of
             WET_STEPS cells, so tiles stay independent); tan b floored at WET_MIN_TAN;
             byte = round(255 * (TWI - WET_TWI_RANGE[0]) / (WET_TWI_RANGE[1] - WET_TWI_RANGE[0])), clipped.
  splat      RGBA = grass, rock, wet, snow; splat_bands RGBA = low, mid, high, peak. Weights of each
             file sum to exactly 255 per sample (largest-remainder rounding): Unity's alphamap 0,
             HTerrain's CLASSIC4 splatmap.
"""

from __future__ import annotations

import math

import numpy as np

from exporters.errors import ExportError
from exporters.png import png_bytes

CURVATURE_RADIUS = 2  # cells: the box is 5 x 5 samples
CURVATURE_REF_PER_M = 0.005  # 1/m: |k| at or above this saturates the curvature byte
WET_STEPS = 24  # cells: the longest flow path counted (the wetness window's radius)
WET_MIN_TAN = 0.01  # tan of the slope under which the wetness index treats ground as this flat
WET_TWI_RANGE = (4.0, 16.0)  # the TWI that bytes 0 and 255 stand for
BAND_EDGES = (0.25, 0.5, 0.75)  # fractions of the height range between low | mid | high | peak
BAND_NAMES = ("low", "mid", "high", "peak")
SPLAT_LAYERS = ("grass", "rock", "wet", "snow")
ROCK_SLOPE_DEG = (30.0, 45.0)  # rock fades in over these slopes
SNOW_FRACTION = (0.7, 0.85)  # snow fades in over these fractions of the height range
WET_BYTE = (135, 195)  # wet ground fades in over these wetness bytes
MASK_HALO = WET_STEPS + 2  # surround every mask needs: flow paths plus the slopes that steer them

# (row, col) offsets of the 8 neighbours, in the fixed order every sum runs in, and their distances in cells.
_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_DIST = tuple(math.sqrt(2.0) if dr and dc else 1.0 for dr, dc in _NEIGHBOURS)

MASK_FILES = {  # name -> (suffix, what it holds)
    "slope": ("_slope.png", "8-bit grey: slope, byte = round(degrees * 255 / 90)"),
    "bands": ("_bands.png", "8-bit grey: height band low / mid / high / peak = 0 / 85 / 170 / 255"),
    "curvature": ("_curvature.png", "8-bit grey: 128 flat, > 128 ridges (convex), < 128 valleys (concave)"),
    "wetness": ("_wetness.png", "8-bit grey: topographic wetness index over WET_TWI_RANGE"),
    "splat": ("_splat.png", "RGBA weights grass, rock, wet, snow; sum 255"),
    "splat_bands": ("_splat_bands.png", "RGBA weights low, mid, high, peak; sum 255"),
}


def reflect_surround(height_HxW: np.ndarray, halo: int = MASK_HALO) -> np.ndarray:
    """A lone map inside `halo` samples of point reflection (2 * edge - mirror image): planes stay planes.

    >>> reflect_surround(np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]), 2)[2].tolist()
    [-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    """
    h = np.asarray(height_HxW, np.float64)
    if min(h.shape) < 2:
        raise ExportError(f"masks need a map of at least 2 x 2 samples, got {h.shape}")
    while halo > 0:  # np.pad reflects at most (size - 1) samples at a time
        step = min(halo, min(h.shape) - 1)
        h = np.pad(h, step, mode="reflect", reflect_type="odd")
        halo -= step
    return h


def _crop(a: np.ndarray, k: int) -> np.ndarray:
    return a[k:a.shape[0] - k, k:a.shape[1] - k]


def _gradient_sq(s: np.ndarray, cell: float) -> np.ndarray:
    """tan^2 of the slope from central differences; one sample shorter on every side."""
    gx = (s[1:-1, 2:] - s[1:-1, :-2]) / (2.0 * cell)
    gy = (s[2:, 1:-1] - s[:-2, 1:-1]) / (2.0 * cell)
    return gx * gx + gy * gy


def slope_bytes(tan_sq: np.ndarray) -> np.ndarray:
    """Slope bytes round(deg * 255 / 90) from tan^2 of the slope, by comparison with exact edges."""
    edges = np.tan(np.radians((np.arange(255) + 0.5) * 90.0 / 255.0)) ** 2
    return np.searchsorted(edges, tan_sq, side="right").astype(np.uint8)


def curvature_per_m(s: np.ndarray, cell: float, r: int = CURVATURE_RADIUS) -> np.ndarray:
    """-Laplacian (1/m) over a (2r+1)^2 box; `r` samples shorter on every side. Ridges > 0.

    >>> x = np.arange(-4, 5) * 10.0
    >>> k = curvature_per_m(-0.001 * np.add.outer(x**2, x**2) / 2, 10.0)  # a dome of Laplacian -0.002
    >>> bool(np.allclose(k, 0.002))
    True
    """
    rows, cols = s.shape[0] - 2 * r, s.shape[1] - 2 * r
    total = np.zeros((rows, cols))
    for dr in range(2 * r + 1):
        for dc in range(2 * r + 1):
            total += s[dr:dr + rows, dc:dc + cols]
    mean = total / (2 * r + 1) ** 2
    return -6.0 * (mean - s[r:r + rows, r:r + cols]) / (cell * cell * r * (r + 1))


def curvature_bytes(k: np.ndarray) -> np.ndarray:
    return (128 + np.rint(127 * np.clip(k / CURVATURE_REF_PER_M, -1.0, 1.0))).astype(np.uint8)


def flow_accumulation(s: np.ndarray, steps: int = WET_STEPS) -> np.ndarray:
    """Cells draining into each sample along multiple-flow-direction paths of <= `steps` cells.

    One sample shorter on every side than `s`; exact for samples at least `steps` + 1 from its edge.

    >>> v = np.abs(np.arange(-3, 4.0))[None].repeat(9, 0)  # a V valley along the middle column
    >>> np.round(flow_accumulation(v, 2)[3], 6).tolist()  # the floor gathers 2 cells from each side
    [1.0, 2.0, 5.0, 2.0, 1.0]
    """
    core = s[1:-1, 1:-1]
    rows, cols = core.shape
    drops = []
    for (dr, dc), dist in zip(_NEIGHBOURS, _DIST):
        nb = s[1 + dr:1 + dr + rows, 1 + dc:1 + dc + cols]
        drops.append(np.maximum(core - nb, 0.0) / dist)
    total = np.zeros_like(core)
    for d in drops:
        total += d
    safe = np.where(total > 0, total, 1.0)
    fractions = [d / safe for d in drops]
    water, acc = np.ones_like(core), np.ones_like(core)
    for _ in range(steps):
        moved = np.zeros_like(core)
        for (dr, dc), f in zip(_NEIGHBOURS, fractions):
            out = water * f  # what each sample sends to its neighbour (dr, dc)
            moved[max(dr, 0):rows + min(dr, 0), max(dc, 0):cols + min(dc, 0)] += \
                out[max(-dr, 0):rows + min(-dr, 0), max(-dc, 0):cols + min(-dc, 0)]
        water = moved
        acc += water
    return acc


def wetness_bytes(acc: np.ndarray, tan_sq: np.ndarray, cell: float) -> np.ndarray:
    """TWI = ln(acc * cell / max(tan b, WET_MIN_TAN)) as bytes, by comparison with exact edges."""
    lo, hi = WET_TWI_RANGE
    edges = np.exp(lo + (np.arange(255) + 0.5) * (hi - lo) / 255.0)  # byte k's upper edge, as a / tan b
    edges_sq = edges * edges
    ratio_sq = (acc * cell) ** 2 / np.maximum(tan_sq, WET_MIN_TAN ** 2)
    return np.searchsorted(edges_sq, ratio_sq, side="right").astype(np.uint8)


def band_weights(s: np.ndarray, height_range) -> np.ndarray:
    """H x W x 4 weights of low / mid / high / peak: tents centred in each band, summing to 1."""
    lo, hi = height_range
    t = (s - lo) / max(hi - lo, 1e-6)
    centres = [(a + b) / 2 for a, b in zip((0.0,) + BAND_EDGES, BAND_EDGES + (1.0,))]
    w = np.zeros(s.shape + (4,))
    pos = np.clip(t, centres[0], centres[-1])
    for i in range(3):
        a, b = centres[i], centres[i + 1]
        inside = (pos >= a) & (pos <= b) if i == 2 else (pos >= a) & (pos < b)
        u = (pos - a) / (b - a)
        w[..., i] += np.where(inside, 1.0 - u, 0.0)
        w[..., i + 1] += np.where(inside, u, 0.0)
    return w


def band_index(s: np.ndarray, height_range) -> np.ndarray:
    lo, hi = height_range
    edges = [lo + e * (hi - lo) for e in BAND_EDGES]
    return np.searchsorted(np.array(edges), s, side="right").astype(np.uint8)


def _ramp(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return np.clip((x - a) / (b - a), 0.0, 1.0)


def surface_weights(slope_b, wet_b, curv_b, s, height_range) -> np.ndarray:
    """H x W x 4 weights grass, rock, wet, snow (sum 1): rock on steep ground and sharp ridges,
    snow high up, wet ground where water gathers, grass elsewhere."""
    deg = slope_b * (90.0 / 255.0)
    ridge = _ramp(curv_b.astype(np.float64), 128.0, 255.0)
    rock = np.clip(_ramp(deg, *ROCK_SLOPE_DEG) + 0.5 * ridge, 0.0, 1.0)
    lo, hi = height_range
    snow = _ramp((s - lo) / max(hi - lo, 1e-6), *SNOW_FRACTION)
    wet = _ramp(wet_b.astype(np.float64), *WET_BYTE)
    rest = 1.0 - rock
    return np.stack([rest * (1 - snow) * (1 - wet), rock, rest * (1 - snow) * wet, rest * snow], axis=-1)


def splat_bytes(weights: np.ndarray) -> np.ndarray:
    """Weights (summing to 1 on the last axis) as uint8 summing to exactly 255: largest remainder.

    >>> splat_bytes(np.array([[[1/3, 1/3, 1/3, 0.0]]])).tolist()
    [[[85, 85, 85, 0]]]
    """
    w = np.clip(weights, 0.0, None)
    total = _sum4(w)
    w = w * (255.0 / np.where(total > 0, total, 1.0))
    base = np.floor(w)
    short = np.clip(255 - base.sum(-1).astype(np.int64), 0, 4)  # units left to hand out (0..3 but for rounding)
    order = np.argsort(-(w - base), axis=-1, kind="stable")  # largest remainders first
    rank = np.argsort(order, axis=-1, kind="stable")
    out = base + (rank < short[..., None])
    return out.astype(np.uint8)


def _sum4(w: np.ndarray) -> np.ndarray:
    """Sum over the last axis in a fixed order (np.sum's order may depend on the array's layout)."""
    return (((w[..., 0] + w[..., 1]) + w[..., 2]) + w[..., 3])[..., None]


def compute_masks(surround: np.ndarray, halo: int, cell_size_m: float, height_range) -> dict[str, np.ndarray]:
    """Every mask of the map inside `surround` (its `halo`-sample ring cut off): {name: uint8 image}.

    >>> m = compute_masks(reflect_surround(np.zeros((4, 5))), MASK_HALO, 30.0, (0.0, 1.0))
    >>> m["splat"].shape, int(m["slope"].max()), m["splat"][0, 0].tolist()
    ((4, 5, 4), 0, [255, 0, 0, 0])
    """
    if halo < MASK_HALO:
        raise ExportError(f"masks need {MASK_HALO} samples of surround, got {halo}")
    s = _crop(np.asarray(surround, np.float64), halo - MASK_HALO)
    cell = float(cell_size_m)
    tan_sq = _gradient_sq(s, cell)  # halo - 1 left
    acc = flow_accumulation(s, WET_STEPS)  # halo - 1 left
    centre = _crop(s, MASK_HALO)
    k = _crop(curvature_per_m(s, cell), MASK_HALO - CURVATURE_RADIUS)
    t_c = _crop(tan_sq, MASK_HALO - 1)
    slope_b = slope_bytes(t_c)
    curv_b = curvature_bytes(k)
    wet_b = wetness_bytes(_crop(acc, MASK_HALO - 1), t_c, cell)
    return {"slope": slope_b, "bands": band_index(centre, height_range) * np.uint8(85), "curvature": curv_b,
            "wetness": wet_b, "splat": splat_bytes(surface_weights(slope_b, wet_b, curv_b, centre, height_range)),
            "splat_bands": splat_bytes(band_weights(centre, height_range))}


def masks_section(files: dict[str, str], cell_size_m: float, height_range, surround: str) -> dict:
    """The sidecar's "masks" section: every file and the numbers that define it."""
    lo, hi = height_range
    return {
        "files": files, "surround": surround, "halo_samples": MASK_HALO, "cell_size_m": cell_size_m,
        "slope": {"encoding": "round(degrees * 255 / 90)", "method": "central differences over one cell"},
        "bands": {"names": list(BAND_NAMES), "height_range_m": [lo, hi],
                  "edges_m": [lo + e * (hi - lo) for e in BAND_EDGES], "encoding": "band index * 85"},
        "curvature": {"method": "minus the Laplacian over a (2r+1)^2 box (exact for quadratics)",
                      "radius_cells": CURVATURE_RADIUS, "radius_m": CURVATURE_RADIUS * cell_size_m,
                      "reference_per_m": CURVATURE_REF_PER_M,
                      "encoding": "128 + round(127 * clip(k / reference_per_m, -1, 1)); ridges > 128"},
        "wetness": {"method": "ln(a / max(tan slope, min_tan)), a from multiple-flow-direction (Quinn, p=1) "
                              "accumulation over paths of at most window_cells cells, times cell size",
                    "window_cells": WET_STEPS, "min_tan": WET_MIN_TAN, "twi_range": list(WET_TWI_RANGE),
                    "encoding": "round(255 * (twi - lo) / (hi - lo)), clipped"},
        "splat": {"channels": list(SPLAT_LAYERS), "sum": 255, "rock_slope_deg": list(ROCK_SLOPE_DEG),
                  "snow_fraction_of_range": list(SNOW_FRACTION), "wet_bytes": list(WET_BYTE)},
        "splat_bands": {"channels": list(BAND_NAMES), "sum": 255,
                        "weights": "tents centred in each band, linear between band centres"},
    }


def mask_files(job) -> tuple[dict, dict]:
    """The "masks" export format: ({path: PNG bytes}, sidecar section) of an `ExportJob`."""
    if job.surround is not None:
        surround, halo, how = job.surround, job.halo, "the world's samples around the tile"
    else:
        surround, halo, how = reflect_surround(job.height), MASK_HALO, "the map point-reflected at its edges"
    masks = compute_masks(surround, halo, job.cell_size_m, job.height_range)
    files, names = {}, {}
    for name, (suffix, _) in MASK_FILES.items():
        path = job.path(suffix)
        files[path] = png_bytes(masks[name])
        names[name] = path.name
    return files, masks_section(names, job.cell_size_m, job.height_range, how)
