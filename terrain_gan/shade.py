"""Shaded relief (hillshade) of heightmaps in metres: previews, sample grids, baked textures."""

from __future__ import annotations

import numpy as np


def hillshade(height_HxW: np.ndarray, cell_size_m: float, *, azimuth_deg: float = 315.0,
              altitude_deg: float = 45.0, z_factor: float = 1.0) -> np.ndarray:
    """Lambertian shaded relief in [0, 1] (row 0 is north), lit from `azimuth_deg` clockwise from north.

    >>> round(float(hillshade(np.zeros((3, 3)), 90.0)[1, 1]), 3)
    0.707
    """
    h = np.asarray(height_HxW, np.float64) * z_factor
    dz_drow, dz_dcol = np.gradient(h, cell_size_m)
    # Surface normal of z(x, y) with x east (columns) and y north (minus rows).
    nx, ny, nz = -dz_dcol, dz_drow, np.ones_like(h)
    norm = np.sqrt(nx * nx + ny * ny + 1.0)
    az, alt = np.radians(azimuth_deg), np.radians(altitude_deg)
    light = np.array([np.sin(az) * np.cos(alt), np.cos(az) * np.cos(alt), np.sin(alt)])
    shade = (nx * light[0] + ny * light[1] + nz * light[2]) / norm
    return np.clip(shade, 0.0, 1.0)


def relief_rgb(height_HxW: np.ndarray, cell_size_m: float) -> np.ndarray:
    """Shaded relief tinted by elevation (green lowland to brown to white peaks), uint8 RGB."""
    h = np.asarray(height_HxW, np.float64)
    lo, hi = float(np.nanmin(h)), float(np.nanmax(h))
    t = (h - lo) / max(hi - lo, 1e-6)
    stops = np.array([0.0, 0.35, 0.7, 1.0])
    colours = np.array([[70, 120, 60], [150, 160, 90], [140, 110, 80], [245, 245, 245]], np.float64)
    tint = np.stack([np.interp(t, stops, colours[:, c]) for c in range(3)], axis=-1)
    shade = hillshade(h, cell_size_m)[..., None]
    return np.clip(tint * (0.35 + 0.75 * shade), 0, 255).astype(np.uint8)


def grid(images_NxHxWxC: np.ndarray, cols: int, pad: int = 2) -> np.ndarray:
    """Tiles N equally sized images into one image with `cols` columns and a white gap."""
    n, h, w, c = images_NxHxWxC.shape
    rows = -(-n // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, images_NxHxWxC.dtype)
    for i, img in enumerate(images_NxHxWxC):
        r, q = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = img
    return out
