"""USGS ASCII DEM (the legacy 1024-byte-record format, e.g. pyvista's SainteHelens.dem).

Layout: one logical record A (1024 bytes: units, resolution, number of profiles),
then one record B per profile: a south-to-north column of elevations starting at
its own (x, y). Profiles start at different y because a 7.5' quad is not a
rectangle in UTM; cells outside every profile become void (NaN).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from terrain_gan.dem.units import geographic_cell_m
from terrain_gan.errors import TerrainGanError

_FEET = 0.3048
_B_HEADER = 9  # row, col, m, n, x0, y0, datum elevation, min, max


def _field(a: str, start: int, stop: int) -> float:
    """A fixed-width Fortran field of record A (D exponents allowed)."""
    return float(a[start:stop].replace("D", "E").replace("d", "e"))


def read_usgs_dem(path: Path):
    """USGS ASCII DEM → (heights in metres with NaN voids, (dy, dx) metres)."""
    text = path.read_bytes().decode("ascii", errors="replace")
    if len(text) < 1024 + 2 * _B_HEADER:
        raise TerrainGanError(f"{path}: too short to be a USGS ASCII DEM ({len(text)} bytes)")
    a = text[:1024]
    try:
        plan_units, elev_units = int(a[528:534]), int(a[534:540])
        res_x, res_y, res_z = (_field(a, 816 + 12 * i, 828 + 12 * i) for i in range(3))
        n_profiles = int(a[858:864])
        corner_y = [_field(a, 570 + 48 * i, 594 + 48 * i) for i in range(4)]
    except ValueError:
        raise TerrainGanError(f"{path}: not a USGS ASCII DEM (record A fields unreadable)") from None
    if plan_units not in (1, 2, 3) or elev_units not in (1, 2) or min(res_x, res_y, res_z) <= 0:
        raise TerrainGanError(f"{path}: unsupported USGS DEM units or resolution "
                              f"(plan {plan_units}, elevation {elev_units}, res {res_x}/{res_y}/{res_z})")
    values = np.array(text[1024:].replace("D", "E").split(), dtype=np.float64)
    columns = _profiles(path, values, n_profiles)
    height = _assemble(columns, res_y) * res_z
    if elev_units == 1:
        height = height * _FEET
    if plan_units == 3:  # arc-seconds
        cell = geographic_cell_m(res_y / 3600.0, res_x / 3600.0, float(np.mean(corner_y)) / 3600.0)
    else:
        scale = _FEET if plan_units == 1 else 1.0
        cell = (res_y * scale, res_x * scale)
    return height.astype(np.float32), cell


def _profiles(path: Path, values: np.ndarray, n_profiles: int) -> list[tuple[float, np.ndarray]]:
    """Walks the B records: [(y of first elevation, elevations south→north incl. datum offset)]."""
    out, i = [], 0
    for _ in range(n_profiles):  # one iteration per profile (column), not per cell
        if i + _B_HEADER > values.size:
            raise TerrainGanError(f"{path}: USGS DEM truncated ({len(out)} of {n_profiles} profiles)")
        m = int(values[i + 2])
        y0, datum = values[i + 5], values[i + 6]
        elev = values[i + _B_HEADER: i + _B_HEADER + m]
        if m < 1 or elev.size != m:
            raise TerrainGanError(f"{path}: USGS DEM truncated ({len(out)} of {n_profiles} profiles)")
        elev = np.where(elev <= -32767, np.nan, elev + datum)
        out.append((float(y0), elev))
        i += _B_HEADER + m
    return out


def _assemble(columns: list[tuple[float, np.ndarray]], dy: float) -> np.ndarray:
    """Places the profiles on one north-up grid; cells outside every profile are NaN."""
    y0 = np.array([c[0] for c in columns])
    top = max(c[0] + (c[1].size - 1) * dy for c in columns)
    rows = int(round((top - y0.min()) / dy)) + 1
    grid = np.full((rows, len(columns)), np.nan)
    for j, (start, elev) in enumerate(columns):
        r0 = int(round((top - start) / dy))  # grid row of the profile's southernmost cell
        grid[r0 - elev.size + 1: r0 + 1, j] = elev[::-1]
    return grid
