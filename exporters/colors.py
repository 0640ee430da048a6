"""Colour maps of heightmaps: per-sample RGB for vertex colours and baked textures.

Three kinds, all uint8 RGB images with one pixel per heightmap sample (row 0 = north):
  "height": lowland green to brown to white peaks over a height range (default: the map's own);
  "slope":  grass green on flats to scree brown to grey rock on cliffs, by slope angle;
  "relief": the height tint shaded by `hillshade` (light from the north-west), over a given range
            so world tiles match (default: the map's own; terrain_gan's previews and overviews use it too).

The maps are sRGB (what PNG textures, OBJ colours and screens hold); `linear_rgb16` re-encodes them
as linear light for glTF's COLOR_0, which the glTF 2.0 spec defines as linear.
"""

from __future__ import annotations

import numpy as np

from exporters.errors import ExportError

COLOR_KINDS = ("height", "slope", "relief")

_HEIGHT_STOPS = np.array([0.0, 0.35, 0.7, 1.0])
_HEIGHT_RGB = np.array([[70, 120, 60], [150, 160, 90], [140, 110, 80], [245, 245, 245]], np.float64)
# Relief = tint * (RELIEF_AMBIENT + RELIEF_DIRECT * hillshade), lit from the north-west, 45 degrees up.
RELIEF_AMBIENT, RELIEF_DIRECT, RELIEF_AZIMUTH_DEG, RELIEF_ALTITUDE_DEG = 0.35, 0.75, 315.0, 45.0
_SLOPE_STOPS_DEG = np.array([0.0, 15.0, 30.0, 45.0, 90.0])
_SLOPE_RGB = np.array([[86, 125, 60], [120, 135, 70], [135, 110, 80], [120, 115, 110], [95, 92, 90]],
                      np.float64)


def hillshade(height_HxW: np.ndarray, cell_size_m: float, *, azimuth_deg: float = RELIEF_AZIMUTH_DEG,
              altitude_deg: float = RELIEF_ALTITUDE_DEG, z_factor: float = 1.0) -> np.ndarray:
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


def _ramp(t: np.ndarray, stops: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Piecewise-linear colour ramp of `t` through `stops`, as uint8 RGB."""
    out = np.stack([np.interp(t, stops, rgb[:, c]) for c in range(3)], axis=-1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _height_t(h: np.ndarray, height_range) -> np.ndarray:
    """Heights as 0..1 over `height_range` (default: their own min / max)."""
    lo, hi = (float(h.min()), float(h.max())) if height_range is None else map(float, height_range)
    return (h - lo) / max(hi - lo, 1e-6)


def height_rgb(height_HxW: np.ndarray, height_range=None) -> np.ndarray:
    """Height tint over `height_range` metres (default: the map's own min / max).

    >>> height_rgb(np.array([[0.0, 1.0]])).tolist()
    [[[70, 120, 60], [245, 245, 245]]]
    """
    return _ramp(_height_t(np.asarray(height_HxW, np.float64), height_range), _HEIGHT_STOPS, _HEIGHT_RGB)


def relief_rgb(height_HxW: np.ndarray, cell_size_m: float, height_range=None) -> np.ndarray:
    """Shaded relief: height tint (green lowland to brown to white peaks) times (0.35 + 0.75 * hillshade)."""
    h = np.asarray(height_HxW, np.float64)
    tint = np.stack([np.interp(_height_t(h, height_range), _HEIGHT_STOPS, _HEIGHT_RGB[:, c]) for c in range(3)], -1)
    shade = hillshade(h, cell_size_m)[..., None]
    return np.clip(tint * (RELIEF_AMBIENT + RELIEF_DIRECT * shade), 0, 255).astype(np.uint8)


def relief_palette() -> dict:
    """`relief_rgb`'s constants as plain numbers, for a renderer outside numpy (the 3D viewer's JavaScript).

    >>> relief_palette()["stops"]
    [0.0, 0.35, 0.7, 1.0]
    """
    return dict(stops=_HEIGHT_STOPS.tolist(), rgb=_HEIGHT_RGB.tolist(), ambient=RELIEF_AMBIENT,
                direct=RELIEF_DIRECT, azimuth_deg=RELIEF_AZIMUTH_DEG, altitude_deg=RELIEF_ALTITUDE_DEG)


def slope_deg(height_HxW: np.ndarray, cell_size_m: float) -> np.ndarray:
    """Slope angle in degrees from central differences (one-sided at the edges).

    >>> float(slope_deg(np.array([[0.0, 1.0], [0.0, 1.0]]), 1.0)[0, 0])
    45.0
    """
    dz_drow, dz_dcol = np.gradient(np.asarray(height_HxW, np.float64), cell_size_m)
    return np.degrees(np.arctan(np.hypot(dz_drow, dz_dcol)))


def slope_rgb(height_HxW: np.ndarray, cell_size_m: float) -> np.ndarray:
    """Slope tint: green flats, brown scree, grey rock."""
    return _ramp(slope_deg(height_HxW, cell_size_m), _SLOPE_STOPS_DEG, _SLOPE_RGB)


def color_map(height_HxW: np.ndarray, cell_size_m: float, kind: str, height_range=None) -> np.ndarray:
    """uint8 RGB image (H x W x 3) of `kind` in COLOR_KINDS; `height_range` fixes the height tint.

    >>> color_map(np.zeros((3, 4)), 30.0, "relief").shape
    (3, 4, 3)
    """
    if kind == "height":
        return height_rgb(height_HxW, height_range)
    if kind == "slope":
        return slope_rgb(height_HxW, cell_size_m)
    if kind == "relief":
        return relief_rgb(height_HxW, cell_size_m, height_range)
    raise ExportError(f"unknown colour kind {kind!r}; choose one of {', '.join(COLOR_KINDS)}")


def tile_color_map(padded: np.ndarray, cell_size_m: float, kind: str, height_range) -> np.ndarray:
    """`color_map` of a tile inside its 1-sample ring (`exporters.grid.pad_heightmap`), ring cut off.

    Slopes and shading at the tile's edges then use the neighbours' samples, so the colours of two
    adjacent tiles agree along their shared border; `height_range` (lo, hi) fixes the height tint.

    >>> p = np.zeros((4, 5)); p[:, -1] = 100.0  # a cliff just beyond the east border
    >>> rgb = tile_color_map(p, 10.0, "slope", None)
    >>> rgb.shape, rgb[0, 0].tolist(), rgb[0, 2].tolist()  # flat grass west, steep rock at the east edge
    ((2, 3, 3), [86, 125, 60], [101, 98, 95])
    """
    return color_map(padded, cell_size_m, kind, height_range)[1:-1, 1:-1]


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB values in [0, 1] as linear light in [0, 1]: the exact IEC 61966-2-1 decoding.

    >>> srgb_to_linear(np.array([0.0, 0.04045, 0.5, 1.0])).round(6).tolist()
    [0.0, 0.003131, 0.214041, 1.0]
    """
    c = np.asarray(srgb, np.float64)
    return np.where(c <= 0.04045, c / 12.92, np.power((np.maximum(c, 0.04045) + 0.055) / 1.055, 2.4))


# Every 8-bit sRGB value as normalized 16-bit linear. 16 bits, not 8: linear 8-bit would merge 73 of the
# 256 dark sRGB steps into others (banding); from 16 bits every step comes back to its own sRGB byte.
_LINEAR_U16 = np.rint(srgb_to_linear(np.arange(256) / 255.0) * 65535).astype(np.uint16)


def linear_rgb16(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB colours as uint16 linear light (0..65535 = 0..1), for glTF's COLOR_0.

    >>> linear_rgb16(np.array([0, 1, 128, 255], np.uint8)).tolist()
    [0, 20, 14146, 65535]
    """
    return _LINEAR_U16[np.asarray(rgb, np.uint8)]


def cell_colors(rgb_HxWx3: np.ndarray) -> np.ndarray:
    """Per-cell colours, (H-1) x (W-1): the rounded mean of each cell's four corner samples.

    A baked texture of one pixel per cell spans UV 0..1 exactly as the mesh does (pixel j covers
    cell j), and a 2^n + 1 heightmap gives a 2^n texture, the size GPUs mipmap and compress best.
    Adjacent tiles' textures then meet at the border without repeating a column.

    >>> cell_colors(np.array([[[0, 0, 0], [4, 8, 255]], [[0, 0, 1], [4, 8, 255]]], np.uint8)).tolist()
    [[[2, 4, 128]]]
    """
    c = np.asarray(rgb_HxWx3, np.uint16)
    total = c[:-1, :-1] + c[1:, :-1] + c[:-1, 1:] + c[1:, 1:]
    return ((total + 2) >> 2).astype(np.uint8)
