"""Atomic file writes: a crash leaves the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Iterator

from terrain_gan.errors import TerrainGanError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    The caller writes the temporary file by any means (a library that takes a
    filename, say). On an exception the temporary file is removed and `path`
    is left as it was.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise TerrainGanError(f"{path}: output folder {folder} does not exist")
    if path.is_dir():
        raise TerrainGanError(f"{path}: is a folder, expected a file path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}~{_HOST}~{os.getpid()}~", suffix=".part" + path.suffix, dir=folder)
    except OSError as e:
        raise TerrainGanError(f"{path}: cannot write here ({e.strerror})") from None
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; users expect ordinary file modes
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# Temporary names carry host and process, so a later run can tell a killed writer's leftovers from a live one's.
_HOST = socket.gethostname().replace("~", "-")
_TEMP = re.compile(r"\..*~(?P<host>[^~]*)~(?P<pid>\d+)~[^~]*\.part[^~]*")


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Deletes temporaries left in `folder` by writers on this host that were killed; returns them.

    A live writer's temporaries (this process's, or another job's sharing the folder) are kept.
    """
    stale = []
    for p in Path(folder).glob(".*.part*"):
        m = _TEMP.fullmatch(p.name)
        if m and m["host"] == _HOST and not _alive(int(m["pid"])):
            p.unlink(missing_ok=True)
            stale.append(p)
    return stale


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        pass
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically (fsynced before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_json(path: str | os.PathLike, obj) -> None:
    """Writes `obj` as indented JSON, atomically."""
    write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())
