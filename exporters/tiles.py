"""World tiles held in memory: a dict {(x, z): heightmap} of tiles that share their border samples.

Keys follow the public API: x counts tiles east, z counts tile rows south (row index, 0 = north).
Neighbours share a border: tile (x+1, z)'s first column is tile (x, z)'s last, and tile (x, z+1)'s
first row is tile (x, z)'s last (as when cut from one big map with origins `size - 1` apart). So
tile (x, z)'s north-west sample sits at x * (cols - 1) * cell east, z * (rows - 1) * cell south.
For tests, tools, and callers that hold a world's tiles; `terrain-gan world` makes rings itself.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from exporters.errors import ExportError
from exporters.quantize import check_heightmap

Key = tuple[int, int]


def check_tiles(tiles: Mapping[Key, np.ndarray]) -> dict[Key, np.ndarray]:
    """Tiles as float32, checked: one shape for all, shared borders equal bit for bit."""
    if not tiles:
        raise ExportError("world export: no tiles given")
    out = {(int(x), int(z)): check_heightmap(h, f"tile ({x}, {z})") for (x, z), h in tiles.items()}
    shapes = {h.shape for h in out.values()}
    if len(shapes) != 1:
        raise ExportError(f"world export: tiles must all have one shape, got {sorted(shapes)}")
    for (x, z), h in out.items():
        east, south = out.get((x + 1, z)), out.get((x, z + 1))
        if east is not None and not np.array_equal(h[:, -1], east[:, 0]):
            raise ExportError(f"tile ({x + 1}, {z}): first column differs from tile ({x}, {z})'s last; "
                                  "world tiles must share their border samples")
        if south is not None and not np.array_equal(h[-1], south[0]):
            raise ExportError(f"tile ({x}, {z + 1}): first row differs from tile ({x}, {z})'s last; "
                                  "world tiles must share their border samples")
    return out


def padded_tile(tiles: Mapping[Key, np.ndarray], key: Key) -> np.ndarray:
    """Tile `key` inside a 1-sample ring from its neighbours (NaN where there is none): `export_files(padded=)`.

    The ring holds the samples just beyond the shared border: the neighbour's second row or column.

    >>> a, b = np.zeros((3, 3), np.float32), np.ones((3, 3), np.float32)
    >>> b[:, 0] = 0
    >>> padded_tile({(0, 0): a, (1, 0): b}, (0, 0))[1].tolist()
    [nan, 0.0, 0.0, 0.0, 1.0]
    """
    x, z = key
    h = np.asarray(tiles[key], np.float32)
    p = np.full((h.shape[0] + 2, h.shape[1] + 2), np.nan, np.float32)
    p[1:-1, 1:-1] = h
    if (x, z - 1) in tiles:
        p[0, 1:-1] = tiles[(x, z - 1)][-2]
    if (x, z + 1) in tiles:
        p[-1, 1:-1] = tiles[(x, z + 1)][1]
    if (x - 1, z) in tiles:
        p[1:-1, 0] = tiles[(x - 1, z)][:, -2]
    if (x + 1, z) in tiles:
        p[1:-1, -1] = tiles[(x + 1, z)][:, 1]
    return p


def tile_origin_m(key: Key, shape: tuple[int, int], cell_size_m: float) -> tuple[float, float]:
    """(x east, z south) metres of tile `key`'s north-west sample in the world.

    >>> tile_origin_m((2, 1), (33, 65), 10.0)
    (1280.0, 320.0)
    """
    x, z = key
    return x * (shape[1] - 1) * cell_size_m, z * (shape[0] - 1) * cell_size_m


def world_range(tiles: Mapping[Key, np.ndarray]) -> tuple[float, float]:
    """(min, max) metres over all tiles: one height range, so 16-bit codes and tints agree across tiles."""
    return (float(min(h.min() for h in tiles.values())), float(max(h.max() for h in tiles.values())))
