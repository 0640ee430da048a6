"""Unity terrain: RAW16 heightmaps (Windows byte order) and the numbers to type into Unity.

Unity's "Import Raw" puts the file's first row at the terrain's z = 0 edge and, with +Z = north
in Unity, that is the south edge: RAW16 rows are written south first (see `exporters.heightmap`),
so "Flip Vertically" stays unticked. Unity reads a code q as q / 65536 of the Terrain Height
(not q / 65535), so the Terrain Height given is (max - min) * 65536 / 65535: code 65535 then
lands exactly on the maximum height. Heightmaps must be square, 2^n + 1 samples, 33 .. 4097.
Multi-tile names end `_X_Z` (Terrain Toolbox batch import): X counts tiles east, Z north.
"""

from __future__ import annotations

import numpy as np

from exporters.errors import ExportError
from exporters.files import json_bytes

UNITY_RESOLUTIONS = tuple(2**n + 1 for n in range(5, 13))  # 33 .. 4097


def unity_resolution(shape: tuple[int, int], *, resample: bool, name: str) -> int:
    """The Unity heightmap resolution for a map of `shape`: its own, or (resample) the next 2^n + 1.

    >>> unity_resolution((65, 65), resample=False, name="t"), unity_resolution((100, 90), resample=True, name="t")
    (65, 129)
    """
    rows, cols = shape
    if rows == cols and rows in UNITY_RESOLUTIONS:
        return rows
    if not resample:
        raise ExportError(f"{name}: Unity needs a square heightmap of 2^n+1 samples (33, 65, ..., 4097), "
                              f"got {rows}x{cols}; pass --resample (resample=True) to resample it")
    fits = [n for n in UNITY_RESOLUTIONS if n >= max(rows, cols)]
    if not fits:
        raise ExportError(f"{name}: {rows}x{cols} is larger than Unity's 4097x4097 limit; "
                              "split it into tiles first")
    return fits[0]


def resample_bilinear(height_HxW: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Bilinear resampling with corners kept: sample i sits at i * (H - 1) / (rows - 1).

    Border samples come only from border samples, so tiles that share a border still do.

    >>> resample_bilinear(np.array([[0.0, 2.0], [4.0, 6.0]], np.float32), 3, 3).tolist()
    [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0], [4.0, 5.0, 6.0]]
    """
    h = np.asarray(height_HxW, np.float64)

    def axis(n_in: int, n_out: int):
        t = np.linspace(0.0, n_in - 1, n_out)
        i0 = np.minimum(np.floor(t).astype(int), n_in - 2)
        return i0, (t - i0)

    r0, fr = axis(h.shape[0], rows)
    c0, fc = axis(h.shape[1], cols)
    top = h[r0][:, c0] * (1 - fc) + h[r0][:, c0 + 1] * fc
    bottom = h[r0 + 1][:, c0] * (1 - fc) + h[r0 + 1][:, c0 + 1] * fc
    return (top * (1 - fr)[:, None] + bottom * fr[:, None]).astype(np.float32)


def unity_settings(resolution: int, size_xz_m: tuple[float, float], lo: float, hi: float, *,
                   height_scale: float, scale: float, position_xz=(0.0, 0.0)) -> dict:
    """What to enter in Unity's Import Raw dialog, the Terrain's settings and its transform (JSON-ready).

    Args:
      resolution: samples per side of the RAW file (2^n + 1).
      size_xz_m: the terrain's (x, z) extent in metres, first sample to last.
      lo, hi: the heights in metres that codes 0 and 65535 stand for.
      height_scale, scale: as `ExportOptions` (Unity units = metres x scale).
      position_xz: the terrain's south-west corner in metres (Unity +X east, +Z north).

    >>> s = unity_settings(65, (640.0, 640.0), 100.0, 165.535, height_scale=1.0, scale=1.0)
    >>> s["terrain_size"], s["position"]["y"]
    ({'x': 640.0, 'y': 65.536, 'z': 640.0}, 100.0)
    """
    k = height_scale * scale
    # Unity reads code q as q / 65536 of the Terrain Height: this height puts code 65535 on `hi` exactly.
    terrain_height = round((hi - lo) * k * 65536 / 65535, 9)
    return {
        "import_raw": {"depth": "Bit 16", "resolution": resolution, "byte_order": "Windows",
                       "flip_vertically": False},
        # Terrain Width / Height / Length in Unity units (metres x scale).
        "terrain_size": {"x": size_xz_m[0] * scale, "y": terrain_height, "z": size_xz_m[1] * scale},
        "position": {"x": position_xz[0] * scale, "y": lo * k, "z": position_xz[1] * scale},
        "heightmap_resolution": resolution,
        # Terrain Toolbox "Height Remap": terrain heights (above the terrain's own y) for file values 0 and 1.
        "height_remap": {"min": 0.0, "max": terrain_height},
        # The world heights that codes 0 and 65535 stand for, in Unity units.
        "height_range": {"min": lo * k, "max": hi * k},
    }


def unity_files(job) -> tuple[dict, dict]:
    """`<base>_unity[_X_Z].raw` (RAW16, Windows byte order, south row first) and its `.json` of settings.

    The JSON is also the RAW's sidecar (rows, columns, min / max heights), so `read_heightmap` reads
    it back. Non-2^n+1 maps are refused unless `options.resample` (bilinear, corners and borders kept).

    >>> from exporters.job import export_job
    >>> files, s = unity_files(export_job(np.zeros((33, 33)), "w/tile_2_0", cell_size_m=10, tile=(2, 0),
    ...                                   grid=(3, 2)))
    >>> sorted(p.name for p in files), s["position"], s["tile"]
    (['tile_unity_2_1.json', 'tile_unity_2_1.raw'], {'x': 640.0, 'y': 0.0, 'z': 320.0}, {'x': 2, 'z': 1})
    """
    from exporters.heightmap import encode_heightmap
    from exporters.job import file_path, unity_name

    name = unity_name(job.stem, job.tile, job.grid)
    raw, side = file_path(job.stem.with_name(name), ".raw"), file_path(job.stem.with_name(name), ".json")
    res = unity_resolution(job.height.shape, resample=job.options.resample, name=str(raw))
    h = job.height if job.height.shape == (res, res) else resample_bilinear(job.height, res, res)
    w, l = job.size_m
    data, meta = encode_heightmap(h, "raw16", cell_size_m=w / (res - 1), height_range=job.height_range,
                                  name=str(raw))
    position = (0.0, 0.0)
    if job.tile is not None:  # Unity's +Z is north: count tile rows up from the southernmost one
        position = (job.tile[0] * w, (job.grid[1] - 1 - job.tile[1]) * l)
    o = job.options
    settings = unity_settings(res, (w, l), *job.height_range, height_scale=o.height_scale, scale=o.scale,
                              position_xz=position)
    settings.update(file=raw.name, resampled_from=None if h is job.height else list(job.height.shape))
    if job.tile is not None:
        settings["tile"] = {"x": job.tile[0], "z": job.grid[1] - 1 - job.tile[1]}
    sidecar = {**meta, "unity": settings}
    section = {"file": raw.name, "settings": side.name, **settings}
    return {raw: data, side: json_bytes(sidecar)}, section
