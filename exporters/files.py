"""The one place exporters touch the filesystem: all of an export's files, written atomically together.

Encoders return `{path: payload}` where a payload is bytes-like or an iterable of bytes-like
chunks (numpy arrays are written straight from memory, never joined into one copy). A chunk may
live in a buffer the encoder reuses, so each is written (or copied) before the next is taken. Every file goes to
a temporary name beside its target; only when all of them are written and fsynced are they
renamed, so a failure leaves no partial file and no half of a multi-file export.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from terrain_gan.errors import TerrainGanError
from terrain_gan.fileio import atomic_path

Payload = Union[bytes, bytearray, memoryview, np.ndarray, Sequence]
_BUFFERS = (bytes, bytearray, memoryview, np.ndarray)


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
        raise TerrainGanError(f"{paths[0]}: export would write the same file twice")
    try:
        with contextlib.ExitStack() as stack:
            # Renames happen as the stack unwinds, after every temporary file is complete.
            for path, payload in zip(paths, files.values()):
                _write_one(stack.enter_context(atomic_path(path)), payload)
    except OSError as e:
        name = e.filename or (paths[0] if paths else "?")
        raise TerrainGanError(f"{name}: cannot write ({e.strerror or e})") from None
    return paths


def sidecar_path(path: Union[str, os.PathLike]) -> Path:
    """The JSON sidecar beside a heightmap file: `tile.png` -> `tile.json`.

    >>> sidecar_path("out/tile_3_4.png").as_posix()
    'out/tile_3_4.json'
    """
    return Path(path).with_suffix(".json")
