"""Are seams visible? The seam-to-interior ratio of |second difference| across tile borders.

A second difference taken across a tile border (the shared border sample and one sample on each
side) is compared with the same quantity inside tiles. Terrain cut from one continuous surface
scores 1 (up to sampling noise); independently made tiles score far above (a crease at every
border), and blending across borders scores below (too smooth there).

A generator whose texture repeats with its latent stride (16 samples) makes |d2| depend on the
position within a latent cell, and world tile borders always sit at the same position (a latent
cell edge). `phase_ratio` therefore also compares borders with interior samples at that same
position, which separates what the tiling does from what the generator does everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class SeamStats:
    """Running sums of |second difference| on tile borders and inside tiles (float64).

    `stride`: interior samples whose offset from the tile origin is a multiple of it are also summed
    apart (for `phase_ratio`); tile sizes are k * stride + 1.
    """

    def __init__(self, stride: int = 16):
        self.stride = stride
        self.seam_sum = self.seam_n = self.inner_sum = self.inner_n = self.phase_sum = self.phase_n = 0.0

    def add_tile(self, tile_HxW: np.ndarray, east: np.ndarray | None = None, south: np.ndarray | None = None) -> None:
        """Adds one tile's interior and its borders with its east / south neighbours (those given)."""
        t = np.asarray(tile_HxW, np.float64)
        k = self.stride
        for d2 in (t[:, :-2] - 2 * t[:, 1:-1] + t[:, 2:], (t[:-2] - 2 * t[1:-1] + t[2:]).T):
            self.inner_sum += np.abs(d2).sum()
            self.inner_n += d2.size
            matched = d2[:, k - 1::k]  # centred on offsets k, 2k, ... inside the tile
            self.phase_sum += np.abs(matched).sum()
            self.phase_n += matched.size
        if east is not None:  # across the shared column: T[:, -2], shared T[:, -1] == E[:, 0], E[:, 1]
            self._seam(t[:, -2] - 2 * t[:, -1] + np.asarray(east, np.float64)[:, 1])
        if south is not None:
            self._seam(t[-2] - 2 * t[-1] + np.asarray(south, np.float64)[1])

    def _seam(self, d2: np.ndarray) -> None:
        self.seam_sum += np.abs(d2).sum()
        self.seam_n += d2.size

    @property
    def ratio(self) -> float:
        """Mean |d2| across borders over mean |d2| inside tiles."""
        return float((self.seam_sum / self.seam_n) / (self.inner_sum / self.inner_n))

    @property
    def phase_ratio(self) -> float:
        """Mean |d2| across borders over mean |d2| inside tiles at the borders' latent-cell position."""
        return float((self.seam_sum / self.seam_n) / (self.phase_sum / self.phase_n))


def seam_stats(tile: Callable[[int, int], np.ndarray], nx: int, nz: int, stride: int = 16) -> SeamStats:
    """`SeamStats` of an nx x nz grid of tiles sharing their borders, `tile(x, z)` each.

    Streams: at most a tile and its two neighbours in memory at once (each tile is asked for 3 times).

    >>> bowl = lambda x, z: np.add.outer((np.arange(5.0) + 4 * z) ** 2, (np.arange(5.0) + 4 * x) ** 2)
    >>> seam_stats(bowl, 3, 3, stride=2).ratio  # one smooth surface: d2 = 2 everywhere
    1.0
    >>> seam_stats(lambda x, z: bowl(0, 0), 3, 3, stride=2).ratio  # the same bowl repeated: creases
    11.0
    """
    stats = SeamStats(stride)
    for z in range(nz):
        for x in range(nx):
            stats.add_tile(tile(x, z), tile(x + 1, z) if x + 1 < nx else None,
                           tile(x, z + 1) if z + 1 < nz else None)
    return stats
