"""World tiles: a grid of heightmaps that share their border samples, and what each tile needs of its neighbours.

Tiles are keyed (row, col), row 0 = north, col 0 = west. Neighbours share a border: tile (r, c+1)'s
first column is tile (r, c)'s last, and tile (r+1, c)'s first row is tile (r, c)'s last (as when
they are cut from one big heightmap with origins `size - 1` apart). So tile (r, c)'s north-west
sample sits at x = c * (cols - 1) * cell, z = r * (rows - 1) * cell, and the meshes meet exactly.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from exporters.quantize import check_heightmap
from terrain_gan.errors import TerrainGanError

Key = tuple[int, int]


def check_tiles(tiles: Mapping[Key, np.ndarray]) -> dict[Key, np.ndarray]:
    """Tiles as float32, checked: one shape for all, shared borders equal bit for bit."""
    if not tiles:
        raise TerrainGanError("world export: no tiles given")
    out = {(int(r), int(c)): check_heightmap(h, f"tile ({r}, {c})") for (r, c), h in tiles.items()}
    shapes = {h.shape for h in out.values()}
    if len(shapes) != 1:
        raise TerrainGanError(f"world export: tiles must all have one shape, got {sorted(shapes)}")
    for (r, c), h in out.items():
        east, south = out.get((r, c + 1)), out.get((r + 1, c))
        if east is not None and not np.array_equal(h[:, -1], east[:, 0]):
            raise TerrainGanError(f"tile ({r}, {c + 1}): first column differs from tile ({r}, {c})'s last; "
                                  "world tiles must share their border samples")
        if south is not None and not np.array_equal(h[-1], south[0]):
            raise TerrainGanError(f"tile ({r + 1}, {c}): first row differs from tile ({r}, {c})'s last; "
                                  "world tiles must share their border samples")
    return out


def padded_tile(tiles: Mapping[Key, np.ndarray], key: Key) -> np.ndarray:
    """Tile `key` inside a 1-sample ring from its neighbours (NaN where there is none), for normals.

    The ring holds the samples just beyond the shared border: the neighbour's second row or column.

    >>> a, b = np.zeros((3, 3), np.float32), np.ones((3, 3), np.float32)
    >>> b[:, 0] = 0
    >>> padded_tile({(0, 0): a, (0, 1): b}, (0, 0))[1].tolist()
    [nan, 0.0, 0.0, 0.0, 1.0]
    """
    r, c = key
    h = np.asarray(tiles[key], np.float32)
    p = np.full((h.shape[0] + 2, h.shape[1] + 2), np.nan, np.float32)
    p[1:-1, 1:-1] = h
    if (r - 1, c) in tiles:
        p[0, 1:-1] = tiles[(r - 1, c)][-2]
    if (r + 1, c) in tiles:
        p[-1, 1:-1] = tiles[(r + 1, c)][1]
    if (r, c - 1) in tiles:
        p[1:-1, 0] = tiles[(r, c - 1)][:, -2]
    if (r, c + 1) in tiles:
        p[1:-1, -1] = tiles[(r, c + 1)][:, 1]
    return p


def tile_origin_m(key: Key, shape: tuple[int, int], cell_size_m: float) -> tuple[float, float]:
    """(x, z) metres of a tile's north-west sample in the world (+X east, +Z south).

    >>> tile_origin_m((1, 2), (33, 65), 10.0)
    (1280.0, 320.0)
    """
    r, c = key
    return c * (shape[1] - 1) * cell_size_m, r * (shape[0] - 1) * cell_size_m


def world_range(tiles: Mapping[Key, np.ndarray]) -> tuple[float, float]:
    """(min, max) metres over all tiles: one height range, so 16-bit codes and tints agree across tiles."""
    return (float(min(h.min() for h in tiles.values())), float(max(h.max() for h in tiles.values())))
