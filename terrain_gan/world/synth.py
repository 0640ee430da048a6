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
import threading
from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import cascade, latents
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


def check_period(period) -> tuple[int, int] | None:
    """A world period (rows, cols) in samples: positive multiples of CHUNK, or None (no wrap)."""
    if period is None:
        return None
    try:
        rows, cols = (int(p) for p in period)
    except (TypeError, ValueError):
        raise TerrainGanError(f"period must be (rows, cols) samples, got {period!r}") from None
    if rows <= 0 or cols <= 0 or rows % CHUNK or cols % CHUNK:
        raise TerrainGanError(f"a periodic world repeats every multiple of {CHUNK} samples (its chunk lattice), "
                              f"got a period of {rows}x{cols}; e.g. one tile of 257, 513 or 1025 samples")
    return rows, cols


@functools.lru_cache(maxsize=8)
def _chunk_fn(model: Model, period=None, surface=None):
    """A jitted (key, chunk row, chunk col, params) -> float32 CHUNK x CHUNK metres for `model`.

    A chunk is two programs: the generator's latents, then the network on them. As one program
    the same arithmetic ran ~2.5x slower on XLA:CPU (`benchmarks/bench_generate.py`, "warm maps"),
    with bit-identical results either way.
    """
    graphdef, state = nnx.split(model.generator)
    stride = model.generator.STRIDE
    cells = CHUNK // stride
    mean, std = np.float32(model.height_mean_m), np.float32(model.height_std_m)
    period_cells = None if period is None else (period[0] // stride, period[1] // stride)

    if hasattr(model.generator, "chunk_inputs"):  # a cascade: the layout shapes its coarse level, the detail follows
        @jax.jit
        def inputs(key, ci, cj):
            return model.generator.chunk_inputs(key, ci, cj, CHUNK, period)

        @jax.jit
        def network(state, latents, key, ci, cj, params):
            lift = None if surface is None else functools.partial(_lift, surface, key=key, params=params)
            return nnx.merge(graphdef, state).chunk_network(latents, ci, cj, CHUNK, lift) * std + mean
    else:
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


def _lift(surface, g, rows, cols, mean, std, *, key, params):
    """A layout applied to a cascade's coarse level, with relief following the guide (see `Surface`)."""
    coarse = dataclasses.replace(surface, guide_relief=True, sample_step=cascade.FACTOR)
    return coarse(g, rows, cols, key, params, mean, std)


class ChunkCache:
    """Computes chunks of one world on demand, keeping the most recent `capacity` of them (thread-safe).

    `surface` (a `world.layout.Surface`, static) and `params` (its arrays) add a layout; `period`
    (rows, cols samples, multiples of CHUNK) makes the world repeat. Without them, heights are
    the model's own, as `generate` makes them.
    """

    def __init__(self, model: Model, seed: int, capacity: int = 64, *, period=None, surface=None, params=None):
        require_spatial(model)
        self.model, self.seed, self.capacity = model, check_seed(seed), capacity
        self.period = check_period(period)
        self._key = latents.world_key(self.seed)
        self._fn = _chunk_fn(model, self.period, surface)
        self._params = None if surface is None else jax.tree.map(jnp.asarray, params)
        self._chunks: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # chunks computed so far (for tests and benchmarks)

    def chunk(self, ci: int, cj: int) -> np.ndarray:
        """The chunk at lattice position (ci, cj): samples [ci*CHUNK, (ci+1)*CHUNK) x [cj*CHUNK, ...)."""
        if self.period is not None:  # the same chunk, wherever the torus is entered
            ci, cj = ci % (self.period[0] // CHUNK), cj % (self.period[1] // CHUNK)
        with self._lock:
            if (ci, cj) in self._chunks:
                self._chunks.move_to_end((ci, cj))
                return self._chunks[(ci, cj)]
        out = np.asarray(self._fn(self._key, ci, cj, self._params))
        out.setflags(write=False)
        with self._lock:
            self._chunks[(ci, cj)] = out
            self.computed += 1
            while len(self._chunks) > self.capacity:
                self._chunks.popitem(last=False)
        return out

    def region(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        """Samples [row0, row0+rows) x [col0, col0+cols) of the world, float32 metres."""
        out = np.empty((rows, cols), np.float32)
        for ci in range(row0 // CHUNK, (row0 + rows - 1) // CHUNK + 1):
            r0, r1 = max(row0, ci * CHUNK), min(row0 + rows, (ci + 1) * CHUNK)
            for cj in range(col0 // CHUNK, (col0 + cols - 1) // CHUNK + 1):
                c0, c1 = max(col0, cj * CHUNK), min(col0 + cols, (cj + 1) * CHUNK)
                block = self.chunk(ci, cj)
                out[r0 - row0:r1 - row0, c0 - col0:c1 - col0] = block[r0 - ci * CHUNK:r1 - ci * CHUNK,
                                                                        c0 - cj * CHUNK:c1 - cj * CHUNK]
        return out


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
