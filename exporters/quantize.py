"""Checking heightmaps and the exact 16-bit quantisation every 16-bit format shares.

A heightmap is a 2-D float array of heights in metres, row 0 = north, column 0 = west,
samples `cell_size_m` apart. The 16-bit formats (PNG16, Unity RAW16, Godot R16) store

    q = clip(rint((h - lo) * 65535 / (hi - lo)), 0, 65535)        computed in float64

with `rint` rounding half to even, and `(lo, hi)` the height range in metres
(`height_range`, or the heightmap's own min/max). Reading back gives
`lo + q * (hi - lo) / 65535` (float64, then float32): within `(hi - lo) / 131070` m of the input,
and `lo` / `hi` themselves come back exactly. A flat map (lo == hi) stores q = 0.
"""

from __future__ import annotations

import numpy as np

from exporters.errors import ExportError

U16_MAX = 65535


def check_heightmap(height_HxW, name: str = "heightmap") -> np.ndarray:
    """Returns the heightmap as C-contiguous float32, or raises a one-line ExportError.

    >>> check_heightmap([[1, 2], [3, 4]]).dtype
    dtype('float32')
    """
    try:
        h = np.asarray(height_HxW)
    except (TypeError, ValueError) as e:
        raise ExportError(f"{name}: not a numeric array ({e})") from None
    if h.dtype.kind not in "biuf":
        raise ExportError(f"{name}: heights must be numbers, got dtype {h.dtype}")
    if h.ndim != 2:
        raise ExportError(f"{name}: expected a 2-D heightmap (rows x columns), got shape {h.shape}")
    if h.shape[0] < 2 or h.shape[1] < 2:
        raise ExportError(f"{name}: heightmap of shape {h.shape} is too small, needs at least 2x2 samples")
    h = np.ascontiguousarray(h, dtype=np.float32)
    if not np.isfinite(h).all():
        bad = int(np.count_nonzero(~np.isfinite(h)))
        raise ExportError(f"{name}: {bad} height(s) are NaN or infinite; fill voids before exporting")
    return h


def check_cell_size(cell_size_m, name: str = "heightmap") -> float:
    """Returns the cell size as a positive finite float, or raises ExportError."""
    try:
        cell = float(cell_size_m)
    except (TypeError, ValueError):
        raise ExportError(f"{name}: cell size must be a number of metres, got {cell_size_m!r}") from None
    if not np.isfinite(cell) or cell <= 0:
        raise ExportError(f"{name}: cell size must be positive metres, got {cell_size_m!r}")
    return cell


def height_range_of(h: np.ndarray, height_range=None, name: str = "heightmap") -> tuple[float, float]:
    """The (lo, hi) metres mapped to 0 and 65535: `height_range`, checked to hold `h`, else h's min/max.

    >>> height_range_of(np.array([[0.5, 2.0]], np.float32))
    (0.5, 2.0)
    >>> height_range_of(np.array([[0.1, 0.3]], np.float32), (0.1, 0.3))  # equal up to float32 rounding
    (0.1, 0.3)
    """
    dmin, dmax = float(h.min()), float(h.max())
    if height_range is None:
        return dmin, dmax
    try:
        lo, hi = (float(v) for v in height_range)
    except (TypeError, ValueError):
        raise ExportError(f"{name}: height_range must be (lo, hi) metres, got {height_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi < lo:
        raise ExportError(f"{name}: height_range must be finite with lo <= hi, got {height_range!r}")
    # Heights are float32: a range that holds them once rounded to float32 holds them (the codes clip).
    if dmin < min(lo, float(np.float32(lo))) or dmax > max(hi, float(np.float32(hi))):
        raise ExportError(
            f"{name}: heights span [{dmin:g}, {dmax:g}] m, outside height_range [{lo:g}, {hi:g}] m")
    return lo, hi


def quantize_u16(h: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Heights in metres to uint16 codes over [lo, hi] (see the module docstring).

    >>> quantize_u16(np.array([0.0, 0.5, 1.0]), 0.0, 1.0).tolist()
    [0, 32768, 65535]
    """
    if hi <= lo:
        return np.zeros(np.shape(h), np.uint16)
    q = (np.asarray(h, np.float64) - lo) * (U16_MAX / (hi - lo))
    return np.clip(np.rint(q), 0, U16_MAX).astype(np.uint16)


def dequantize_u16(q: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """uint16 codes back to float32 metres: lo + q * (hi - lo) / 65535.

    >>> dequantize_u16(np.array([0, 65535], np.uint16), 10.0, 20.0).tolist()
    [10.0, 20.0]
    """
    step = (hi - lo) / U16_MAX
    out = lo + np.asarray(q, np.float64) * step
    out[np.asarray(q) == U16_MAX] = hi  # exact top, whatever the float64 rounding of the product
    return out.astype(np.float32)
