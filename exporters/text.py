"""Vectorised number-to-text for OBJ: whole columns of numbers rendered at once, no per-number Python.

Lines are fixed width: every number in a column is right-aligned to that column's widest, padded
with spaces. OBJ readers split on any run of whitespace, so the padding changes nothing for them
(Blender, Godot, Unity, trimesh), and it lets each character column be computed as one numpy
operation over all lines, which is what makes a 1025 x 1025 OBJ take well under 2 s.
"""

from __future__ import annotations

import numpy as np

_SPACE, _MINUS, _POINT, _ZERO, _SLASH = 32, 45, 46, 48, 47


def _digit_count(a: np.ndarray) -> np.ndarray:
    """Decimal digits of non-negative int64s (at least 1).

    >>> _digit_count(np.array([0, 9, 10, 12345])).tolist()
    [1, 1, 2, 5]
    """
    powers = 10 ** np.arange(1, 19, dtype=np.int64)
    return (np.searchsorted(powers, a, side="right") + 1).astype(np.int64)


def _int_dtype(a_max: int):
    """int32 when it holds the numbers (its division is about twice as fast), else int64."""
    return np.int32 if a_max < 2**31 - 1 else np.int64


def fixed_point(values: np.ndarray, decimals: int, width: int | None = None) -> np.ndarray:
    """Numbers as right-aligned text with `decimals` places: an N x width uint8 character array.

    Rounding is numpy's `rint` (half to even) of value * 10**decimals. `width` (default: the
    widest number's) must hold every number.

    >>> fixed_point(np.array([1.5, -0.25, 12.0]), 2).tobytes()
    b' 1.50-0.2512.00'
    """
    scaled = np.rint(np.asarray(values, np.float64) * 10.0**decimals)
    neg = scaled < 0
    a = np.abs(scaled)
    a = a.astype(_int_dtype(int(a.max()) if a.size else 0))
    ndig = np.maximum(_digit_count(a), decimals + 1)  # at least "0." before the decimals
    chars = ndig + (decimals > 0) + neg  # digits, point, sign
    width = max(int(chars.max()) if a.size else 1, width or 0)
    out_T = np.full((width, a.size), _SPACE, np.uint8)  # built column by column, contiguous
    lo, hi = (int(ndig.min()), int(ndig.max())) if a.size else (0, 0)
    col = width - 1
    for d in range(hi):
        if decimals and d == decimals:
            out_T[col] = _POINT if d < lo else np.where(d < ndig, _POINT, _SPACE)
            col -= 1
        a, digit = np.divmod(a, 10)
        out_T[col] = digit + _ZERO if d < lo else np.where(d < ndig, digit + _ZERO, _SPACE)
        col -= 1
    rows = np.nonzero(neg)[0]
    out_T[width - chars[rows], rows] = _MINUS
    return out_T.T


def index_tokens(n: int, parts: int = 3) -> np.ndarray:
    """Right-aligned OBJ face tokens "i/i/i" for i = 1..n: an n x width uint8 character array.

    >>> index_tokens(10)[[0, 9]].tobytes()
    b'   1/1/110/10/10'
    """
    top = len(str(n))
    width = parts * top + parts - 1
    out = np.full((n, width), _SPACE, np.uint8)
    for d in range(1, top + 1):  # numbers of d digits share one layout: 10**(d-1) .. 10**d - 1
        first, last = 10 ** (d - 1), min(n, 10**d - 1)
        if first > n:
            break
        digits = fixed_point(np.arange(first, last + 1), 0, d)
        for p in range(parts):
            end = width - p * (d + 1)
            out[first - 1:last, end - d:end] = digits
            if p:
                out[first - 1:last, end] = _SLASH
    return out


def lines(prefix: bytes, columns: list[np.ndarray]) -> np.ndarray:
    """Lines `prefix col0 col1 ...\\n` from N x w_k character arrays, as one N x width uint8 array.

    >>> lines(b"v", [fixed_point(np.array([1.0, 2.0]), 1)] * 2).tobytes()
    b'v 1.0 1.0\\nv 2.0 2.0\\n'
    """
    n = columns[0].shape[0]
    width = len(prefix) + sum(1 + c.shape[1] for c in columns) + 1
    out = np.empty((n, width), np.uint8)
    out[:, :len(prefix)] = np.frombuffer(prefix, np.uint8)
    at = len(prefix)
    for c in columns:
        out[:, at] = _SPACE
        out[:, at + 1:at + 1 + c.shape[1]] = c
        at += 1 + c.shape[1]
    out[:, -1] = ord("\n")
    return out
