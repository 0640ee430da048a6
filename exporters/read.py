"""Reading heightmaps written by terrain-gan back into metres: for tests and `terrain-gan export` input.

16-bit files (PNG16, RAW16, R16) need the JSON sidecar beside them (`tile.png` -> `tile.json`) for
the heights their codes stand for (`min_height_m` / `max_height_m`, in a section named after the
format, e.g. {"png16": {...}}, or else at the top level); float files (.npy, .tif, .exr) carry metres themselves and take
the cell size from the sidecar when there is one (a GeoTIFF also from its ModelPixelScale tag).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from exporters.errors import ExportError
from exporters.files import sidecar_path
from exporters.heightmap import format_from_path
from exporters.quantize import check_heightmap, dequantize_u16


def read_sidecar(path, *, required: bool) -> dict:
    """The JSON sidecar of heightmap `path` as a dict ({} when absent and not `required`)."""
    side = sidecar_path(path)
    if not side.is_file():
        if required:
            raise ExportError(f"{path}: needs its sidecar {side.name} (min_height_m, max_height_m, "
                                  "cell_size_m) to recover metres")
        return {}
    try:
        meta = json.loads(side.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportError(f"{side}: unreadable sidecar ({e})") from None
    if not isinstance(meta, dict):
        raise ExportError(f"{side}: sidecar must be a JSON object")
    return meta


def _sidecar_float(meta: dict, key: str, path) -> float:
    """meta[key] as a float, or a one-line error naming the sidecar."""
    try:
        return float(meta[key])
    except (KeyError, TypeError, ValueError):
        raise ExportError(f"{sidecar_path(path)}: missing or bad {key!r}") from None


def _read_png16(path: Path) -> np.ndarray:
    import imageio.v3 as iio

    q = iio.imread(path)
    if q.dtype != np.uint16 or q.ndim != 2:
        raise ExportError(f"{path}: expected a 16-bit greyscale PNG, got {q.dtype} {q.shape}")
    return q


def _read_u16_raw(path: Path, meta: dict, big_endian: bool = False) -> np.ndarray:
    rows, cols = int(_sidecar_float(meta, "rows", path)), int(_sidecar_float(meta, "columns", path))
    data = np.fromfile(path, ">u2" if big_endian else "<u2")
    if data.size != rows * cols:
        raise ExportError(f"{path}: holds {data.size} samples, sidecar says {rows}x{cols}")
    return data.reshape(rows, cols)


def _read_tif(path: Path) -> tuple[np.ndarray, dict]:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        h = page.asarray()
        meta = {}
        try:
            meta = json.loads(page.description) if page.description.startswith("{") else {}
        except json.JSONDecodeError:
            meta = {}
        scale = page.tags.get(33550)
        if "cell_size_m" not in meta and scale is not None:
            meta["cell_size_m"] = float(scale.value[0])
    return h, meta


def _read_exr(path: Path) -> np.ndarray:
    try:
        import OpenEXR
    except ImportError:
        raise ExportError(f"{path}: reading EXR needs OpenEXR: pip install 'terrain-gan[exr]'") from None
    with OpenEXR.File(str(path)) as f:
        channels = f.channels()
        if "R" not in channels:
            raise ExportError(f"{path}: EXR has no channel 'R' (has {', '.join(channels)})")
        return np.array(channels["R"].pixels, np.float32)


def read_heightmap(path, fmt: str | None = None) -> tuple[np.ndarray, dict]:
    """Reads a heightmap file back as float32 metres (row 0 = north) and its metadata.

    Args:
      path: a file written by `write_heightmap` (png16/raw16/r16 need their JSON sidecar).
      fmt: format name; None: from the suffix.

    Returns:
      (height_HxW, meta): meta holds at least "format" and "cell_size_m" (None when unknown).

    >>> import tempfile, os
    >>> from exporters.heightmap import write_heightmap
    >>> from exporters.files import json_bytes, write_files
    >>> p = os.path.join(tempfile.mkdtemp(), "t.r16")
    >>> sidecar = write_heightmap(np.array([[1.0, 2.0], [3.0, 4.0]]), p, cell_size_m=5)
    >>> _ = write_files({p[:-4] + ".json": json_bytes(sidecar)})
    >>> read_heightmap(p)[0].tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    path = Path(path)
    fmt = format_from_path(path, fmt)
    if not path.is_file():
        raise ExportError(f"{path}: no such heightmap file")
    u16 = fmt in ("png16", "raw16", "r16")
    meta = read_sidecar(path, required=u16)
    try:
        if fmt == "npy":
            h = np.load(io.BytesIO(path.read_bytes()), allow_pickle=False)  # a zip inside leaks no handle
        elif fmt == "tif":
            h, tags = _read_tif(path)
            meta = {**tags, **meta}
        elif fmt == "exr":
            h = _read_exr(path)
        else:
            q = _read_png16(path) if fmt == "png16" else _read_u16_raw(path, meta)
            if fmt == "raw16":
                q = q[::-1]  # Unity RAW16 rows run south first
            codes = meta[fmt] if isinstance(meta.get(fmt), dict) else meta  # a section per format, or top level
            lo = _sidecar_float(codes, "min_height_m", path)
            h = dequantize_u16(q, lo, _sidecar_float(codes, "max_height_m", path))
    except ExportError:
        raise
    except Exception as e:  # a decoder's own error on a corrupt file: one line naming it
        raise ExportError(f"{path}: cannot read as {fmt} ({type(e).__name__}: {e})") from None
    h = check_heightmap(h, str(path))
    cell = meta.get("cell_size_m")
    meta = {**meta, "format": fmt, "cell_size_m": None if cell is None else float(cell)}
    return h, meta
