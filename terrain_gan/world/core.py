"""`World`: an infinite, seamless terrain from (seed, model, layout), any tile of it on demand.

Tile (x, z) of size S (S - 1 a multiple of the generator's stride, 2^n + 1 for game engines) covers
world samples rows [z*(S-1), z*(S-1)+S) and columns [x*(S-1), x*(S-1)+S): x counts tiles east
(columns), z counts tiles south (rows, row 0 north), and neighbours share their border samples.
Every sample comes from `synth.ChunkCache`'s fixed chunk lattice, so a tile is a pure function of
(seed, model, layout, x, z, S): the same bits alone, in a batch, in any order or on another process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from terrain_gan import pretrained
from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import latents
from terrain_gan.world import synth
from terrain_gan.world.layout import Layout, height_envelope
from terrain_gan.world.remote import WorldSpec, world_array

MIN_TILE, MAX_TILE = 17, 8193
MAX_TILES = 1024  # per axis
MAX_EXTENT = 2**24  # samples per axis: world coordinates stay exact in float32


def check_tile_size(size, stride: int = 16) -> int:
    """Tile sizes are k * stride + 1 samples, MIN_TILE..MAX_TILE (2^n + 1 for Unity and Godot).

    >>> check_tile_size(513)
    513
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TerrainGanError(f"tile size must be a whole number of samples, got {size!r}")
    size = int(size)
    if not MIN_TILE <= size <= MAX_TILE:
        raise TerrainGanError(f"tile size must be {MIN_TILE}..{MAX_TILE} samples, got {size}")
    if (size - 1) % stride:
        below = (size - 1) // stride * stride + 1
        raise TerrainGanError(f"tile size {size}: tiles are k*{stride}+1 samples so that they start on the "
                              f"generator's {stride}-sample latent lattice; try {max(below, MIN_TILE)} or "
                              f"{below + stride} (2^n+1 sizes such as 257, 513, 1025 suit Unity and Godot)")
    return size


def check_grid(nx, nz, size: int) -> tuple[int, int]:
    """A grid of nx x nz tiles: positive, at most MAX_TILES a side and MAX_EXTENT samples across."""
    for n, axis in ((nx, "x"), (nz, "z")):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_TILES:
            raise TerrainGanError(f"tile count along {axis} must be 1..{MAX_TILES}, got {n!r}")
        if n * (size - 1) + 1 > MAX_EXTENT:
            raise TerrainGanError(f"{n} tiles of {size} along {axis} exceed {MAX_EXTENT} samples")
    return int(nx), int(nz)


class World:
    """A world: seed + model (+ layout, + period for a torus). Heights are float32 metres.

    Args:
      seed: world seed, 0..2^32-1.
      model: shipped model name, weights path, or a loaded `pretrained.Model`.
      layout: large-scale layout (`world.layout.Layout`); default a varied relief field.
        `Layout(relief_variation=0.0)` gives the model's own heights, as `generate` makes them.
      period: (rows, cols) samples, multiples of 256 (`synth.period_unit`: 512 for model v2): the
        world repeats (a torus). None: infinite.
      capacity: chunks (256 x 256 samples) kept in memory for reuse by neighbouring tiles.

    >>> w = World(7, "default")
    >>> a, b = w.tile(0, 0, 65), w.tile(1, 0, 65)
    >>> bool((a[:, -1] == b[:, 0]).all()), a.dtype.name
    (True, 'float32')
    """

    def __init__(self, seed: int, model="default", *, layout: Layout | None = None, period=None,
                 capacity: int = 64):
        self.weights = None if isinstance(model, pretrained.Model) else str(pretrained.resolve(model).resolve())
        self.model = pretrained.load_model(model)
        self.layout = Layout() if layout is None else layout
        if self.layout.roughness and getattr(self.model.generator, "steering", None) is None:
            raise TerrainGanError(f"roughness moves the coarse latents of a cascade with a steering (model v2); "
                                  f"{self.model.model_id} has none (use relief to scale its heights)")
        self.period = synth.check_period(period, self.model)
        surface = None if self.layout.plain else self.layout.surface(self.period)
        self._cache = synth.ChunkCache(self.model, seed, capacity, period=self.period, surface=surface,
                                       params=self.layout.params())
        self.seed = self._cache.seed

    @property
    def cell_size_m(self) -> float:
        return self.model.cell_size_m

    @property
    def stride(self) -> int:
        return self.model.generator.STRIDE

    def region(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        """World samples [row0, row0+rows) x [col0, col0+cols), float32 metres (a fresh array)."""
        return self._cache.region(int(row0), int(col0), int(rows), int(cols))

    def tile(self, x: int, z: int, size: int) -> np.ndarray:
        """Tile (x, z) of `size` samples square (see the module docstring for placement)."""
        size = check_tile_size(size, self.stride)
        return self.region(z * (size - 1), x * (size - 1), size, size)

    def padded_tile(self, x: int, z: int, size: int) -> np.ndarray:
        """Tile (x, z) inside a 1-sample ring of its neighbours' samples: (size+2) x (size+2), for normals."""
        size = check_tile_size(size, self.stride)
        return self.region(z * (size - 1) - 1, x * (size - 1) - 1, size + 2, size + 2)

    def tiles(self, size: int, xs: Iterable[int], zs: Iterable[int]) -> Iterator[tuple[int, int, np.ndarray]]:
        """Streams (x, z, tile) row by row (z outer, x inner), holding only the chunks neighbours reuse."""
        size = check_tile_size(size, self.stride)
        xs, zs = list(xs), list(zs)
        self.reserve(size, len(xs))
        for z in zs:
            for x in xs:
                yield x, z, self.tile(x, z, size)

    def reserve(self, size: int, tiles_per_row: int) -> None:
        """Grows the chunk cache to hold what a row-by-row sweep of `tiles_per_row` tiles reuses."""
        chunks_across = tiles_per_row * (size - 1) // synth.CHUNK + 2
        self._cache.capacity = max(self._cache.capacity, 3 * chunks_across + 9)

    def height_envelope(self, rows: tuple[int, int], cols: tuple[int, int]) -> tuple[float, float]:
        """An a-priori height range (metres) for world samples [rows) x [cols): see `world.layout.GAN_ENVELOPE`."""
        m = self.model
        if self.layout.plain:
            return height_envelope(None, self.layout, m.height_mean_m, m.height_std_m, rows, cols, self.period)
        steer = getattr(m.generator, "steering", None)
        return height_envelope(latents.world_key(self.seed), self.layout, m.height_mean_m, m.height_std_m,
                               rows, cols, self.period,
                               guide_clip=None if steer is None else steer.reach_m)

    def spec(self) -> WorldSpec:
        """This world as a picklable description for Dask workers (needs a weights file, not a bare Model)."""
        if self.weights is None:
            raise TerrainGanError("a world made from a loaded Model cannot be sent to Dask workers; "
                                  "make it from a shipped model name or a weights path")
        return WorldSpec(self.seed, self.weights, self.model.sha256, self.layout, self.period)

    @classmethod
    def from_spec(cls, spec: WorldSpec, **kwargs) -> "World":
        """Rebuilds a world from `spec`, checking the weights file is the one the spec names."""
        world = cls(spec.seed, Path(spec.weights), layout=spec.layout, period=spec.period, **kwargs)
        if world.model.sha256 != spec.sha256:
            raise TerrainGanError(f"{spec.weights}: weights differ from the ones this world was made with "
                                  f"(sha256 {world.model.sha256[:12]}, expected {spec.sha256[:12]})")
        return world

    def to_dask(self, size: int, grid: tuple[int, int], origin: tuple[int, int] = (0, 0)):
        """A lazy `dask.array` of the tiles origin .. origin+grid (one chunk per tile; needs `terrain-gan[dask]`)."""
        size = check_tile_size(size, self.stride)
        return world_array(self, World.from_spec, size, check_grid(*grid, size), origin)
