"""Atomic file writes: a crash leaves the old file or the new one, never half of one.

The temporary-name scheme and the atomic rename live in `exporters.files` (the lowest floor), so that
exported files, checkpoints and world manifests are written one way.
"""

from __future__ import annotations

import os

from exporters.files import atomic_path, json_bytes, remove_stale_temps

__all__ = ["atomic_path", "remove_stale_temps", "write_bytes", "write_json"]


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically (fsynced before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_json(path: str | os.PathLike, obj) -> None:
    """Writes `obj` as indented JSON, atomically."""
    write_bytes(path, json_bytes(obj))
