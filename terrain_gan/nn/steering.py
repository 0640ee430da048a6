"""How a guide map steers a cascade's coarse level: mountains where the sketch is high, plains where low.

Adding a sketch's heights to the coarse level's output (v1's way) lifts whatever the GAN drew there:
a bright disc became a plateau with steep walls, carrying the plain or the range the latents
happened to hold. Instead, the guide moves the coarse level's latents. Over the latents of one cell
(the mean over the 3 x 3 cells around it), the coarse level's log-relief is nearly linear (R^2 ~0.7
on the shipped v2): one direction in latent space turns plains into uplands into ranges. A guide
height e then picks a shift s along that direction for each latent cell, the one at which the coarse
level's mean height is e (`Steering.shift`), so the GAN itself draws a range under a bright sketch
and a plain under a dark one, each with its own texture, and the erosion that follows cuts the range
into valleys. Heights beyond what any shift reaches are added as an offset (`world.layout.Surface.guide_clip`).

Both are pointwise functions of world position (the guide at a latent cell's centre), so worlds keep
their seams. `fit` measures the direction and the height table once from a trained coarse level;
they are stored with the cascade's weights (`meta["steering"]`).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from terrain_gan.errors import TerrainGanError

STEPS = tuple(np.round(np.arange(-2.0, 3.01, 0.25), 2))  # shifts tried along the direction


@dataclasses.dataclass(frozen=True)
class Steering:
    """A direction in the coarse level's latent space and the mean height each shift along it gives.

    Attributes:
      direction: unit vector over the coarse level's latent channels (fine, then coarse).
      shifts: increasing shifts along it, from the one giving the lowest ground to the largest tried
        (relief stops growing at about a third of the way up the table on the shipped v2; beyond,
        the GAN raises its ground, with a ramp as wide as a latent cell or two at its edge).
      mean_m: the coarse level's mean height at each shift, metres, increasing.
    """

    direction: tuple[float, ...]
    shifts: tuple[float, ...]
    mean_m: tuple[float, ...]

    @property
    def reach_m(self) -> tuple[float, float]:
        """The lowest and highest mean heights a shift gives: a guide beyond them is added as an offset."""
        return self.mean_m[0], self.mean_m[-1]

    def shift(self, e_m):
        """The shift at which the coarse level's mean height is e_m (clamped to the table's ends)."""
        return jnp.interp(e_m, jnp.asarray(self.mean_m, jnp.float32), jnp.asarray(self.shifts, jnp.float32))

    def steer(self, field_NxMxC, e_NxM):
        """Latent field cells moved along the direction by the shift of their guide heights e_NxM."""
        return self.push(field_NxMxC, self.shift(e_NxM))

    def push(self, field_NxMxC, shift):
        """Latent field cells moved along the direction by `shift`: one per cell (N x M) or one for all."""
        shift_NxM = jnp.broadcast_to(jnp.asarray(shift, field_NxMxC.dtype), field_NxMxC.shape[:2])
        return field_NxMxC + shift_NxM[..., None] * jnp.asarray(self.direction, field_NxMxC.dtype)[None, None, :]

    def correlate(self, field_NxMxC, u_NxM, rho: float):
        """Latent field cells whose component along the direction, z, becomes sqrt(1 - rho^2) z + rho u.

        With u a smooth field of standard normals (`latents.regional_field`) every cell stays a
        standard normal, as the coarse level was trained on, but neighbouring cells agree on how rough
        their ground is over u's scale (`[model] regional_relief`).
        """
        d = jnp.asarray(self.direction, field_NxMxC.dtype)
        along = field_NxMxC @ d
        return field_NxMxC + ((math.sqrt(1.0 - rho * rho) - 1.0) * along + rho * u_NxM)[..., None] * d[None, None, :]

    def as_json(self) -> dict:
        return {"direction": list(self.direction), "shifts": list(self.shifts), "mean_m": list(self.mean_m)}

    @classmethod
    def from_json(cls, d, where: str) -> Steering:
        try:
            s = cls(tuple(map(float, d["direction"])), tuple(map(float, d["shifts"])), tuple(map(float, d["mean_m"])))
        except (KeyError, TypeError, ValueError):
            raise TerrainGanError(f"{where}: the cascade's steering metadata is malformed") from None
        if len(s.shifts) != len(s.mean_m) or len(s.shifts) < 2 or np.any(np.diff(s.mean_m) <= 0):
            raise TerrainGanError(f"{where}: the cascade's steering table must rise with at least two rows")
        return s


def fit(coarse: nnx.Module, norm: tuple[float, float], *, regions: int = 150, per_shift: int = 40,
        seed: int = 0) -> Steering | None:
    """Measures a trained coarse level's steering (deterministic for a given seed); None if its mean
    height does not rise along the direction found (a guide then lifts its output instead).

    The direction: least squares of each latent cell's log-relief (p95 - p5 of its output samples) on
    the mean of the latents of the 3 x 3 cells around it, over `regions` regions of 8 x 8 cells at
    random world positions. The table: the mean height of `per_shift` such regions at each of `STEPS`.
    """
    graphdef, state = nnx.split(coarse)
    n, stride, margin = 8, coarse.STRIDE, coarse.MARGIN_CELLS
    mean, std = norm

    @jax.jit
    def run(key, ij, shift_C):
        field, noise = coarse.region_inputs(key, ij[0], ij[1], n)
        return nnx.merge(graphdef, state)((field + shift_C[None, None, :])[None], noise[None])[0], field

    rng = np.random.default_rng(seed)
    channels = coarse.cfg.z_channels + coarse.cfg.coarse_channels
    xs, ys = [], []
    for k in range(regions):
        out, field = (np.asarray(a, np.float64) for a in run(jax.random.key(seed + k), rng.integers(0, 1 << 20, 2),
                                                           jnp.zeros(channels)))
        cells = out.reshape(n, stride, n, stride).transpose(0, 2, 1, 3).reshape(n * n, stride * stride)
        p5, p95 = np.percentile(cells, [5, 95], axis=1)
        around = sum(field[margin + di:margin + di + n, margin + dj:margin + dj + n]
                     for di in (-1, 0, 1) for dj in (-1, 0, 1)) / 9
        xs.append(around.reshape(n * n, channels))
        ys.append(np.log((p95 - p5) * std + 1e-3))
    x, y = np.concatenate(xs), np.concatenate(ys)
    w = np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)[0][:-1]
    direction = w / np.linalg.norm(w)

    means = []
    for s in STEPS:
        # the same `per_shift` regions at every shift (fixed keys and scattered positions)
        outs = np.stack([np.asarray(run(jax.random.key(seed + regions + k), np.array([k * 977, k * 131]),
                                        jnp.asarray(s * direction, jnp.float32))[0]) for k in range(per_shift)])
        means.append(float(outs.mean()) * std + mean)
    rows = [int(np.argmin(means))]
    for i in range(rows[0] + 1, len(STEPS)):  # keep the table strictly rising
        if means[i] > means[rows[-1]]:
            rows.append(i)
    if len(rows) < 2:
        return None
    return Steering(tuple(float(v) for v in direction), tuple(float(STEPS[i]) for i in rows),
                    tuple(means[i] for i in rows))
