"""World synthesis on a fixed chunk lattice: any region of a world, bit-identical however it is asked for.

A world (seed, model) is an infinite grid of samples. It is computed in chunks of CHUNK x CHUNK
samples aligned to multiples of CHUNK, each by the same compiled program from latents that are a
pure function of (seed, lattice cell) with a margin covering the generator's receptive field. A
region is cut from the chunks it overlaps, so every sample has exactly one value, whatever region,
order, batch or process asked for it: tiles that share an edge share it bit for bit.

A world may also carry a layout surface (`world.layout.Surface`: relief field, guide map), applied
pointwise to world coordinates inside the chunk program, and a period (a multiple of CHUNK samples
on each axis), for which latent lattice coordinates wrap, so the world repeats exactly.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading
from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import cascade, hydrology, latents
from terrain_gan.nn import model as model_lib
from terrain_gan.pretrained import Model

CHUNK = 256  # samples per chunk side: 16 latent cells
MAX_SEED = 2**32 - 1


def check_seed(seed: int) -> int:
    """Seeds are integers in [0, 2^32)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise TerrainGanError(f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return int(seed)


def require_spatial(model: Model) -> None:
    if not model.spatial:
        raise TerrainGanError(f"{model.model_id}: a {model.config.model.kind} model makes only independent "
                              "64x64 windows, not worlds; use the default model")


def period_unit(model: Model) -> int:
    """Samples every period of a world of `model` is a multiple of: the chunk lattice, and for a
    cascade whose layout is drained on blocks wider than a chunk, those blocks' lattice too, and
    the node lattice of its regional relief."""
    g = model.generator
    unit = CHUNK
    if getattr(g, "drain_block", 0):
        unit = math.lcm(unit, g.drain_block * cascade.FACTOR)
    if getattr(g, "regional", 0.0):
        unit = math.lcm(unit, g.regional_cells * cascade.FACTOR * g.coarse.STRIDE)
    return unit


def check_period(period, model: Model) -> tuple[int, int] | None:
    """A world period (rows, cols) in samples: positive multiples of `period_unit(model)`, or None (no wrap)."""
    if period is None:
        return None
    unit = period_unit(model)
    try:
        rows, cols = (int(p) for p in period)
    except (TypeError, ValueError):
        raise TerrainGanError(f"period must be (rows, cols) samples, got {period!r}") from None
    if rows <= 0 or cols <= 0 or rows % unit or cols % unit:
        lattice = "its chunk lattice" if unit == CHUNK else "its chunk lattice and the lattices its layout is drained on and varies on"
        examples = f"{unit + 1}, {2 * unit + 1} or {4 * unit + 1}"
        raise TerrainGanError(f"a periodic world of this model repeats every multiple of {unit} samples ({lattice}), "
                              f"got a period of {rows}x{cols}; e.g. one tile of {examples} samples")
    return rows, cols


@functools.lru_cache(maxsize=8)
def _chunk_fn(model: Model, period=None, surface=None):
    """A jitted (key, chunk row, chunk col, params) -> float32 CHUNK x CHUNK metres for a one-level model.

    A chunk is two programs: the generator's latents, then the network on them. As one program
    the same arithmetic ran ~2.5x slower on XLA:CPU (`benchmarks/bench_generate.py`, "warm maps"),
    with bit-identical results either way.
    """
    graphdef, state = nnx.split(model.generator)
    stride = model.generator.STRIDE
    cells = CHUNK // stride
    mean, std = np.float32(model.height_mean_m), np.float32(model.height_std_m)
    period_cells = None if period is None else (period[0] // stride, period[1] // stride)

    @jax.jit
    def inputs(key, ci, cj):
        return model.generator.region_inputs(key, ci * cells, cj * cells, cells, period_cells)

    @jax.jit
    def network(state, latents, key, ci, cj, params):
        field, noise = latents
        g = nnx.merge(graphdef, state)(field[None], noise[None])[0]
        if surface is None:
            return g * std + mean
        rows, cols = ci * CHUNK + jnp.arange(CHUNK), cj * CHUNK + jnp.arange(CHUNK)
        return surface(g, rows, cols, key, params, mean, std)

    def chunk(key, ci, cj, params=None):
        ci, cj = jnp.int32(ci), jnp.int32(cj)
        return network(state, inputs(key, ci, cj), key, ci, cj, params)

    return chunk


@functools.lru_cache(maxsize=8)
def _cascade_fns(model: Model, period=None, surface=None):
    """A cascade's two steps (`cascade.CascadeGenerator`), each its latents' program, then its network's,
    as in `_chunk_fn`:

    - layout(key, ci, cj, params) -> the coarse samples under chunk (ci, cj) in metres, lifted by
      the surface (a layout enters at the coarse level) and undrained: CHUNK / FACTOR square;
    - chunk(key, ci, cj, condition) -> the chunk in metres, from its layout in metres (drained or
      not) reaching `layout_margin` coarse samples beyond it on each side. A cascade that drains its
      finished heights drains them on the host between the detail level's program and a last
      small one (`CascadeGenerator.drain_detail`): a program with a host callback inside is never
      kept in the persistent compilation cache, and compiling it took ~0.5 s in every process.
    """
    graphdef, state = nnx.split(model.generator)
    G = model.generator
    mean, std = np.float32(model.height_mean_m), np.float32(model.height_std_m)

    coarse = None if surface is None else _coarse_surface(surface, G.steering)
    guided = coarse is not None and coarse.guide_clip is not None  # the guide steers: it lays out the regions

    @jax.jit
    def layout_inputs(key, ci, cj):
        return G.layout_inputs(key, ci, cj, CHUNK, period, regional=not guided)

    @jax.jit
    def layout_network(state, latents, key, ci, cj, params):
        lift = guide = roughness = None
        if coarse is not None:
            lift = lambda g, rows, cols, mean, std: coarse(g, rows, cols, key, params, mean, std)  # noqa: E731
            if coarse.guide_clip is not None:
                guide = lambda rows, cols: coarse.guide_at(rows, cols, params)  # noqa: E731
            roughness = params.get("roughness")  # a key only when set (`Layout.params`): static under jit
        return nnx.merge(graphdef, state).layout_network(latents, ci, cj, CHUNK, lift, guide, roughness)

    @jax.jit
    def detail_inputs(key, ci, cj):
        return G.detail_inputs(key, ci, cj, CHUNK, period)

    drains = bool(G.detail_drain_block)

    @jax.jit
    def detail_network(state, condition, latents):
        out = nnx.merge(graphdef, state).detail_heights(condition, *latents)
        return G.detail_metres(out) if drains else out * std + mean

    @jax.jit
    def drained_metres(drained):  # what `CascadeGenerator.detail_network` does after its drain, in metres
        return G.detail_normalised(drained) * std + mean

    def layout(key, ci, cj, params=None):
        ci, cj = jnp.int32(ci), jnp.int32(cj)
        return layout_network(state, layout_inputs(key, ci, cj), key, ci, cj, params)

    def chunk(key, ci, cj, condition):
        out = detail_network(state, condition, detail_inputs(key, jnp.int32(ci), jnp.int32(cj)))
        if not drains:
            return out
        return drained_metres(G.drain_detail(out, int(ci) * CHUNK, int(cj) * CHUNK))

    return layout, chunk


def _coarse_surface(surface, steer):
    """A layout as a cascade's coarse level takes it: a guide steers the coarse latents where the
    cascade has a steering (`nn.steering`); without one, relief follows the guide (see `Surface`)."""
    if surface.has_guide and steer is not None:
        return dataclasses.replace(surface, guide_clip=steer.reach_m, sample_step=cascade.FACTOR)
    return dataclasses.replace(surface, guide_relief=True, sample_step=cascade.FACTOR)


class _Memo:
    """`compute(*key)` for the most recent `capacity` keys asked for (thread-safe).

    A value is computed outside the lock, so two threads may compute the same one: being a pure
    function of its key, it has the same bits either way.
    """

    def __init__(self, compute, capacity: int):
        self._compute, self.capacity = compute, capacity
        self._values: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # values computed so far (for tests and benchmarks)

    def __call__(self, *key) -> np.ndarray:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        return self.put(key, self._compute(*key))

    def missing(self, keys) -> list[tuple]:
        """The `keys` (tuples) not kept now, each once, in order."""
        with self._lock:
            return [key for key in dict.fromkeys(keys) if key not in self._values]

    def put(self, key: tuple, value) -> np.ndarray:
        """Keeps `value`, computed elsewhere, as `compute(*key)`; returns it (read-only)."""
        value = np.asarray(value)
        value.setflags(write=False)
        with self._lock:
            self._values[key] = value
            self.computed += 1
            while len(self._values) > self.capacity:
                self._values.popitem(last=False)
        return value


def _assemble(piece, size: int, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
    """Samples [row0, +rows) x [col0, +cols) cut from the size x size pieces `piece(i, j)` of a lattice."""
    out = np.empty((rows, cols), np.float32)
    for pi in range(row0 // size, (row0 + rows - 1) // size + 1):
        r0, r1 = max(row0, pi * size), min(row0 + rows, (pi + 1) * size)
        for pj in range(col0 // size, (col0 + cols - 1) // size + 1):
            c0, c1 = max(col0, pj * size), min(col0 + cols, (pj + 1) * size)
            out[r0 - row0:r1 - row0, c0 - col0:c1 - col0] = piece(pi, pj)[r0 - pi * size:r1 - pi * size,
                                                                          c0 - pj * size:c1 - pj * size]
    return out


class _CascadeLayout:
    """A cascade world's layout: its coarse samples in metres, computed once per chunk of the world,
    and drained (`nn.hydrology`) once per block, whichever chunks need them.

    A chunk's detail needs its layout `layout_margin` coarse samples beyond it, and a
    drained sample the raw layout of the blocks around it: computing those for each chunk on its
    own made a drained chunk 1.9x slower than an undrained one (README, "Model v2").
    """

    def __init__(self, model: Model, key, period, surface, params):
        self.n = CHUNK // cascade.FACTOR  # coarse samples per chunk side
        self.margin = model.generator.layout_margin
        self.block = model.generator.drain_block
        self.period = None if period is None else (period[0] // CHUNK, period[1] // CHUNK)  # in chunks
        layout_fn = _cascade_fns(model, period, surface)[0]
        self._raw = _Memo(lambda i, j: layout_fn(key, i, j, params), 0)
        self.erosion = model.generator.erosion
        self._breached = _Memo(lambda r, c: self._breach([(r, c)])[0], 0)

    def keep(self, pieces: int) -> None:
        """Keeps the layout of `pieces` chunks, and as many blocks of the four lattices as cover them
        (a block wider than a chunk covers several: v2's 128-sample blocks four each, at 128 KiB).

        Keeping four blocks a chunk whatever their width made a 16 x 16 world of v2 hold 1.28x a
        4 x 4 world's peak memory; as many as cover the pieces, 1.12x, and a row-by-row sweep
        computes no block twice (`tests/test_cascade.py`, docs/WORLDS.md)."""
        self._raw.capacity = pieces
        self._breached.capacity = -(-4 * pieces * self.n ** 2 // self.block ** 2) if self.block else 0

    def _breach(self, starts) -> np.ndarray:
        """The blocks of raw layout starting at each (row, col) of `starts`, breached (and eroded)
        together, one thread per core."""
        raw = np.stack([self.raw(r, c, self.block, self.block) for r, c in starts])
        return hydrology.breach_many(raw, erosion=self.erosion, origins=starts)

    def _wrap(self, i: int, j: int, unit: int) -> tuple[int, int]:
        if self.period is None:
            return i, j
        return i % (self.period[0] * unit), j % (self.period[1] * unit)

    def raw(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        """Undrained coarse samples [row0, +rows) x [col0, +cols) in metres."""
        return _assemble(lambda i, j: self._raw(*self._wrap(i, j, 1)), self.n, row0, col0, rows, cols)

    def condition(self, ci: int, cj: int) -> np.ndarray:
        """Chunk (ci, cj)'s layout in metres, drained if the model drains, with the detail's margin."""
        first_r, first_c, size = ci * self.n - self.margin, cj * self.n - self.margin, self.n + 2 * self.margin
        if not self.block:
            return self.raw(first_r, first_c, size, size)
        starts = hydrology.block_starts((first_r, first_c), size, self.block)
        missing = self._breached.missing(self._wrap(r, c, self.n) for r, c in starts)
        if missing:  # all at once, rather than one by one as `drain_blocks` asks for them
            for key, value in zip(missing, self._breach(missing)):
                self._breached.put(key, value)
        breached = lambda r, c: self._breached(*self._wrap(r, c, self.n))  # noqa: E731
        return hydrology.drain_blocks(breached, (first_r, first_c), size, self.block)


class ChunkCache:
    """Computes chunks of one world on demand, keeping the most recent `capacity` of them (thread-safe).

    `surface` (a `world.layout.Surface`, static) and `params` (its arrays) add a layout; `period`
    (rows, cols samples, multiples of CHUNK) makes the world repeat. Without them, heights are
    the model's own, as `generate` makes them.
    """

    def __init__(self, model: Model, seed: int, capacity: int = 64, *, period=None, surface=None, params=None):
        require_spatial(model)
        self.model, self.seed = model, check_seed(seed)
        self.period = check_period(period, model)
        self._key = latents.world_key(self.seed)
        params = None if surface is None else jax.tree.map(jnp.asarray, params)
        if isinstance(model.generator, cascade.CascadeGenerator):
            self._layout = _CascadeLayout(model, self._key, self.period, surface, params)
            chunk_fn = _cascade_fns(model, self.period, surface)[1]
            compute = lambda ci, cj: chunk_fn(self._key, ci, cj, self._layout.condition(ci, cj))  # noqa: E731
        else:
            self._layout = None
            chunk_fn = _chunk_fn(model, self.period, surface)
            compute = lambda ci, cj: chunk_fn(self._key, ci, cj, params)  # noqa: E731
        self._chunks = _Memo(compute, capacity)
        self.capacity = capacity

    @property
    def capacity(self) -> int:
        """Chunks kept; a cascade also keeps the layout of more (the ring of chunks around them)."""
        return self._chunks.capacity

    @capacity.setter
    def capacity(self, chunks: int) -> None:
        self._chunks.capacity = chunks
        if self._layout is not None:
            self._layout.keep(2 * chunks + 16)  # k x k chunks' ring: (k + 2)^2 <= 2 k^2 + 16

    @property
    def computed(self) -> int:
        """Chunks computed so far (for tests and benchmarks)."""
        return self._chunks.computed

    def chunk(self, ci: int, cj: int) -> np.ndarray:
        """The chunk at lattice position (ci, cj): samples [ci*CHUNK, (ci+1)*CHUNK) x [cj*CHUNK, ...)."""
        if self.period is not None:  # the same chunk, wherever the torus is entered
            ci, cj = ci % (self.period[0] // CHUNK), cj % (self.period[1] // CHUNK)
        return self._chunks(ci, cj)

    def region(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        """Samples [row0, row0+rows) x [col0, col0+cols) of the world, float32 metres."""
        return _assemble(self.chunk, CHUNK, row0, col0, rows, cols)


def check_size(rows: int, cols: int, *, what: str = "size") -> None:
    """Refuses sizes that are not positive or would not fit in memory, before any work starts."""
    if rows < 2 or cols < 2:
        raise TerrainGanError(f"{what} must be at least 2 samples, got {rows}x{cols}")
    need = rows * cols * 4 * 3  # the float32 map, plus room for its encodings
    available = _available_memory()
    if need > available:
        raise TerrainGanError(f"{what} {rows}x{cols} needs about {need / 2**30:.1f} GiB, more than the "
                              f"{available / 2**30:.1f} GiB available; make a world of tiles instead "
                              "(terrain-gan world)")


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def sample_windows(model: Model, n: int, size: int = 64, *, seed: int = 0, batch: int = 64) -> np.ndarray:
    """`n` independent size x size windows in metres (for evaluation), from random world positions."""
    out = []
    for start in range(0, n, batch):
        key = jax.random.fold_in(jax.random.key(seed), start)
        out.append(np.asarray(model_lib.sample(model.generator, key, batch=min(batch, n - start), size=size)))
    return np.concatenate(out) * np.float32(model.height_std_m) + np.float32(model.height_mean_m)
