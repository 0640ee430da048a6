"""Heightmap image files: 16-bit PNG, float32 GeoTIFF, .npy, Unity RAW16, Godot R16 and float32 EXR.

Each format is one pure encoder `(height_HxW, lo, hi, metadata) -> bytes` in `HEIGHTMAP_FORMATS`;
`write_heightmap` is the only function here that writes (through `files.write_files`).
Rows are stored north first (row 0 = north), as in the array, except Unity RAW16, whose importer
puts the file's first row at the terrain's south edge (z = 0): there rows are written south first,
so that north lands on Unity's +Z with "Flip Vertically" left unticked.
The 16-bit quantisation is documented in `exporters.quantize`.
"""

from __future__ import annotations

import io
import json
from typing import Callable, NamedTuple

import numpy as np

from exporters.errors import ExportError
from exporters.files import write_files
from exporters.png import png_bytes
from exporters.quantize import check_cell_size, check_heightmap, height_range_of, quantize_u16


def geotiff_bytes(height_HxW: np.ndarray, cell_size_m: float, description: str = "") -> bytes:
    """A float32 GeoTIFF with ModelPixelScale and ModelTiepoint tags (PixelIsArea, no CRS).

    The north-west corner of pixel (0, 0) sits at x = 0, y = rows * cell_size_m, so y grows north.
    """
    import tifffile

    rows = height_HxW.shape[0]
    geokeys = (1, 1, 0, 2, 1024, 0, 1, 1, 1025, 0, 1, 1)  # version; ModelTypeProjected; PixelIsArea
    tags = [(33550, "d", 3, (cell_size_m, cell_size_m, 0.0), True),
            (33922, "d", 6, (0.0, 0.0, 0.0, 0.0, rows * cell_size_m, 0.0), True),
            (34735, "H", len(geokeys), geokeys, True)]
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.asarray(height_HxW, np.float32), photometric="minisblack",
                     compression="zlib", predictor=3, description=description,
                     metadata=None, extratags=tags)
    return buf.getvalue()


def npy_bytes(height_HxW: np.ndarray) -> bytes:
    """A float32 `.npy` file.

    >>> np.load(io.BytesIO(npy_bytes(np.ones((2, 2))))).dtype
    dtype('float32')
    """
    buf = io.BytesIO()
    np.save(buf, np.asarray(height_HxW, np.float32), allow_pickle=False)
    return buf.getvalue()


def require_openexr():
    """The OpenEXR module, or a one-line error naming the extra to install.

    >>> require_openexr().__name__
    'OpenEXR'
    """
    try:
        import OpenEXR
    except ImportError:
        raise ExportError("EXR export needs OpenEXR: pip install 'terrain-gan[exr]'") from None
    return OpenEXR


def exr_bytes(height_HxW: np.ndarray) -> bytes:
    """A single-channel float32 OpenEXR (channel `R`, ZIP compressed), as Terrain3D and HTerrain read."""
    OpenEXR = require_openexr()
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    buf = io.BytesIO()
    with OpenEXR.File(header, {"R": np.ascontiguousarray(height_HxW, np.float32)}) as f:
        f.write(buf)
    return buf.getvalue()


def _png16(h, lo, hi, meta):
    return png_bytes(quantize_u16(h, lo, hi))


def _tif(h, lo, hi, meta):
    return geotiff_bytes(h, meta["cell_size_m"], json.dumps(meta, sort_keys=True))


def _npy(h, lo, hi, meta):
    return npy_bytes(h)


def _raw16(h, lo, hi, meta):
    # Unity: Windows (little-endian) byte order, rows south first (see module docstring).
    return quantize_u16(h[::-1], lo, hi).astype("<u2").tobytes()


def _r16(h, lo, hi, meta):
    # Godot Terrain3D / HTerrain: little-endian, rows north first (image row 0 at z = 0, the -Z side).
    return quantize_u16(h, lo, hi).astype("<u2").tobytes()


def _exr(h, lo, hi, meta):
    return exr_bytes(h)


class HeightmapFormat(NamedTuple):
    """One heightmap file format: its suffix, whether it is 16-bit, and its encoder."""

    suffix: str
    is_u16: bool
    encode: Callable[[np.ndarray, float, float, dict], bytes]  # (h, lo, hi, metadata) -> bytes


HEIGHTMAP_FORMATS: dict[str, HeightmapFormat] = {
    "png16": HeightmapFormat(".png", True, _png16),
    "tif": HeightmapFormat(".tif", False, _tif),
    "npy": HeightmapFormat(".npy", False, _npy),
    "raw16": HeightmapFormat(".raw", True, _raw16),
    "r16": HeightmapFormat(".r16", True, _r16),
    "exr": HeightmapFormat(".exr", False, _exr),
}

_SUFFIXES = {".png": "png16", ".tif": "tif", ".tiff": "tif", ".npy": "npy", ".raw": "raw16",
             ".r16": "r16", ".exr": "exr"}


def format_from_path(path, fmt: str | None = None) -> str:
    """The heightmap format name: `fmt` if given (checked), else from the file suffix.

    >>> format_from_path("a/b.r16"), format_from_path("x.bin", "npy")
    ('r16', 'npy')
    """
    if fmt is not None:
        if fmt not in HEIGHTMAP_FORMATS:
            raise ExportError(f"{path}: unknown heightmap format {fmt!r}; "
                                  f"choose one of {', '.join(HEIGHTMAP_FORMATS)}")
        return fmt
    suffix = str(path).lower().rsplit(".", 1)[-1] if "." in str(path) else ""
    if f".{suffix}" not in _SUFFIXES:
        raise ExportError(f"{path}: cannot tell the heightmap format from suffix {suffix!r}; "
                              f"pass fmt= one of {', '.join(HEIGHTMAP_FORMATS)}")
    return _SUFFIXES[f".{suffix}"]


def heightmap_metadata(h: np.ndarray, fmt: str, cell: float, lo: float, hi: float) -> dict:
    """The JSON-ready description of a written heightmap (what a sidecar stores)."""
    rows, cols = h.shape
    u16 = HEIGHTMAP_FORMATS[fmt].is_u16
    meta = {
        "format": fmt, "rows": rows, "columns": cols, "cell_size_m": cell,
        "size_m": [(cols - 1) * cell, (rows - 1) * cell],  # x (east), z (south) extent, sample to sample
        "row0": "south" if fmt == "raw16" else "north",
        "data_min_m": float(h.min()), "data_max_m": float(h.max()),
        # For 16-bit formats: the heights that codes 0 and 65535 stand for.
        "min_height_m": lo if u16 else float(h.min()), "max_height_m": hi if u16 else float(h.max()),
    }
    if u16:
        meta.update(encoding="uint16, q = rint((h - min_height_m) * 65535 / (max_height_m - min_height_m))",
                    byte_order="big" if fmt == "png16" else "little",
                    height_step_m=(hi - lo) / 65535)
    else:
        meta.update(encoding="float32 metres")
    return meta


def encode_heightmap(height_HxW, fmt: str, *, cell_size_m, height_range=None,
                     name: str = "heightmap") -> tuple[bytes, dict]:
    """Encodes a heightmap in metres as file bytes of format `fmt`; returns (bytes, metadata).

    >>> data, meta = encode_heightmap(np.array([[0, 1], [2, 3]]), "r16", cell_size_m=10)
    >>> len(data), meta["max_height_m"], meta["height_step_m"] == 3 / 65535
    (8, 3.0, True)
    """
    fmt = format_from_path(name, fmt)
    h = check_heightmap(height_HxW, name)
    cell = check_cell_size(cell_size_m, name)
    lo, hi = height_range_of(h, height_range, name)
    meta = heightmap_metadata(h, fmt, cell, lo, hi)
    return HEIGHTMAP_FORMATS[fmt].encode(h, lo, hi, meta), meta


def write_heightmap(height_HxW, path, fmt: str | None = None, *, cell_size_m,
                    height_range=None) -> dict:
    """Writes a heightmap in metres to `path` atomically; returns metadata for a JSON sidecar.

    Args:
      height_HxW: 2-D heights in metres, row 0 = north; NaN, empty or 1-row maps are refused.
      path: output file; its suffix picks the format when `fmt` is None.
      fmt: one of "png16", "tif", "npy", "raw16" (Unity), "r16" (Godot), "exr" (needs `terrain-gan[exr]`).
      cell_size_m: distance between samples in metres.
      height_range: (lo, hi) metres mapped to 0..65535 by 16-bit formats; None: the map's min/max.

    Returns:
      A JSON-ready dict: format, rows, columns, cell_size_m, min_height_m / max_height_m (the heights
      codes 0 and 65535 stand for, in 16-bit formats), data_min_m / data_max_m, height_step_m, ...

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "tile.png")
    >>> write_heightmap(np.array([[0.0, 5.0], [10.0, 20.0]]), p, cell_size_m=30)["max_height_m"]
    20.0
    """
    fmt = format_from_path(path, fmt)
    data, meta = encode_heightmap(height_HxW, fmt, cell_size_m=cell_size_m,
                                  height_range=height_range, name=str(path))
    write_files({path: data})
    return meta
