"""Soft flow accumulation: where water would gather in a window, differentiably, for the discriminator.

Real land drains into branching valleys: the area draining through a cell grows along long,
connected channels. Generated terrain full of closed basins ends its flow paths in pits, so its
accumulated area stays small and patchy. A discriminator that sees log accumulated area
(`model.d_flow`) can tell the two apart, and, unlike the depression depth of `nn.drainage`, this
channel rewards connected channels rather than merely fewer basins.

Multiple-flow-direction routing (Freeman 1991): each cell passes its water to its lower
neighbours in proportion to (drop / distance)^1.1. Accumulation is iterated `ITERATIONS` times
from one unit per cell, so it counts each cell and its upstream cells up to that many steps away.
Water that reaches a cell with no lower neighbour in the window (a pit, or the window's edge
sloping outwards) is lost. All in JAX: the gradient reaches the heights through the routing weights.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

ITERATIONS = 48  # flow steps accumulated: paths up to this many cells long count in full
EXPONENT = 1.1  # Freeman's exponent of the routing weights
# the 8 neighbours (dy, dx) and their distances in cells
_NEIGHBOURS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
_DIST = tuple(float(abs(dy) + abs(dx)) ** 0.5 for dy, dx in _NEIGHBOURS)
_OPPOSITE = tuple(_NEIGHBOURS.index((-dy, -dx)) for dy, dx in _NEIGHBOURS)  # the direction back


def _shift(a_BxHxW, dy: int, dx: int, fill: float):
    """b[i, j] = a[i + dy, j + dx], `fill` where that is outside the window."""
    b, h, w = a_BxHxW.shape
    p = jnp.pad(a_BxHxW, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
    return jax.lax.dynamic_slice(p, (0, 1 + dy, 1 + dx), (b, h, w))


def routing_weights(height_BxHxW):
    """(8, B, H, W): the share of each cell's water that goes to each neighbour (sums to 1, or 0 in a pit).

    A neighbour outside the window counts as infinitely high: it never receives water.
    """
    drops = []
    for (dy, dx), dist in zip(_NEIGHBOURS, _DIST):
        neighbour = _shift(height_BxHxW, dy, dx, jnp.inf)
        drops.append(jnp.maximum(height_BxHxW - neighbour, 0.0) / dist)
    drops = jnp.stack(drops)
    power = jnp.where(drops > 0, jnp.maximum(drops, 1e-12) ** EXPONENT, 0.0)
    total = power.sum(axis=0, keepdims=True)
    return power / jnp.where(total > 0, total, 1.0)


def accumulation(height_BxHxW, iterations: int = ITERATIONS):
    """Cells draining through each cell (itself included), counted over `iterations` flow steps."""
    weights = routing_weights(height_BxHxW)

    def step(acc, _):
        inflow = jnp.ones_like(acc)
        for (dy, dx), back in zip(_NEIGHBOURS, _OPPOSITE):
            # the neighbour at (dy, dx) sends us its share in the direction back towards us
            inflow = inflow + _shift(weights[back] * acc, dy, dx, 0.0)
        return inflow, None

    acc, _ = jax.lax.scan(step, jnp.ones_like(height_BxHxW), None, length=iterations)
    return acc


def log_accumulation(height_BxHxW, iterations: int = ITERATIONS):
    """log(accumulated cells) / log(window cells): 0 on ridges, ~1 on a channel draining the whole window."""
    cells = height_BxHxW.shape[1] * height_BxHxW.shape[2]
    return jnp.log(accumulation(height_BxHxW, iterations)) / jnp.log(float(cells))
