"""Exporting a heightmap file that terrain-gan wrote (`terrain-gan export`): read it, fill defaults from
its sidecar, refuse to overwrite the input, and encode. Reads files; writes none.
"""

from __future__ import annotations

from pathlib import Path

from exporters.errors import ExportError
from exporters.export import check_formats, export_files
from exporters.files import Payload, sidecar_path
from exporters.options import ExportOptions
from exporters.read import read_heightmap

# Suffixes an --out may carry by mistake ("out/t.glb"): dropped, the stem is what counts.
_OUTPUT_SUFFIXES = frozenset({".glb", ".gltf", ".bin", ".obj", ".mtl", ".png", ".tif", ".tiff", ".npy", ".raw",
                              ".r16", ".exr", ".tscn", ".json"})


def output_stem(source, out=None) -> Path:
    """The export's stem: `out` without a known output suffix (an existing folder: the input's name in
    it), else the input's path without its suffix.

    >>> output_stem("maps/t.png").as_posix(), output_stem("maps/t.png", "out/t2.glb").as_posix()
    ('maps/t', 'out/t2')
    >>> output_stem("maps/t.png", ".").as_posix()
    't'
    """
    if out is not None and Path(out).is_dir():
        return Path(out) / Path(source).with_suffix("").name
    stem = Path(source).with_suffix("") if out is None else Path(out)
    return stem.with_suffix("") if stem.suffix.lower() in _OUTPUT_SUFFIXES else stem


def _recorded_range(meta: dict, height) -> tuple[float, float] | None:
    """The (min_height_m, max_height_m) a sidecar records (e.g. a world's range), if it holds the heights."""
    try:
        lo, hi = float(meta["min_height_m"]), float(meta["max_height_m"])
    except (KeyError, TypeError, ValueError):
        return None
    return (lo, hi) if lo <= float(height.min()) and float(height.max()) <= hi else None


def export_from_file(source, formats, *, out=None, cell_size_m=None, height_range=None,
                     options: ExportOptions | None = None) -> dict[Path, Payload]:
    """Reads heightmap `source` (.png + .json sidecar, .npy, .tif, .exr, .r16, .raw) and encodes it.

    Args:
      source: a heightmap file written by terrain-gan (16-bit ones need their JSON sidecar).
      formats: export format names (see `exporters.FORMAT_NAMES`).
      out: output stem (default: beside the input, same name); a trailing known suffix is dropped.
      cell_size_m: metres between samples; default: the sidecar's (or the GeoTIFF's pixel scale).
      height_range: (lo, hi) for 16-bit codes; default: the input's own 16-bit range if it has one.
      options: ExportOptions.

    Returns:
      {path: payload}, for `exporters.write_files`.

    >>> import tempfile, numpy as np
    >>> d = Path(tempfile.mkdtemp())
    >>> np.save(d / "m.npy", np.zeros((5, 5), np.float32))
    >>> sorted(p.name for p in export_from_file(d / "m.npy", "glb,obj", cell_size_m=2.0))
    ['m.glb', 'm.obj']
    """
    names = check_formats(formats)  # a bad format name costs no reading
    source = Path(source)
    if out is not None and Path(out).is_file() and Path(out).suffix.lower() not in _OUTPUT_SUFFIXES:
        raise ExportError(f"{out}: --out is an existing file; give a folder or an output path without suffix")
    height, meta = read_heightmap(source)
    if cell_size_m is None:
        cell_size_m = meta.get("cell_size_m")
        if cell_size_m is None:
            raise ExportError(f"{source}: no cell size in the file or a sidecar; pass --cell-size METRES")
    if height_range is None:
        height_range = _recorded_range(meta, height)
    stem = output_stem(source, out)
    if not (stem.parent if str(stem.parent) else Path(".")).is_dir():
        raise ExportError(f"{stem}: output folder {stem.parent} does not exist")
    files = export_files(height, stem, names, cell_size_m=cell_size_m, height_range=height_range,
                         options=options)
    inputs = {source.resolve(), sidecar_path(source).resolve()}
    for path in files:
        if path.resolve() in inputs:
            raise ExportError(f"{path}: the export would overwrite its own input; pass --out another/stem")
    return files
