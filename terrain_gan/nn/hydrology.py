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

The same drainage may run on the finished heights (`[model] detail_drain_block`), where a complete
breach cuts one-cell trenches a classifier spots at once: there each depression is first filled by
a fraction of its depth (`fill`), so the cut is that much shallower (model card, "Sixth round").

The floods are host loops, compiled by numba.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from terrain_gan.nn import drainage

EPS_M = 0.01  # the drop in metres a breach keeps per cell along its way out
_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def _breach_source(height_HxW, eps):
    """Complete breaching of one block (float64), its edge cells the outlets, compiled by numba: a
    priority flood from the edge in (height, index) order (a binary heap on arrays); a cell found no
    higher than the cell that found it gets the path back to the edge carved to descend from it by
    `eps` per cell."""
    rows, cols = height_HxW.shape
    size = rows * cols
    h = height_HxW.astype(np.float64).copy().reshape(size)
    parent = np.full(size, -1, np.int64)
    seen = np.zeros(size, np.bool_)
    edge = np.zeros(size, np.bool_)
    for k in range(size):
        i, j = k // cols, k % cols
        edge[k] = i == 0 or i == rows - 1 or j == 0 or j == cols - 1
    outlets = np.nonzero(edge)[0]
    seen[outlets] = True
    # sorted by (height, index) (a stable sort of cells in index order), so already a binary heap
    order = outlets[np.argsort(h[outlets], kind="mergesort")]
    heap_h = np.empty(size, np.float64)
    heap_k = np.empty(size, np.int64)
    count = order.size
    heap_h[:count], heap_k[:count] = h[order], order
    while count > 0:
        c = heap_k[0]
        count -= 1
        heap_h[0], heap_k[0] = heap_h[count], heap_k[count]
        at = 0
        while True:  # sift down
            low = at
            for child in (2 * at + 1, 2 * at + 2):
                if child < count and (heap_h[child] < heap_h[low]
                                      or (heap_h[child] == heap_h[low] and heap_k[child] < heap_k[low])):
                    low = child
            if low == at:
                break
            heap_h[low], heap_h[at] = heap_h[at], heap_h[low]
            heap_k[low], heap_k[at] = heap_k[at], heap_k[low]
            at = low
        ci, cj = c // cols, c % cols
        for di in range(-1, 2):
            for dj in range(-1, 2):
                ni, nj = ci + di, cj + dj
                if (di == 0 and dj == 0) or not (0 <= ni < rows and 0 <= nj < cols) or seen[ni * cols + nj]:
                    continue
                n = ni * cols + nj
                seen[n] = True
                parent[n] = c
                level, p = h[n], c
                while p >= 0 and h[p] >= level:
                    level -= eps
                    h[p] = level
                    p = parent[p]
                heap_h[count], heap_k[count] = h[n], n
                child = count
                count += 1
                while child > 0:
                    up = (child - 1) // 2
                    if heap_h[up] < heap_h[child] or (heap_h[up] == heap_h[child] and heap_k[up] < heap_k[child]):
                        break
                    heap_h[up], heap_h[child] = heap_h[child], heap_h[up]
                    heap_k[up], heap_k[child] = heap_k[child], heap_k[up]
                    child = up
    return h.reshape(rows, cols)


@functools.cache
def _breach_kernel():
    import numba  # imported here: only worlds that drain pay its start-up

    return numba.njit(cache=True)(_breach_source)


def breach(height_HxW: np.ndarray, eps: float = EPS_M, fill: float = 0.0) -> np.ndarray:
    """Heights with every closed depression breached to the block's edge (float64).

    With `fill` > 0 each depression is first filled by that fraction of its depth (each cell raised
    towards the depression's spill height), and only the rest is breached: the cut through its rim
    is that much shallower. Without, heights are only lowered.
    """
    h = np.ascontiguousarray(height_HxW, dtype=np.float64)
    if fill:
        spill = drainage.spill_cells(h[None])[0]  # from the same float32 heights, so filled >= h
        h = h + fill * (h.reshape(-1)[spill.reshape(-1)].reshape(h.shape) - h)
    return _breach_kernel()(h, float(eps))


def _tent(first: int, n: int, block: int, offset: int) -> np.ndarray:
    """Weights of one lattice at world samples first..first+n-1: 1 at block centres, 0 at their edges."""
    u = np.mod(np.arange(first, first + n) + 0.5 - offset, block)
    return 1.0 - np.abs(u - block / 2) / (block / 2)


def blocks_touching(first: int, n: int, block: int, offset: int) -> range:
    """World sample rows (or columns) where the blocks of one lattice touching [first, first+n) start."""
    return range(first - (first - offset) % block, first + n, block)


def drain_blocks(breached, out_origin: tuple[int, int], out_n: int, block: int) -> np.ndarray:
    """The drained heights of world samples [out_origin, +out_n)^2 (float32), blended from breached blocks.

    `breached(row, col)` gives the `breach`ed block of `block` x `block` world samples from (row, col),
    for every block of the four lattices touching the output (`blocks_touching`); a block's row
    and column say which lattice it is on.
    """
    out = np.zeros((out_n, out_n), np.float64)
    o_r, o_c = out_origin
    for off_r in (0, block // 2):
        for off_c in (0, block // 2):
            weight = np.outer(_tent(o_r, out_n, block, off_r), _tent(o_c, out_n, block, off_c))
            for br in blocks_touching(o_r, out_n, block, off_r):
                for bc in blocks_touching(o_c, out_n, block, off_c):
                    drained = breached(br, bc)
                    rs, re = max(br, o_r), min(br + block, o_r + out_n)  # the block's part of the output
                    cs, ce = max(bc, o_c), min(bc + block, o_c + out_n)
                    out[rs - o_r:re - o_r, cs - o_c:ce - o_c] += (
                        weight[rs - o_r:re - o_r, cs - o_c:ce - o_c] * drained[rs - br:re - br, cs - bc:ce - bc])
    return out.astype(np.float32)


def drain_region(raw_HxW: np.ndarray, raw_origin: tuple[int, int], out_origin: tuple[int, int], out_n: int,
                 block: int, fill: float = 0.0) -> np.ndarray:
    """`drain_blocks` from raw heights of world samples from `raw_origin`, which must reach at least
    `block` samples beyond the output on each side (every block that touches it); `fill` as `breach`."""
    r0, c0 = raw_origin

    def breached(br, bc):
        if br < r0 or bc < c0 or br + block > r0 + raw_HxW.shape[0] or bc + block > c0 + raw_HxW.shape[1]:
            raise ValueError("drain_region: the raw heights do not cover every block")
        return breach(raw_HxW[br - r0:br - r0 + block, bc - c0:bc - c0 + block], fill=fill)

    return drain_blocks(breached, out_origin, out_n, block)


def drain(raw_HxW, raw_row0, raw_col0, block: int, reach: int | None = None, fill: float = 0.0):
    """`drain_region` in a JAX program: raw heights from world sample (raw_row0, raw_col0), reaching
    `reach` (default `block`) samples beyond the output on each side, -> the drained inner
    (H - 2 reach)^2 samples. Less than a block is enough for an output that starts and ends on a
    multiple of half a block (so of every lattice's blocks)."""
    reach = block if reach is None else reach
    out_n = raw_HxW.shape[0] - 2 * reach

    def host(raw, r0, c0):
        r0, c0 = int(r0), int(c0)
        return drain_region(np.asarray(raw), (r0, c0), (r0 + reach, c0 + reach), out_n, block, fill)

    return jax.pure_callback(host, jax.ShapeDtypeStruct((out_n, out_n), jnp.float32),
                             raw_HxW.astype(jnp.float32), raw_row0, raw_col0, vmap_method="sequential")
