"""Closed depressions, differentiably: a drainage penalty for the generator and a channel for the discriminator.

Real land drains: on 23 km windows of real regions closed depressions deeper than 1 m cover ~3 % of
the area, on the GAN's maps 10-20 % (README, "Model v2"). A discriminator judging 64-sample windows
does not see that; this penalty does. Each window is filled by priority flood with its edges as
outlets (as `eval.drainage` measures it, D8). A cell inside a depression holds water up to the
height of the depression's spill cell, so its depth is `h[spill] - h`: differentiable in both
heights. Its gradient raises depression floors and lowers the passes they spill over, i.e. it
carves outlets as much as it fills basins; the discriminator keeps either from looking unreal.
(Lowering only the passes was tried: the carved notches became new, deeper pits and the coarse
level's training diverged within 100 steps.)

The same depth map, cell by cell, is a channel the discriminator may see (`model.d_drainage`):
it then judges real and generated windows' depressions side by side, so the generator is pushed
towards real land's few, shallow basins rather than towards none (a fixed penalty's pull, which
also flattens relief; see the README, "Model v2").

The flood runs on the host (numba) through `jax.pure_callback`: it
only picks which cell is each cell's spill cell, an integer, so nothing needs its gradient.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from terrain_gan.errors import TerrainGanError


def mean_depression_depth(height_BxHxW: jax.Array) -> jax.Array:
    """Mean over cells and windows of `h[spill] - h` (0 outside depressions), in `height`'s units."""
    return depression_depth(height_BxHxW).mean()


def relative_depression_depth(height_BxHxW: jax.Array, floor: float) -> jax.Array:
    """Mean over windows of (mean depression depth / the window's height std, at least `floor`).

    Unchanged when a window's heights are scaled, so it cannot be lowered by flattening the
    terrain, only by draining it (a penalty in metres was: at a weight that drained the coarse
    level's windows, it halved their relief).
    """
    depth = depression_depth(height_BxHxW).mean(axis=(1, 2))
    return (depth / jnp.maximum(height_BxHxW.std(axis=(1, 2)), floor)).mean()


def depression_depth(height_BxHxW: jax.Array) -> jax.Array:
    """Each cell's `h[spill] - h`: the depth of water standing on it once its window is filled (>= 0)."""
    spill = jax.pure_callback(spill_cells, jax.ShapeDtypeStruct(height_BxHxW.shape, jnp.int32),
                              jax.lax.stop_gradient(height_BxHxW), vmap_method="sequential")
    b = height_BxHxW.shape[0]
    flat = height_BxHxW.reshape(b, -1)
    level = jnp.take_along_axis(flat, spill.reshape(b, -1), axis=1)
    return (level - flat).reshape(height_BxHxW.shape)


def spill_cells(height_BxHxW: np.ndarray) -> np.ndarray:
    """For each cell, the flat index (within its window) of the cell whose height it fills up to:
    a priority flood (Barnes et al. 2014) from the window's edges, D8 (`nn.floods`)."""
    h = np.ascontiguousarray(height_BxHxW, dtype=np.float32)
    floods = require()
    return np.stack([floods.spill_cells(window) for window in h])


@functools.cache
def require():
    """The compiled floods (`nn.floods`), or one clear error if numba is missing (call before
    training: inside a jitted step the error would surface as the callback's traceback)."""
    try:
        import numba  # noqa: F401  (asked first: `floods` may be imported already)

        from terrain_gan.nn import floods
    except ImportError:
        raise TerrainGanError("train.drainage and model.d_drainage need numba, a dependency of terrain-gan: "
                              "pip install numba") from None
    return floods
