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

from terrain_gan.errors import TerrainGanError

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
        raise TerrainGanError(f"{name}: Unity needs a square heightmap of 2^n+1 samples (33, 65, ..., 4097), "
                              f"got {rows}x{cols}; pass --resample (resample=True) to resample it")
    fits = [n for n in UNITY_RESOLUTIONS if n >= max(rows, cols)]
    if not fits:
        raise TerrainGanError(f"{name}: {rows}x{cols} is larger than Unity's 4097x4097 limit; "
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


def unity_tile_stem(stem: str, key: tuple[int, int], n_tile_rows: int) -> str:
    """`stem_X_Z` for world tile (row, col): X = col (east), Z = tiles north of the southernmost row.

    >>> unity_tile_stem("world", (0, 2), 3)
    'world_2_2'
    """
    row, col = key
    return f"{stem}_{col}_{n_tile_rows - 1 - row}"


def unity_settings(shape: tuple[int, int], cell_size_m: float, lo: float, hi: float, *,
                   height_scale: float, scale: float, position_xz=(0.0, 0.0)) -> dict:
    """What to enter in Unity's Import Raw dialog and the Terrain's transform, as JSON-ready numbers.

    >>> s = unity_settings((65, 65), 10.0, 100.0, 165.535, height_scale=1.0, scale=1.0)
    >>> s["terrain_size"], s["position"]["y"]
    ({'x': 640.0, 'y': 65.536, 'z': 640.0}, 100.0)
    """
    rows, cols = shape
    k = height_scale * scale
    return {
        "import_raw": {"depth": "Bit 16", "resolution": rows, "byte_order": "Windows", "flip_vertically": False},
        # Terrain Width / Height / Length in Unity units (metres x scale).
        "terrain_size": {"x": (cols - 1) * cell_size_m * scale, "y": round((hi - lo) * k * 65536 / 65535, 9),
                         "z": (rows - 1) * cell_size_m * scale},
        "position": {"x": position_xz[0], "y": lo * k, "z": position_xz[1]},
        "heightmap_resolution": rows,
        # Terrain Toolbox "Height Remap": the heights codes 0 and 65535 stand for.
        "height_remap": {"min": lo * k, "max": hi * k},
    }
