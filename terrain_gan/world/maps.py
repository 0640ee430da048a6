"""Coarse maps that steer a world's layout: a guide (elevation sketch) or relief multipliers.

A `CoarseMap` is a small 2-D array stretched over world samples [0, extent[0]) x [0, extent[1]),
anchored at world sample (0, 0). `load_map` reads one from an array, a .npy file, a grey or RGB
PNG (codes scaled onto a range) or any DEM `terrain_gan.dem.core.read_dem` reads; a file it cannot read
is one `TerrainGanError` line naming it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path

import numpy as np

from terrain_gan.errors import TerrainGanError

MAX_MAP_SIDE = 2048


@dataclasses.dataclass(frozen=True, eq=False)
class CoarseMap:
    """A small 2-D map of values stretched over world samples [0, extent[0]) x [0, extent[1])."""

    values: np.ndarray
    extent: tuple[int, int]
    source: str = "array"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(np.ascontiguousarray(self.values, np.float32).tobytes()).hexdigest()

    def as_json(self) -> dict:
        """Identity of the map (by content, not by file name)."""
        return dict(shape=list(self.values.shape), extent=list(self.extent), sha256=self.sha256,
                    min=float(self.values.min()), max=float(self.values.max()))


def load_map(source, *, extent: tuple[int, int], what: str = "guide map", png_range=(0.0, 1.0)) -> CoarseMap:
    """A `CoarseMap` from an array, a .npy file, a grey or RGB PNG (codes scaled onto `png_range`) or a DEM.

    >>> m = load_map(np.array([[0.0, 1.0], [2.0, 3.0]]), extent=(512, 512))
    >>> m.values.dtype.name, m.extent
    ('float32', (512, 512))
    """
    name = str(source) if isinstance(source, (str, Path)) else "array"
    values = _read_values(source, what, png_range) if isinstance(source, (str, Path)) else source
    try:
        values = np.asarray(values, np.float32)
    except (TypeError, ValueError):
        raise TerrainGanError(f"{what} {name}: not a numeric array") from None
    if values.ndim != 2 or min(values.shape) < 2 or max(values.shape) > MAX_MAP_SIDE:
        raise TerrainGanError(f"{what} {name}: needs a 2-D map of 2..{MAX_MAP_SIDE} pixels a side, "
                              f"got shape {values.shape}")
    if not np.isfinite(values).all():
        raise TerrainGanError(f"{what} {name}: holds NaN or infinite values (voids); fill them first")
    ext = tuple(int(e) for e in extent)
    if len(ext) != 2 or min(ext) < 1:
        raise TerrainGanError(f"{what} {name}: extent must be (rows, cols) samples, got {extent!r}")
    return CoarseMap(values, ext, name)


def _read_values(path, what: str, png_range) -> np.ndarray:
    """The values of a map file: PNG codes scaled onto `png_range`, metres for .npy and DEM files."""
    path = Path(path)
    if not path.is_file():
        raise TerrainGanError(f"{what} {path}: file not found")
    try:
        if path.suffix.lower() == ".png":
            import imageio.v3 as iio

            img = iio.imread(path)
            top = 65535.0 if img.dtype == np.uint16 else 255.0
            grey = img[..., :3].mean(axis=-1) if img.ndim == 3 else img
            return png_range[0] + grey.astype(np.float64) / top * (png_range[1] - png_range[0])
        if path.suffix.lower() == ".npy":
            return np.load(io.BytesIO(path.read_bytes()), allow_pickle=False)  # a zip inside leaks no handle
        from terrain_gan.dem import core as dem

        return dem.read_dem(path).height
    except TerrainGanError:
        raise
    except Exception as e:  # any decoder's failure on a bad file is the user's input problem
        raise TerrainGanError(f"{what} {path}: unreadable ({type(e).__name__}: {e})") from None
