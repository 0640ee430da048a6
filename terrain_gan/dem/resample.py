"""Resampling a `Dem` to square cells: separable, vectorised and void-aware.

Each axis is resampled with a tent kernel: when downsampling its radius is the
scale factor (an area-like anti-aliasing filter, so no aliasing of ridges into
the coarse grid); when upsampling its radius is one input cell (bilinear).
Voids are handled by normalised convolution: heights and a validity mask are
filtered with the same weights, the heights divided by the mask's weight, and an
output cell is void where less than half of its weight fell on valid input.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from terrain_gan.dem.core import Dem
from terrain_gan.errors import TerrainGanError

# An output cell is void when less than this fraction of its filter weight lands on valid input.
MIN_VALID_WEIGHT = 0.5


def axis_weights(n_in: int, n_out: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Tap indices and weights, each (n_out, T), for resampling one axis.

    Args:
      n_in: input length in cells.
      n_out: output length in cells.
      scale: output cell size / input cell size (> 1 downsamples).

    Returns:
      (idx, w): output cell j is sum_t w[j, t] * input[idx[j, t]]; rows of w sum to 1.

    >>> idx, w = axis_weights(4, 2, 2.0)
    >>> (w.sum(axis=1) == 1.0).all()
    np.True_
    """
    radius = max(scale, 1.0)
    centre = (np.arange(n_out) + 0.5) * scale - 0.5  # output cell centres in input index space
    first = np.floor(centre - radius).astype(np.int64) + 1
    taps = int(np.ceil(2 * radius)) + 1
    idx = first[:, None] + np.arange(taps)[None, :]
    w = np.maximum(0.0, 1.0 - np.abs(idx - centre[:, None]) / radius)
    w[(idx < 0) | (idx >= n_in)] = 0.0  # truncate at the edges, then renormalise
    idx = np.clip(idx, 0, n_in - 1)
    w /= w.sum(axis=1, keepdims=True)
    return idx, w


def _apply(a: np.ndarray, idx: np.ndarray, w: np.ndarray, axis: int) -> np.ndarray:
    """Resamples `a` along `axis` with (idx, w) from `axis_weights`; loops over taps, not cells."""
    a = np.moveaxis(a, axis, 0)
    out = np.zeros((idx.shape[0],) + a.shape[1:], np.float64)
    for t in range(idx.shape[1]):
        out += w[:, t, None] * a[idx[:, t]]
    return np.moveaxis(out, 0, axis)


def output_shape(shape: tuple[int, int], cell_in: tuple[float, float], cell_out: float) -> tuple[int, int]:
    """(H, W) of the resampled grid covering the same extent (rounded down to whole cells)."""
    return (int(np.floor(shape[0] * cell_in[0] / cell_out + 1e-9)),
            int(np.floor(shape[1] * cell_in[1] / cell_out + 1e-9)))


def resample_array(height: np.ndarray, cell_in: tuple[float, float], cell_out: float) -> np.ndarray:
    """Resamples float heights (NaN = void) from (dy, dx) cells to square `cell_out` cells.

    Args:
      height: (H, W) heights, NaN where void.
      cell_in: (dy, dx) input cell size in metres.
      cell_out: output cell size in metres.

    Returns:
      float32 (H', W') heights with NaN where less than half the filter weight was valid.

    >>> h = np.arange(16, dtype=np.float32).reshape(4, 4)
    >>> resample_array(h, (1.0, 1.0), 2.0).shape
    (2, 2)
    """
    n_out = output_shape(height.shape, cell_in, cell_out)
    if min(n_out) < 1:
        raise ValueError(f"grid {height.shape} at {cell_in} m is smaller than one {cell_out} m cell")
    valid = np.isfinite(height)
    filled = np.where(valid, height, 0.0).astype(np.float64)
    mask = valid.astype(np.float64)
    for axis in (0, 1):
        idx, w = axis_weights(height.shape[axis], n_out[axis], cell_out / cell_in[axis])
        filled = _apply(filled, idx, w, axis)
        mask = _apply(mask, idx, w, axis)
    ok = mask >= MIN_VALID_WEIGHT
    out = np.full(n_out, np.nan, np.float32)
    out[ok] = (filled[ok] / mask[ok]).astype(np.float32)
    return out


def resample(dem: Dem, cell_size_m: float) -> Dem:
    """Returns `dem` resampled to square cells of `cell_size_m` metres (void-aware).

    Raises:
      TerrainGanError: the DEM is smaller than one output cell, or nothing valid survives.
    """
    if dem.cell_size_m == (cell_size_m, cell_size_m):
        return dem
    try:
        height = resample_array(dem.height, dem.cell_size_m, cell_size_m)
    except ValueError as e:
        raise TerrainGanError(f"{dem.source}: cannot resample to {cell_size_m} m: {e}") from None
    if not np.isfinite(height).any():
        raise TerrainGanError(f"{dem.source}: every cell is void after resampling to {cell_size_m} m")
    height.setflags(write=False)
    return dataclasses.replace(dem, height=height, cell_size_m=(float(cell_size_m), float(cell_size_m)))


def upsample_factor(dem: Dem, cell_size_m: float) -> float:
    """How much `resample(dem, cell_size_m)` would enlarge the coarser axis (> 1 invents detail)."""
    return max(dem.cell_size_m) / cell_size_m
