"""Checkpoints and shipped weights: arrays in one .npz plus JSON metadata; never pickle.

A file holds every leaf of an NNX state under its path name and a `__meta__` entry (UTF-8 JSON bytes).
Restoring fills a skeleton of known shape: names, shapes and dtypes must all match, and the stored
config must equal the expected one, or a TerrainGanError names the file and the first mismatch.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from terrain_gan import fileio
from terrain_gan.errors import TerrainGanError

FORMAT = "terrain_gan/state-v1"
_ZIP_MAGIC = b"PK\x03\x04"  # every .npz is a zip archive


def _flat(state: nnx.State) -> tuple[dict[str, np.ndarray], jax.tree_util.PyTreeDef]:
    """State pytree -> ({path name: array}, treedef)."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(state)
    names = [jax.tree_util.keystr(path, simple=True, separator="/") for path, _ in leaves]
    return dict(zip(names, (leaf for _, leaf in leaves))), treedef


def save(path: str | os.PathLike, state, meta: dict) -> None:
    """Writes `state` (an nnx.State) and `meta` to `path` atomically."""
    arrays, _ = _flat(state)
    arrays = {name: np.asarray(jax.device_get(a)) for name, a in arrays.items()}
    blob = json.dumps(dict(meta, format=FORMAT), sort_keys=True).encode()
    with fileio.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, __meta__=np.frombuffer(blob, np.uint8), **arrays)
            f.flush()
            os.fsync(f.fileno())


def read_meta(path: str | os.PathLike) -> dict:
    """The JSON metadata of a checkpoint or weights file, checked to be one of ours."""
    with _open(path) as data:
        return _meta(data, path)


def restore(path: str | os.PathLike, skeleton_state, *, expect: dict | None = None):
    """Loads `path` into a state shaped like `skeleton_state`; returns (state, meta).

    `expect` maps metadata keys to the values they must have (the config, say).
    """
    with _open(path) as data:
        meta = _meta(data, path)
        for key, want in (expect or {}).items():
            if meta.get(key) != want:
                raise TerrainGanError(f"{path}: checkpoint was made with a different {key}; "
                                      "use the config it was trained with, or a new workdir")
        skeleton, treedef = _flat(skeleton_state)
        missing = sorted(set(skeleton) - set(data.files))
        if missing:
            raise TerrainGanError(f"{path}: checkpoint lacks {missing[0]} (from another model?)")
        leaves = []
        for name, like in skeleton.items():
            array = data[name]
            if array.shape != like.shape or array.dtype != like.dtype:
                raise TerrainGanError(f"{path}: {name} is {array.dtype}{list(array.shape)}, "
                                      f"expected {like.dtype}{list(like.shape)} (from another config?)")
            leaves.append(array)
    return jax.tree_util.tree_unflatten(treedef, leaves), meta


def _open(path):
    path = Path(path)
    if not path.is_file():
        raise TerrainGanError(f"{path}: checkpoint or weights file not found")
    data = path.read_bytes()  # into memory first: numpy leaves the file open when the archive is corrupt
    if not data.startswith(_ZIP_MAGIC):  # refuse anything but an .npz before numpy guesses (pickle, say)
        raise TerrainGanError(f"{path}: not a terrain_gan checkpoint (not an .npz archive)")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise TerrainGanError(f"{path}: not a terrain_gan checkpoint (unreadable: {e})") from None


def _meta(data, path) -> dict:
    try:
        meta = json.loads(bytes(data["__meta__"]).decode())
    except (KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError):
        raise TerrainGanError(f"{path}: not a terrain_gan checkpoint (no readable metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise TerrainGanError(f"{path}: not a terrain_gan checkpoint (format {meta.get('format')!r})")
    return meta


def latest(workdir: str | os.PathLike) -> Path | None:
    """The newest `ckpt_<step>.npz` in `workdir`, or None."""
    steps = {int(m.group(1)): p for p in Path(workdir).glob("ckpt_*.npz")
             if (m := re.fullmatch(r"ckpt_(\d+)\.npz", p.name))}
    return steps[max(steps)] if steps else None


def state_of(module: nnx.Module):
    """The full state of a module (params, batch statistics, optimiser state)."""
    return nnx.state(module)
