"""Reading real elevation models (DEMs) from files into heights in metres.

`read_dem` picks a reader by the file's suffix (and magic bytes where useful) and
returns a `Dem`: float32 heights in metres with NaN for voids, and the cell size
in metres along (y, x). Geographic rasters (cells in degrees) are converted to
metres at the latitude of the raster centre on the WGS84 ellipsoid.

Every problem with the user's file raises `TerrainGanError` with one line that
names the file.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np

from terrain_gan.dem import formats as dem_formats
from terrain_gan.errors import TerrainGanError

# Suffixes `read_dem` understands, longest first so `.hgt.zip` wins over `.zip`.
SUFFIXES = (".hgt.zip", ".tiff", ".tif", ".hgt", ".bil", ".asc", ".npy", ".npz", ".png", ".dem", ".nc", ".grd")


@dataclasses.dataclass(frozen=True)
class Dem:
    """A digital elevation model in metres.

    Attributes:
      height: float32 (H, W) heights in metres, row 0 at the north; NaN where void.
      cell_size_m: (dy, dx) cell size in metres.
      name: short name of the region (the file's stem).
      source: the path it was read from.
    """

    height: np.ndarray
    cell_size_m: tuple[float, float]
    name: str
    source: str

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) in cells."""
        return self.height.shape

    @property
    def void_fraction(self) -> float:
        """Fraction of cells that are void (NaN)."""
        return float(np.isnan(self.height).mean())


def dem_suffix(path: str | os.PathLike) -> str | None:
    """The DEM suffix of `path` (lower case, e.g. '.hgt.zip'), or None if not a DEM file."""
    name = Path(path).name.lower()
    return next((s for s in SUFFIXES if name.endswith(s)), None)


def read_dem(path: str | os.PathLike, *, cell_size_m: float | None = None) -> Dem:
    """Reads a DEM file into heights in metres.

    Formats by suffix: GeoTIFF (.tif/.tiff), SRTM (.hgt, .hgt.zip), ENVI (.bil + .hdr),
    ESRI ASCII grid (.asc), NumPy (.npy/.npz), 16-bit PNG (.png, with an optional
    `X.json` sidecar) and USGS ASCII DEM (.dem).

    Args:
      path: the DEM file.
      cell_size_m: cell size in metres; overrides the file's own georeferencing and
        is required for formats that carry none (.npy, .png without sidecar).

    Returns:
      A `Dem` with float32 heights (NaN = void) and (dy, dx) cell size in metres.

    Raises:
      TerrainGanError: unsupported, missing, corrupt or all-void file, or unknown cell size.
    """
    path = Path(path)
    suffix = dem_suffix(path)
    if suffix is None:
        raise TerrainGanError(f"{path}: unsupported DEM format (suffix {path.suffix or 'none'!r}); "
                              f"expected one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise TerrainGanError(f"{path}: no such file")
    if cell_size_m is not None and not (math.isfinite(cell_size_m) and cell_size_m > 0):
        raise TerrainGanError(f"{path}: cell size must be a positive number of metres, got {cell_size_m}")
    reader = dem_formats.READERS[suffix]
    try:
        height, cell = reader(path)
    except TerrainGanError:
        raise
    except (OSError, ValueError, KeyError, IndexError, EOFError, TypeError, RuntimeError) as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TerrainGanError(f"{path}: corrupt or unreadable {suffix} file ({detail})") from None
    except Exception as e:  # codec libraries raise their own types (imagecodecs, zlib)
        raise TerrainGanError(f"{path}: corrupt or unreadable {suffix} file ({type(e).__name__})") from None
    return _finish(path, height, cell, cell_size_m)


def _finish(path: Path, height: np.ndarray, cell, cell_size_m: float | None) -> Dem:
    """Validates a reader's result and wraps it in a `Dem`."""
    if height.ndim != 2 or min(height.shape) < 2:
        raise TerrainGanError(f"{path}: expected a 2-D elevation grid, got shape {height.shape}")
    if cell_size_m is not None:
        cell = (float(cell_size_m), float(cell_size_m))
    if cell is None:
        raise TerrainGanError(f"{path}: cell size unknown for this file; pass a cell size in metres "
                              f"(--cell-size / cell_size_m=)")
    cell = (float(cell[0]), float(cell[1]))
    if not all(math.isfinite(c) and c > 0 for c in cell):
        raise TerrainGanError(f"{path}: invalid cell size {cell} in the file's georeferencing")
    if not np.isfinite(height).any():
        raise TerrainGanError(f"{path}: every cell is void (nodata); no elevation to use")
    name = Path(path).name
    name = name[: -len(dem_suffix(path))] if dem_suffix(path) else Path(path).stem
    height = np.ascontiguousarray(height, dtype=np.float32)
    height.setflags(write=False)
    return Dem(height=height, cell_size_m=cell, name=name, source=str(path))


def mask_sea(height: np.ndarray) -> np.ndarray:
    """Heights with the sea made void: cells at or below 0 m connected to the map edge or to a void.

    SRTM writes the sea as exactly 0 m and many GeoTIFFs do the same; left in, it teaches a land
    model flat plains with cliff-like rims. Land below sea level enclosed by land (a polder, the
    Dead Sea shore) is kept. 8-connected, so a one-cell-wide strait still links a bay to the sea.

    >>> h = np.array([[0, 0, 5], [0, 3, 6], [4, -1, 7]], np.float32)
    >>> np.isnan(mask_sea(h)).astype(int).tolist()
    [[1, 1, 0], [1, 0, 0], [0, 1, 0]]
    """
    from scipy import ndimage

    low = ~(height > 0)  # NaN voids included: the sea beyond a void stripe is still sea
    labels, n = ndimage.label(low, structure=np.ones((3, 3), bool))
    if n == 0:
        return height
    edge = np.zeros(low.shape, bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    sea_labels = np.unique(labels[(edge | np.isnan(height)) & low])
    sea = np.isin(labels, sea_labels[sea_labels > 0])
    return np.where(sea, np.float32(np.nan), height).astype(np.float32)
