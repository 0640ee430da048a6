"""Drained layouts: closed basins breached into valleys, seamlessly, on a fixed block lattice.

The coarse level lays out ranges and lowlands but leaves closed basins that no river leaves (model
v2's coarse maps hold 0.20 of their area in them, real 360 m maps ~0.03). `drain` carves each basin
an outlet: priority-flood *complete breaching* (Lindsay 2016) lowers the cells on the way out of
every depression just below the depression's floor, so water runs downhill from every cell to the
block edge. The detail level then dresses the carved lines as valleys, and the breaches join into
connected networks (README, "Model v2").

A priority flood is global, and worlds need every sample to be a pure function of its world position.
So the layout is breached block by block on four lattices of `block` x `block` samples anchored at
world sample 0 and offset by half a block along each axis, each block with its own edge as outlet,
and the four results are blended with tent weights that vanish at each block's edge and sum to one.
A sample then depends only on the layout within one block of it, whatever region, chunk or machine
computes it, and a periodic world (a multiple of the block on each axis) stays periodic.

A breach only joins the layout's own low lines. With an `Erosion` each breached block is then
incised by the stream-power law (`floods.erode`, Braun & Willett 2013), its edge the base level:
flow lines that drain more are cut deeper, and the layout gains branching valley networks (model
card, "Seventh round"). Its routing (Rho8) draws a number per world cell, keyed by each block's
first cell, so the same cell routes alike in every block that holds it. It runs inside each block,
so the blend keeps every guarantee above.

The same drainage may run on the finished heights (`[model] detail_drain_block`), where a complete
breach cuts one-cell trenches a classifier spots at once: there each depression is first filled by
a fraction of its depth (`fill`), so the cut is that much shallower (model card, "Sixth round"),
and depressions shallower than `keep` metres are left as they are: real DEMs hold such pits
(model card, "Ninth round").

The floods are host loops, compiled by numba.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np

EPS_M = 0.01  # the drop in metres a breach keeps per cell along its way out


@dataclasses.dataclass(frozen=True)
class Erosion:
    """Stream-power incision of each breached block (`floods.erode`): `steps` implicit steps lowering
    each cell towards its steepest lower neighbour by F = k A^m per cell of distance, A the area it
    drains in cells. No steps: none."""

    steps: int = 0
    k: float = 0.0
    m: float = 0.5


NO_EROSION = Erosion()


def breach(height_HxW: np.ndarray, eps: float = EPS_M, fill: float = 0.0,
           erosion: Erosion = NO_EROSION, origin: tuple[int, int] = (0, 0), keep: float = 0.0) -> np.ndarray:
    """Heights with every closed depression breached to the block's edge (float64).

    With `fill` > 0 each depression is first filled by that fraction of its depth (each cell raised
    towards the depression's spill height), and only the rest is breached: the cut through its rim
    is that much shallower. Without, heights are only lowered. Depressions less than `keep` metres
    deep are left as they are. With `erosion` the breached block's flow lines are then cut into
    valleys that deepen downstream (`floods.erode`; `origin`, the world cell of the block's first,
    keys its routing).
    """
    return breach_many(np.asarray(height_HxW)[None], eps, fill, erosion, [origin], keep)[0]


def breach_many(blocks_NxBxB: np.ndarray, eps: float = EPS_M, fill: float = 0.0,
                erosion: Erosion = NO_EROSION, origins=None, keep: float = 0.0) -> np.ndarray:
    """`breach` of each block (`origins`: each one's first world cell, default (0, 0)), the blocks
    shared among threads, one per core (the floods release the GIL; numba's own `parallel=True` took
    13 s more to compile on first use, and its default threading layer aborts when two threads enter
    it at once)."""
    from terrain_gan.nn import floods  # numba's start-up, only for worlds that drain

    def run(part):
        blocks_part, origins_part = part
        return floods.breach_blocks(blocks_part, origins_part, float(eps), float(fill), float(keep),
                                    int(erosion.steps), float(erosion.k), float(erosion.m))

    blocks = np.ascontiguousarray(blocks_NxBxB, dtype=np.float64)
    origins = np.zeros((len(blocks), 2), np.int64) if origins is None else np.asarray(origins, np.int64).reshape(-1, 2)
    if len(blocks) == 1:  # no thread pool for a single block
        return run((blocks, origins))
    parts = min(len(blocks), _CORES)
    return np.concatenate(list(_threads().map(run, zip(np.array_split(blocks, parts), np.array_split(origins, parts)))))


_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@functools.cache
def _threads() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(_CORES, thread_name_prefix="floods")


def _tent(first: int, n: int, block: int, offset: int) -> np.ndarray:
    """Weights of one lattice at world samples first..first+n-1: 1 at block centres, 0 at their edges."""
    u = np.mod(np.arange(first, first + n) + 0.5 - offset, block)
    return 1.0 - np.abs(u - block / 2) / (block / 2)


def blocks_touching(first: int, n: int, block: int, offset: int) -> range:
    """World sample rows (or columns) where the blocks of one lattice touching [first, first+n) start."""
    return range(first - (first - offset) % block, first + n, block)


def block_starts(out_origin: tuple[int, int], out_n: int, block: int) -> list[tuple[int, int]]:
    """Where every block of the four lattices touching world samples [out_origin, +out_n)^2 starts,
    lattice by lattice; a block's row and column say which lattice it is on."""
    (o_r, o_c), half = out_origin, block // 2
    return [(br, bc) for off_r in (0, half) for off_c in (0, half)
            for br in blocks_touching(o_r, out_n, block, off_r) for bc in blocks_touching(o_c, out_n, block, off_c)]


def drain_blocks(breached, out_origin: tuple[int, int], out_n: int, block: int) -> np.ndarray:
    """The drained heights of world samples [out_origin, +out_n)^2 (float32), blended from breached blocks.

    `breached(row, col)` gives the `breach`ed block of `block` x `block` world samples from (row, col),
    for each of `block_starts`.
    """
    out = np.zeros((out_n, out_n), np.float64)
    o_r, o_c = out_origin
    tents = {off: (_tent(o_r, out_n, block, off), _tent(o_c, out_n, block, off)) for off in (0, block // 2)}
    for br, bc in block_starts(out_origin, out_n, block):
        rs, re = max(br, o_r), min(br + block, o_r + out_n)  # the block's part of the output
        cs, ce = max(bc, o_c), min(bc + block, o_c + out_n)
        weight = np.outer(tents[br % block][0][rs - o_r:re - o_r], tents[bc % block][1][cs - o_c:ce - o_c])
        out[rs - o_r:re - o_r, cs - o_c:ce - o_c] += weight * breached(br, bc)[rs - br:re - br, cs - bc:ce - bc]
    return out.astype(np.float32)


def drain_region(raw_HxW: np.ndarray, raw_origin: tuple[int, int], out_origin: tuple[int, int], out_n: int,
                 block: int, fill: float = 0.0, erosion: Erosion = NO_EROSION, keep: float = 0.0) -> np.ndarray:
    """`drain_blocks` from raw heights of world samples from `raw_origin`, which must reach at least
    `block` samples beyond the output on each side (every block that touches it); `fill`, `erosion`
    and `keep` as `breach`. The blocks are breached together (`breach_many`)."""
    r0, c0 = raw_origin
    starts = block_starts(out_origin, out_n, block)
    for br, bc in starts:
        if br < r0 or bc < c0 or br + block > r0 + raw_HxW.shape[0] or bc + block > c0 + raw_HxW.shape[1]:
            raise ValueError("drain_region: the raw heights do not cover every block")
    raw = np.stack([raw_HxW[br - r0:br - r0 + block, bc - c0:bc - c0 + block] for br, bc in starts])
    breached = dict(zip(starts, breach_many(raw, fill=fill, erosion=erosion, origins=starts, keep=keep)))
    return drain_blocks(lambda br, bc: breached[br, bc], out_origin, out_n, block)


def drain_apron(raw_HxW, raw_row0: int, raw_col0: int, block: int, reach: int | None = None, fill: float = 0.0,
                erosion: Erosion = NO_EROSION, keep: float = 0.0) -> np.ndarray:
    """`drain_region` of square raw heights from world sample (raw_row0, raw_col0), reaching `reach`
    (default `block`) samples beyond the output on each side -> the drained inner (H - 2 reach)^2
    samples, float32. Less than a block is enough for an output that starts and ends on a multiple of
    half a block (so of every lattice's blocks). On the host; `drain` runs it inside a JAX program."""
    reach = block if reach is None else reach
    r0, c0 = int(raw_row0), int(raw_col0)
    raw = np.asarray(raw_HxW, np.float32)
    return drain_region(raw, (r0, c0), (r0 + reach, c0 + reach), raw.shape[0] - 2 * reach, block, fill, erosion, keep)


def drain(raw_HxW, raw_row0, raw_col0, block: int, reach: int | None = None, fill: float = 0.0,
          erosion: Erosion = NO_EROSION, keep: float = 0.0):
    """`drain_apron` in a JAX program (a host callback: JAX keeps no program holding one in its
    persistent compilation cache, so a world runs `drain_apron` between programs instead)."""
    out_n = raw_HxW.shape[0] - 2 * (block if reach is None else reach)
    host = lambda raw, r0, c0: drain_apron(raw, r0, c0, block, reach, fill, erosion, keep)  # noqa: E731
    return jax.pure_callback(host, jax.ShapeDtypeStruct((out_n, out_n), jnp.float32),
                             raw_HxW.astype(jnp.float32), raw_row0, raw_col0, vmap_method="sequential")
