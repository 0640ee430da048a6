"""The one place exporters touch the filesystem: all of an export's files, written atomically together.

Also the atomic-write helpers terrain_gan uses for its own files (checkpoints, manifests).

Encoders return `{path: payload}` where a payload is bytes-like or an iterable of bytes-like
chunks (numpy arrays are written straight from memory, never joined into one copy). A chunk may
live in a buffer the encoder reuses, so each is written (or copied) before the next is taken. Every file goes to
a temporary name beside its target; only when all of them are written and fsynced are they
renamed, so a failure leaves no partial file and no half of a multi-file export. A full disk (or a
file-size limit) is one `ExportError`: "disk full or file too large writing PATH".
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Iterator, Mapping, Sequence, Union

import numpy as np

from exporters.errors import ExportError

Payload = Union[bytes, bytearray, memoryview, np.ndarray, Sequence]
_BUFFERS = (bytes, bytearray, memoryview, np.ndarray)


def json_bytes(obj) -> bytes:
    """`obj` as the JSON every sidecar and manifest is written in: indented, keys sorted, a final newline.

    >>> json_bytes({"b": 1, "a": [2]})
    b'{\\n  "a": [\\n    2\\n  ],\\n  "b": 1\\n}\\n'
    """
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


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
        raise ExportError(f"{path}: output folder {folder} does not exist")
    if path.is_dir():
        raise ExportError(f"{path}: is a folder, expected a file path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}~{_HOST}~{os.getpid()}~", suffix=".part" + path.suffix, dir=folder)
    except OSError as e:
        raise ExportError(full_message(path, e) or f"{path}: cannot write here ({e.strerror})") from None
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; users expect ordinary file modes
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if e.errno in _FULL:
            raise ExportError(full_message(path, e)) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# A full disk, a full quota, or a file-size limit (ulimit -f; SIGXFSZ ignored, as Python does).
_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def full_message(path, e: OSError) -> str | None:
    """The one-line message for a write that failed for want of space, None for another failure.

    >>> full_message("w/t.png", OSError(errno.ENOSPC, "No space left on device"))
    'disk full or file too large writing w/t.png (No space left on device)'
    """
    if e.errno not in _FULL:
        return None
    return f"disk full or file too large writing {path} ({e.strerror or os.strerror(e.errno)})"


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


def join_payload(payload: Payload) -> bytes:
    """A payload as one bytes object (for tests and small files); copies each chunk as it comes.

    >>> join_payload(iter([b"ab", np.array([1], "<u2")]))
    b'ab\\x01\\x00'
    """
    if isinstance(payload, _BUFFERS):
        return bytes(memoryview(payload).cast("B"))
    return b"".join([bytes(memoryview(chunk).cast("B")) for chunk in payload])


def _write_one(tmp: Path, payload: Payload) -> None:
    """Writes a payload's chunks to `tmp` and fsyncs it."""
    chunks = [payload] if isinstance(payload, _BUFFERS) else payload
    with open(tmp, "wb") as f:
        for chunk in chunks:
            f.write(memoryview(chunk).cast("B"))
        f.flush()
        os.fsync(f.fileno())


def write_files(files: Mapping[Union[str, os.PathLike], Payload]) -> list[Path]:
    """Writes every `{path: payload}` atomically; on any failure none of them is created or changed.

    Returns the paths written, in order.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> [p.name for p in write_files({f"{d}/a.txt": b"x", f"{d}/b.txt": [b"y", b"z"]})]
    ['a.txt', 'b.txt']
    """
    paths = [Path(p) for p in files]
    if len(set(paths)) != len(paths):
        raise ExportError(f"{paths[0]}: export would write the same file twice")
    path = paths[0] if paths else "?"
    try:
        with contextlib.ExitStack() as stack:
            # Renames happen as the stack unwinds, after every temporary file is complete.
            for path, payload in zip(paths, files.values()):
                _write_one(stack.enter_context(atomic_path(path)), payload)
    except OSError as e:  # a full disk is reported by atomic_path, naming the file it was writing
        raise ExportError(f"{e.filename or path}: cannot write ({e.strerror or e})") from None
    return paths


def sidecar_path(path: Union[str, os.PathLike]) -> Path:
    """The JSON sidecar beside a heightmap file: `tile.png` -> `tile.json`.

    >>> sidecar_path("out/tile_3_4.png").as_posix()
    'out/tile_3_4.json'
    """
    return Path(path).with_suffix(".json")
