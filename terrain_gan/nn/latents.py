"""Latent fields with random access: every latent value is a pure function of (world key, lattice cell).

The spatial generator reads a fine latent field (one vector per `stride` x `stride` cell), a coarse
field (one vector per `coarse_factor` fine cells, bilinearly interpolated onto the fine lattice, for
large-scale structure) and a per-sample noise image. Each value is drawn from a counter-based
generator (threefry) keyed by the world key and the integer lattice coordinates, so a region's latents
never depend on the order, batch or machine that asks for them. Rows are `i` (world z), columns `j`
(world x).

Periodic worlds: every field takes an optional `period=(rows, cols)` in fine cells; lattice
coordinates are then wrapped modulo the period before they become keys (the coarse lattice modulo
`period // coarse_factor`, so the period must be a multiple of `coarse_factor` cells), which makes
each field exactly periodic. `period=None` leaves every value as it was.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

# Streams folded into the world key, so the fields never share random numbers.
_FINE, _COARSE, _NOISE, _RELIEF, _REGIONAL = 0, 1, 2, 3, 4


def _cell_keys(key, i_N, j_M):
    """Keys for the grid of cells i_N x j_M (int32, may be negative): shape (N, M)."""
    as_u32 = lambda a: jax.lax.bitcast_convert_type(a.astype(jnp.int32), jnp.uint32)
    row_keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(as_u32(i_N))
    return jax.vmap(lambda k: jax.vmap(lambda j: jax.random.fold_in(k, j))(as_u32(j_M)))(row_keys)


def _wrap(i_N, period: int | None):
    """Lattice coordinates modulo `period` (non-negative for any sign), or unchanged."""
    return i_N if period is None else jnp.mod(i_N, period)


def _normal_grid(key, i0, j0, rows: int, cols: int, shape: tuple[int, ...], period=None):
    """One standard-normal array of `shape` per cell of [i0, i0+rows) x [j0, j0+cols)."""
    p_i, p_j = period or (None, None)
    keys = _cell_keys(key, _wrap(i0 + jnp.arange(rows), p_i), _wrap(j0 + jnp.arange(cols), p_j))
    draw = lambda k: jax.random.normal(k, shape, jnp.float32)
    return jax.vmap(jax.vmap(draw))(keys)


def _lerp_weights(i_N, factor: int, c_start):
    """Bilinear weights placing coarse cell c at the centre of fine cells [c*f, (c+1)*f)."""
    u = (i_N.astype(jnp.float32) - (factor - 1) / 2) / factor  # exact: small integers over a power of 2
    c0 = jnp.floor(u).astype(jnp.int32)
    return c0 - c_start, u - c0


def _lerped(key, i0, j0, rows: int, cols: int, shape: tuple[int, ...], factor: int, period):
    """Normals on a lattice `factor` cells apart, bilinear on cells [i0, i0+rows) x [j0, j0+cols):
    (values (rows, cols, *shape), row fractions (rows, 1), column fractions (1, cols))."""
    ci = jnp.floor_divide(i0 - factor, factor)  # first coarse cell any fine cell interpolates from
    cj = jnp.floor_divide(j0 - factor, factor)
    n_ci, n_cj = rows // factor + 3, cols // factor + 3
    coarse_period = None if period is None else (period[0] // factor, period[1] // factor)
    grid = _normal_grid(key, ci, cj, n_ci, n_cj, shape, coarse_period)
    a, ta = _lerp_weights(i0 + jnp.arange(rows), factor, ci)
    b, tb = _lerp_weights(j0 + jnp.arange(cols), factor, cj)
    ta, tb = ta.reshape((rows, 1) + (1,) * len(shape)), tb.reshape((1, cols) + (1,) * len(shape))
    top = grid[a][:, b] * (1 - tb) + grid[a][:, b + 1] * tb
    bottom = grid[a + 1][:, b] * (1 - tb) + grid[a + 1][:, b + 1] * tb
    return top * (1 - ta) + bottom * ta, ta.reshape(rows, 1), tb.reshape(1, cols)


def coarse_field(key, i0, j0, rows: int, cols: int, channels: int, factor: int, *, period=None):
    """The coarse latent field sampled on fine cells [i0, i0+rows) x [j0, j0+cols): (rows, cols, C)."""
    return _lerped(jax.random.fold_in(key, _COARSE), i0, j0, rows, cols, (channels,), factor, period)[0]


def regional_field(key, i0, j0, rows: int, cols: int, factor: int, *, period=None):
    """A smooth field on fine cells [i0, i0+rows) x [j0, j0+cols) in which every cell is N(0, 1): (rows, cols).

    Bilinear between standard normals `factor` cells apart (as `coarse_field`), divided at each cell
    by that interpolation's standard deviation, so cells within ~`factor` of each other share most
    of their value while each alone is a standard normal.
    """
    u, ta, tb = _lerped(jax.random.fold_in(key, _REGIONAL), i0, j0, rows, cols, (), factor, period)
    return u / jnp.sqrt(((1 - ta) ** 2 + ta**2) * ((1 - tb) ** 2 + tb**2))


def fine_field(key, i0, j0, rows: int, cols: int, channels: int, *, period=None):
    """The fine latent field on cells [i0, i0+rows) x [j0, j0+cols): (rows, cols, C)."""
    return _normal_grid(jax.random.fold_in(key, _FINE), i0, j0, rows, cols, (channels,), period)


def noise_field(key, i0, j0, rows: int, cols: int, stride: int, *, period=None):
    """Per-sample noise over cells [i0, i0+rows) x [j0, j0+cols): (rows*stride, cols*stride)."""
    blocks = _normal_grid(jax.random.fold_in(key, _NOISE), i0, j0, rows, cols, (stride, stride), period)
    return blocks.transpose(0, 2, 1, 3).reshape(rows * stride, cols * stride)


def relief_controls(key, i0, j0, rows: int, cols: int, *, period=None):
    """Standard normals on the relief lattice cells [i0, i0+rows) x [j0, j0+cols): (rows, cols)."""
    return _normal_grid(jax.random.fold_in(key, _RELIEF), i0, j0, rows, cols, (), period)


def world_key(seed: int):
    """The root key of a world."""
    return jax.random.key(seed)
