"""One tile's job: its files encoded in memory (heights, record, thumbnail), the same on any process.

`encode_tile` is what the in-process engine (`world.batch`) and Dask workers (`world.dask_engine`) both run,
so the bytes of a tile never depend on where it was made.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

import exporters
from exporters import ExportOptions
from exporters.files import json_bytes
from exporters.masks import MASK_HALO
from terrain_gan.world import manifest as wm
from terrain_gan.world.core import World

_MESH_FREE = {"png16", "tif", "npy", "raw16", "r16", "exr", "unity"}  # formats that need no neighbour ring


@dataclasses.dataclass(frozen=True)
class TileJob:
    """What making one tile's files needs besides the world (picklable, sent to Dask workers)."""

    out: Path
    size: int
    grid: tuple[int, int]
    formats: tuple[str, ...]
    height_range: tuple[float, float]
    options: ExportOptions
    world_digest: str


def encode_tile(world: World, job: TileJob, x: int, z: int) -> tuple[dict[Path, bytes], dict]:
    """Tile (x, z)'s files as {path: bytes} (its record first) and the record; writes nothing."""
    ring = not set(job.formats) <= _MESH_FREE
    lo, hi = job.height_range
    # Masks read MASK_HALO samples around the tile (the world's own), meshes the innermost ring of them.
    k = MASK_HALO if "masks" in job.formats else 1
    padded = world.region(z * (job.size - 1) - k, x * (job.size - 1) - k, job.size + 2 * k,
                          job.size + 2 * k) if ring else None
    height = padded[k:-k, k:-k] if ring else world.tile(x, z, job.size)
    clipped = int(np.count_nonzero((height < lo) | (height > hi)))
    if clipped:
        height, padded = np.clip(height, lo, hi), None if padded is None else np.clip(padded, lo, hi)
    made = exporters.export_files(height, exporters.tile_stem(job.out, (x, z)), job.formats,
                                  cell_size_m=world.cell_size_m, height_range=job.height_range, padded=padded,
                                  tile=(x, z), grid=job.grid, options=job.options)
    files = {Path(p): exporters.join_payload(data) for p, data in made.items()}
    rec_path, thumb_path = wm.record_paths(job.out, x, z)
    step = (job.size - 1) // wm.thumb_size(job.size, job.grid)
    files[thumb_path] = _npy(height[:-1:step, :-1:step])
    record = dict(format="terrain_gan/world-tile-v1", world=job.world_digest, x=x, z=z, formats=list(job.formats),
                  files={p.relative_to(job.out).as_posix(): wm.sha256(b) for p, b in files.items()},
                  min_m=float(height.min()), max_m=float(height.max()), clipped=clipped)
    # First in the dict: write_files renames in reverse order, so the record lands last.
    return {rec_path: json_bytes(record), **files}, record


def _npy(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a, np.float32), allow_pickle=False)
    return buf.getvalue()


def release_memory() -> None:
    """Hands freed heap back to the OS (glibc): without it, RSS creeps up tile after tile (fragmentation)."""
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None
