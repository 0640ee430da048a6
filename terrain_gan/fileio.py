"""Atomic file writes (a crash leaves the old file or the new one, never half of one) and file locks.

The temporary-name scheme and the atomic rename live in `exporters.files` (the lowest floor), so that
exported files, checkpoints and world manifests are written one way. A full disk is reported there
as one line naming the file ("disk full or file too large writing PATH").
"""

from __future__ import annotations

import os
from pathlib import Path

from exporters.files import atomic_path, json_bytes, remove_stale_temps
from terrain_gan.errors import TerrainGanError

try:
    import fcntl
except ImportError:  # not POSIX: locks are no-ops (two runs on one folder then both do the work)
    fcntl = None

__all__ = ["FileLock", "atomic_path", "remove_stale_temps", "write_bytes", "write_json"]


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically (fsynced before the rename)."""
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    except OSError as e:
        raise TerrainGanError(f"{path}: cannot write ({e.strerror or e})") from None


def write_json(path: str | os.PathLike, obj) -> None:
    """Writes `obj` as indented JSON, atomically."""
    write_bytes(path, json_bytes(obj))


class FileLock:
    """An exclusive `flock` on a file (created empty if missing), shared by every process on the host.

    The kernel releases it when its holder exits or is killed (kill -9 included), so a lock is never
    left stale. The file itself stays: deleting a lock file races with a process about to lock it.

    >>> import tempfile
    >>> path = f"{tempfile.mkdtemp()}/x.lock"
    >>> a, b = FileLock(path), FileLock(path)
    >>> a.acquire(), b.acquire(wait=False), a.release(), b.acquire(wait=False)
    (True, False, None, True)
    >>> b.release()
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self, *, wait: bool = True) -> bool:
        """Takes the lock, blocking until it is free if `wait`; False if not `wait` and it is held."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise TerrainGanError(f"{self.path}: cannot create lock file ({e.strerror})") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
