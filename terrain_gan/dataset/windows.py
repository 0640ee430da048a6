"""Which square windows of a height grid are usable for training: no void, not dead flat.

All sliding-window quantities are computed for every origin at once: void counts
with an integral image, relief (max - min) with a doubling sliding max/min
(log2(window) whole-array passes per axis), so a 1201² region takes milliseconds.
"""

from __future__ import annotations

import numpy as np


def sliding_sum(a: np.ndarray, window: int) -> np.ndarray:
    """Sum of every `window` x `window` block of `a`, shape (H-w+1, W-w+1), via an integral image."""
    s = np.zeros((a.shape[0] + 1, a.shape[1] + 1), np.int64)
    s[1:, 1:] = np.cumsum(np.cumsum(a, axis=0, dtype=np.int64), axis=1)
    w = window
    return s[w:, w:] - s[:-w, w:] - s[w:, :-w] + s[:-w, :-w]


def _sliding_reduce_1d(a: np.ndarray, window: int, axis: int, op) -> np.ndarray:
    """`op` (np.maximum / np.minimum) over every run of `window` along `axis`, by doubling."""
    a = np.moveaxis(a, axis, 0)
    span, acc = 1, a
    while span * 2 <= window:  # acc[i] = op over a[i : i + span]
        acc = op(acc[:-span], acc[span:])
        span *= 2
    n = a.shape[0] - window + 1
    out = op(acc[:n], acc[window - span: window - span + n])
    return np.moveaxis(out, 0, axis)


def sliding_relief(height: np.ndarray, window: int) -> np.ndarray:
    """max - min of every `window` x `window` block; `height` must hold no NaN (fill voids first)."""
    hi = _sliding_reduce_1d(_sliding_reduce_1d(height, window, 0, np.maximum), window, 1, np.maximum)
    lo = _sliding_reduce_1d(_sliding_reduce_1d(height, window, 0, np.minimum), window, 1, np.minimum)
    return hi - lo


def valid_origins(height: np.ndarray, window: int, flat_relief_m: float) -> np.ndarray:
    """Boolean (H-w+1, W-w+1): True where the window at that top-left origin is usable.

    Usable means no void (NaN) cell and relief (max - min) of at least `flat_relief_m`.

    >>> h = np.add.outer(np.arange(4.0), np.arange(4.0)) * 3.0
    >>> valid_origins(h, 2, 5.0).astype(int)
    array([[1, 1, 1],
           [1, 1, 1],
           [1, 1, 1]])
    """
    rows, cols = height.shape
    if rows < window or cols < window:
        return np.zeros((max(rows - window + 1, 0), max(cols - window + 1, 0)), bool)
    void = ~np.isfinite(height)
    no_void = sliding_sum(void.astype(np.uint8), window) == 0
    # Voids are filled with a neighbour-free constant; windows holding them are rejected anyway.
    filled = np.where(void, 0.0, height).astype(np.float32)
    return no_void & (sliding_relief(filled, window) >= flat_relief_m)


def covered_cells(origins: np.ndarray, window: int) -> np.ndarray:
    """Boolean (H, W): cells that lie inside at least one window whose origin is True."""
    rows, cols = origins.shape[0] + window - 1, origins.shape[1] + window - 1
    padded = np.zeros((rows + window - 1, cols + window - 1), np.uint8)
    padded[window - 1: window - 1 + origins.shape[0], window - 1: window - 1 + origins.shape[1]] = origins
    return sliding_sum(padded, window) > 0


def window_at(height: np.ndarray, origin_flat: int, window: int) -> np.ndarray:
    """The window whose origin is `origin_flat` in the (H-w+1, W-w+1) origin grid, flattened row-major."""
    oy, ox = divmod(int(origin_flat), height.shape[1] - window + 1)
    return height[oy: oy + window, ox: ox + window]
