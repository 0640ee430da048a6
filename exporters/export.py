"""`export_files`: every format of one heightmap's export as `{path: payload}`, from a registry of formats.

Each format is one pure encoder `(ExportJob) -> ({path: payload}, sidecar section)` in `FORMATS`;
adding a format is adding one entry. Bundles ("unity", "godot") may also name the formats they
include. Heightmap formats share one JSON sidecar, `stem.json`: the common facts at the top level
(what `read_heightmap` needs: rows, columns, cell size, the heights codes 0 and 65535 stand for)
and one section per format. Nothing here writes: hand the result to `exporters.write_files`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

from exporters.errors import ExportError
from exporters.files import Payload, json_bytes
from exporters.godot import godot_files
from exporters.heightmap import HEIGHTMAP_FORMATS, encode_heightmap
from exporters.job import ExportJob, export_job
from exporters.masks import mask_files
from exporters.mesh_formats import glb_files, gltf_text_files, obj_files
from exporters.options import ExportOptions
from exporters.unity import unity_files


class ExportFormat(NamedTuple):
    """One `--formats` name: its encoder, the formats it brings along, and a line of help."""

    encode: Callable[[ExportJob], tuple[dict, dict]]
    includes: tuple[str, ...]
    help: str


def _heightmap_encoder(fmt: str) -> Callable[[ExportJob], tuple[dict, dict]]:
    """The encoder of heightmap format `fmt`: `stem<suffix>` in metres (16-bit over the job's range)."""
    def encode(job: ExportJob) -> tuple[dict, dict]:
        path = job.path(HEIGHTMAP_FORMATS[fmt].suffix)
        data, meta = encode_heightmap(job.height, fmt, cell_size_m=job.cell_size_m,
                                      height_range=job.height_range, name=str(path))
        return {path: data}, {"file": path.name, **{k: meta[k] for k in _FORMAT_KEYS if k in meta}}
    return encode


_FORMAT_KEYS = ("format", "row0", "encoding", "byte_order", "min_height_m", "max_height_m", "height_step_m")
_HEIGHTMAP_HELP = {"png16": "16-bit greyscale PNG", "tif": "float32 GeoTIFF (metres, pixel-scale tags)",
                   "npy": "float32 NumPy array", "raw16": "16-bit little-endian RAW, rows south first",
                   "r16": "16-bit little-endian R16, rows north first", "exr": "float32 OpenEXR, channel R"}

FORMATS: dict[str, ExportFormat] = {
    "glb": ExportFormat(glb_files, (), "binary glTF 2.0 mesh"),
    "gltf": ExportFormat(gltf_text_files, (), "glTF 2.0 mesh: .gltf JSON + .bin buffer"),
    "obj": ExportFormat(obj_files, (), "Wavefront OBJ mesh (+ .mtl and texture PNG with --texture)"),
    **{fmt: ExportFormat(_heightmap_encoder(fmt), (), _HEIGHTMAP_HELP[fmt]) for fmt in HEIGHTMAP_FORMATS},
    "unity": ExportFormat(unity_files, (), "Unity terrain: RAW16 named _X_Z + JSON of Terrain settings"),
    "godot": ExportFormat(godot_files, ("glb", "exr", "r16"),
                          "Godot 4: GLB + .tscn, EXR (Terrain3D) and R16 (HTerrain) + import settings"),
    "masks": ExportFormat(mask_files, (), "texturing masks: slope, height bands, curvature, wetness (8-bit PNG) "
                                          "and RGBA splat maps"),
}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)
_SIDECAR_FORMATS = frozenset(HEIGHTMAP_FORMATS) | {"godot", "masks"}


def check_formats(formats) -> tuple[str, ...]:
    """Format names (a sequence or a comma-separated string) checked, deduplicated, bundles expanded.

    >>> check_formats("godot,glb")
    ('godot', 'glb', 'exr', 'r16')
    """
    try:
        names = [f.strip() for f in formats.split(",")] if isinstance(formats, str) else list(formats)
    except TypeError:
        names = []
    names = [n for n in names if n]
    if not names:
        raise ExportError(f"no export formats given; choose from {', '.join(FORMAT_NAMES)}")
    for n in names:
        if n not in FORMATS:
            raise ExportError(f"unknown export format {n!r}; choose from {', '.join(FORMAT_NAMES)}")
    out = list(dict.fromkeys(names))
    for n in list(out):
        out += [i for i in FORMATS[n].includes if i not in out]
    return tuple(out)


def _sidecar(job: ExportJob, sections: dict[str, dict]) -> bytes:
    """The shared `stem.json`: common facts at the top level, then a section per format."""
    h, (lo, hi) = job.height, job.height_range
    top = {
        "rows": h.shape[0], "columns": h.shape[1], "cell_size_m": job.cell_size_m, "height_units": "m",
        "size_m": list(job.size_m), "row0": "north", "column0": "west",
        "data_min_m": float(h.min()), "data_max_m": float(h.max()),
        # The heights 16-bit codes 0 and 65535 stand for (one range for every tile of a world).
        "min_height_m": lo, "max_height_m": hi, "height_step_m": (hi - lo) / 65535,
        "options": job.options.as_json(),
    }
    if job.tile is not None:
        top.update(tile=list(job.tile), grid=list(job.grid), origin_m=list(job.origin_m))
    return json_bytes({**top, **sections})


def export_parts(height_HxW, stem, formats, *, cell_size_m, height_range=None, padded=None, tile=None,
                 grid=None, options: ExportOptions | None = None) -> tuple[dict, dict, ExportJob]:
    """`export_files` without the shared sidecar: ({path: payload}, {format: sidecar section}, job).

    For callers that write their own sidecar (`terrain-gan generate`) and merge the sections into it.

    >>> import numpy as np
    >>> files, sections, job = export_parts(np.zeros((33, 33)), "out/t", "obj,unity", cell_size_m=16)
    >>> sorted(p.name for p in files), sections["unity"]["terrain_size"]["x"]
    (['t.obj', 't_unity.json', 't_unity.raw'], 512.0)
    """
    names = check_formats(formats)
    job = export_job(height_HxW, stem, cell_size_m=cell_size_m, height_range=height_range, padded=padded,
                     tile=tile, grid=grid, options=options)
    files, sections = {}, {}
    for name in names:
        made, section = FORMATS[name].encode(job)
        clash = set(made) & set(files)
        if clash:
            raise ExportError(f"{sorted(clash)[0]}: two formats would write this file")
        files.update(made)
        sections[name] = section
    return files, sections, job


def export_files(height_HxW, stem, formats, *, cell_size_m, height_range=None, padded=None, tile=None,
                 grid=None, options: ExportOptions | None = None) -> dict[Path, Payload]:
    """Encodes one heightmap in every requested format; returns {path: payload} and writes nothing.

    Args:
      height_HxW: heights in metres, row 0 = north, column 0 = west.
      stem: output path without suffix (e.g. `world/tile_3_5`); each format adds its own suffix.
      formats: names from FORMAT_NAMES (a sequence, or one comma-separated string).
      cell_size_m: metres between samples.
      height_range: (lo, hi) metres for every 16-bit code and height tint (a world's, for its tiles);
        default: this map's min / max.
      padded: (H+2) x (W+2) heights with a 1-sample ring of the neighbouring tiles (NaN = none), so
        mesh normals, slopes and shading match across tile borders; or a wider surround of real heights
        ((H+2k) x (W+2k), k >= `exporters.masks.MASK_HALO`), which "masks" needs for tiles that agree.
      tile: (x, z) of a world tile: x east, z = tile row from the north. grid: (nx, nz) tiles.
      options: an ExportOptions (scale, height_scale, lod, skirt, colours, texture, resample).

    Returns:
      {path: payload} for `exporters.write_files` (payloads may be chunk iterators: write each once).

    >>> import numpy as np
    >>> files = export_files(np.zeros((3, 3)), Path("out/t"), "glb,r16", cell_size_m=10)
    >>> sorted(p.as_posix() for p in files)
    ['out/t.glb', 'out/t.json', 'out/t.r16']
    """
    files, sections, job = export_parts(height_HxW, stem, formats, cell_size_m=cell_size_m,
                                        height_range=height_range, padded=padded, tile=tile, grid=grid,
                                        options=options)
    if _SIDECAR_FORMATS & set(sections):
        side = job.path(".json")
        if side in files:
            raise ExportError(f"{side}: two formats would write this file")
        files[side] = _sidecar(job, sections)
    return files
