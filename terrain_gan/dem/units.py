"""Units of elevation rasters: geographic cells in metres (WGS84), raw values in metres with voids."""

from __future__ import annotations

import math

import numpy as np

# WGS84 ellipsoid: semi-major axis (m) and first eccentricity squared.
_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3

# Any float height beyond this is a fill value (1.7e38, -3.4e38 and the like), never terrain.
_FLOAT_FILL_LIMIT = 1e30


def degrees_to_metres(lat_deg: float) -> tuple[float, float]:
    """Metres per degree of latitude and of longitude at `lat_deg` on the WGS84 ellipsoid.

    >>> m_lat, m_lon = degrees_to_metres(0.0)
    >>> round(m_lat), round(m_lon)
    (110574, 111319)
    """
    phi = math.radians(lat_deg)
    w = 1.0 - _WGS84_E2 * math.sin(phi) ** 2
    meridional = _WGS84_A * (1.0 - _WGS84_E2) / w**1.5  # radius of curvature north-south
    normal = _WGS84_A / math.sqrt(w)  # radius of curvature east-west
    return meridional * math.pi / 180.0, normal * math.cos(phi) * math.pi / 180.0


def geographic_cell_m(dlat_deg: float, dlon_deg: float, lat_deg: float) -> tuple[float, float]:
    """(dy, dx) in metres of a cell of `dlat_deg` x `dlon_deg` degrees centred at `lat_deg`."""
    if not -90.0 <= lat_deg <= 90.0:
        raise ValueError(f"latitude {lat_deg} out of range")
    m_lat, m_lon = degrees_to_metres(lat_deg)
    return abs(dlat_deg) * m_lat, abs(dlon_deg) * m_lon


def to_metres(raw: np.ndarray, nodata=None, scale: float = 1.0) -> np.ndarray:
    """Raw raster values → float32 metres with NaN for voids.

    Voids: the `nodata` value (compared in the raster's own dtype), -32768 in int16
    rasters (SRTM), non-finite floats and float fill values beyond ±1e30.
    """
    raw = np.asarray(raw)
    void = np.zeros(raw.shape, bool)
    if nodata is not None and np.isfinite(nodata):
        if raw.dtype.kind in "iu":
            info = np.iinfo(raw.dtype)
            if info.min <= nodata <= info.max and float(nodata).is_integer():
                void |= raw == int(nodata)
        else:
            void |= raw == raw.dtype.type(nodata)
    if raw.dtype == np.int16:
        void |= raw == -32768
    h = raw.astype(np.float64 if raw.dtype.kind == "f" else np.float32)
    if raw.dtype.kind == "f":
        void |= ~np.isfinite(h) | (np.abs(h) > _FLOAT_FILL_LIMIT)
    h = (h * scale).astype(np.float32) if scale != 1.0 else h.astype(np.float32)
    h[void] = np.nan
    return h
