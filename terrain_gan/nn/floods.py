"""Priority floods over blocks of heights, compiled by numba: the host loops of `nn.hydrology` (fill,
breach, erode) and of `nn.drainage` (spill cells).

Imported only by the functions that flood (numba's start-up is paid by what floods). Each flood
starts from the block's edge cells and visits cells in (level, height, flat index) order from a
binary heap on arrays, so its result does not depend on how the heap breaks ties. The functions
release the GIL, so threads may flood blocks side by side (`hydrology.breach_many`).

numba optimises each function's machine code again with every njit function it calls linked in, so
a deep call tree is compiled over and over on first use: the floods' big steps (`_start`, `_flood`,
`breach`, `erode`) are inlined into their callers at numba's IR level (`inline="always"`), and the
edge cells are pushed onto the heap one by one rather than sorted (`_start` with numpy's argsort
took 3 s to compile). `breach_blocks`, all a drained map calls, compiled in 17-19 s on first use;
now in 7-8 s, with the same bits and speed (model card, "Twenty-third round").
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _before(level_a, height_a, k_a, level_b, height_b, k_b):
    """Whether entry a comes before entry b: by level, then height, then flat index."""
    return level_a < level_b or (level_a == level_b and (height_a < height_b or (height_a == height_b and k_a < k_b)))


@numba.njit(cache=True, nogil=True)
def _pop(heap_l, heap_h, heap_k, count):
    """Removes the heap's first entry; returns its index. `count` is the size before."""
    c = heap_k[0]
    count -= 1
    level, height, k = heap_l[count], heap_h[count], heap_k[count]  # the last entry, sifted down from the top
    at = 0
    while True:
        low = 2 * at + 1
        if low >= count:
            break
        right = low + 1
        if right < count and _before(heap_l[right], heap_h[right], heap_k[right], heap_l[low], heap_h[low], heap_k[low]):
            low = right
        if _before(level, height, k, heap_l[low], heap_h[low], heap_k[low]):
            break
        heap_l[at], heap_h[at], heap_k[at] = heap_l[low], heap_h[low], heap_k[low]
        at = low
    heap_l[at], heap_h[at], heap_k[at] = level, height, k
    return c


@numba.njit(cache=True, nogil=True)
def _push(heap_l, heap_h, heap_k, count, level, height, k):
    """Adds (level, height, k) to a heap of `count` entries."""
    at = count
    while at > 0:  # sift up
        up = (at - 1) // 2
        if _before(heap_l[up], heap_h[up], heap_k[up], level, height, k):
            break
        heap_l[at], heap_h[at], heap_k[at] = heap_l[up], heap_h[up], heap_k[up]
        at = up
    heap_l[at], heap_h[at], heap_k[at] = level, height, k


@numba.njit(cache=True, nogil=True, inline="always")
def _start(h, rows, cols, seen, heap_l, heap_h, heap_k):
    """Seeds the flood with the edge cells (their heights as levels); returns the heap's size.

    Pushed one by one: cells leave the heap in (level, height, flat index) order, whatever its layout."""
    count = 0
    for k in range(rows * cols):
        i, j = k // cols, k % cols
        if i == 0 or i == rows - 1 or j == 0 or j == cols - 1:
            seen[k] = True
            _push(heap_l, heap_h, heap_k, count, h[k], h[k], k)
            count += 1
    return count


@numba.njit(cache=True, nogil=True, inline="always")
def _flood(height_HxW, fill_fraction):
    """A priority flood of one block from its edge, flat: (heights, raised heights, levels, spill
    cells, the cell that found each cell, the cells off the edge in the order found).

    Each cell's fill level, the height water stands at over it once every closed depression is
    filled, is its own height or the level of the cell that found it, whichever is higher (Barnes et
    al. 2014), and it spills where that cell does if it is no higher. Each cell is raised by
    `fill_fraction` of its depth below its level, and cells are visited in (level, raised height,
    flat index) order: with a fraction of 1, as a fill visits them; below, as Lindsay's breach by
    height visits the raised heights (a depression is explored from its spill cell, lowest cells
    first, before any cell above its level).
    """
    rows, cols = height_HxW.shape
    raw = height_HxW.astype(np.float64).copy().reshape(rows * cols)
    h, level = raw.copy(), raw.copy()
    parent, found = np.full(rows * cols, -1, np.int64), np.empty(rows * cols, np.int64)
    spill = np.arange(rows * cols)
    seen = np.zeros(rows * cols, np.bool_)
    heap_l, heap_h, heap_k = np.empty(rows * cols), np.empty(rows * cols), np.empty(rows * cols, np.int64)
    count = _start(raw, rows, cols, seen, heap_l, heap_h, heap_k)
    n_found = 0
    while count > 0:
        c = _pop(heap_l, heap_h, heap_k, count)
        count -= 1
        ci, cj = c // cols, c % cols
        for ni in range(max(ci - 1, 0), min(ci + 2, rows)):  # the 8 neighbours (c itself is seen)
            for nj in range(max(cj - 1, 0), min(cj + 2, cols)):
                n = ni * cols + nj
                if seen[n]:
                    continue
                seen[n] = True
                if raw[n] <= level[c]:
                    level[n] = level[c]
                    spill[n] = spill[c]
                h[n] = raw[n] + fill_fraction * (level[n] - raw[n])
                parent[n], found[n_found] = c, n
                n_found += 1
                _push(heap_l, heap_h, heap_k, count, level[n], h[n], n)
                count += 1
    return raw, h, level, spill, parent, found[:n_found]


@numba.njit(cache=True, nogil=True)
def fill(height_HxW):
    """Each cell's level once every closed depression is filled to its spill height."""
    return _flood(height_HxW, 1.0)[2].reshape(height_HxW.shape)


@numba.njit(cache=True, nogil=True)
def spill_cells(height_HxW):
    """For each cell, the flat index of the cell whose height it fills up to (itself outside depressions)."""
    return _flood(height_HxW, 1.0)[3].reshape(height_HxW.shape).astype(np.int32)


@numba.njit(cache=True, nogil=True, inline="always")
def breach(height_HxW, eps, fill_fraction=0.0, keep_depth=0.0):
    """Complete breaching of one block, its edge cells the outlets (Lindsay 2016), after raising each
    cell by `fill_fraction` of its depth below its fill level: each cell found lower than the cell
    that found it gets the way back to the edge carved to descend from it by `eps` per cell. Closed
    depressions less than `keep_depth` deep are left as they are.

    One flood: the carving does not change the order cells are found in, so it follows the flood
    (`tests/test_hydrology.py`: the same bits as a fill, then a breach of the filled heights).
    """
    raw, h, level, spill, parent, found = _flood(height_HxW, fill_fraction)
    kept = np.zeros(raw.size, np.bool_)
    if keep_depth > 0:
        deepest = np.zeros(raw.size)  # per depression, named by its spill cell
        for k in range(raw.size):
            deepest[spill[k]] = max(deepest[spill[k]], level[k] - raw[k])
        for k in range(raw.size):
            kept[k] = level[k] > raw[k] and deepest[spill[k]] < keep_depth
            if kept[k]:
                h[k] = raw[k]
    for n in found:
        if kept[n]:
            continue
        height, p = h[n], parent[n]
        while p >= 0 and h[p] >= height:  # the way out must descend from n: carve it
            height -= eps
            h[p] = height
            p = parent[p]
    return h.reshape(height_HxW.shape)


@numba.njit(cache=True, nogil=True)
def _downstream_first(receiver, donors, first, order):
    """Fills `order` with every cell, each after its receiver (base-level cells, receiver -1, first):
    a breadth-first walk up the drainage tree. `donors[first[c]:first[c + 1]]` are the cells c drains."""
    n = receiver.size
    first[:] = 0
    for c in range(n):
        if receiver[c] >= 0:
            first[receiver[c] + 1] += 1
    for c in range(n):
        first[c + 1] += first[c]
    filled = first[:n].copy()
    count = 0
    for c in range(n):
        if receiver[c] >= 0:
            donors[filled[receiver[c]]] = c
            filled[receiver[c]] += 1
        else:
            order[count] = c
            count += 1
    head = 0
    while head < count:
        c = order[head]
        head += 1
        for t in range(first[c], first[c + 1]):
            order[count] = donors[t]
            count += 1


@numba.njit(cache=True, nogil=True)
def _rho(row, col):
    """A uniform number in [0, 1) that is a pure function of the world cell (row, col) (a 64-bit mix)."""
    x = (np.uint64(row & 0xFFFFFFFF) << np.uint64(32)) | np.uint64(col & 0xFFFFFFFF)
    x = (x ^ (x >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)
    x = (x ^ (x >> np.uint64(33))) * np.uint64(0xC4CEB9FE1A85EC53)
    x = x ^ (x >> np.uint64(33))
    return float(x >> np.uint64(40)) / 16777216.0


@numba.njit(cache=True, nogil=True)
def _steeper(slope, to, diagonal, best, receiver, receiver_diagonal):
    """(slope, neighbour, whether diagonal) if `slope` beats the best so far, else the best so far."""
    if slope > best:
        return slope, to, diagonal
    return best, receiver, receiver_diagonal


@numba.njit(cache=True, nogil=True, inline="always")
def erode(drained_HxW, steps, k, m, row0=0, col0=0):
    """`steps` steps of stream-power incision of a drained block (every cell off its edge has a lower
    neighbour), its edge cells the fixed base level: Braun & Willett's (2013) implicit scheme with
    n = 1. Each step routes every cell to its steepest lower neighbour, accumulates the area
    draining through each cell (in cells, itself included) and lowers each cell, receivers first,
    to h' = (h + F h'_receiver) / (1 + F), F = k A^m / (distance to the receiver in cells).

    The steepest neighbour is chosen as Fairfield & Leymarie's (1991) Rho8 does: a diagonal
    neighbour's distance counts as 2 - rho, rho uniform in [0, 1) per cell (a pure function of its
    world cell, the block's first at (row0, col0), so every block holding a cell routes it alike).
    On average that is a diagonal's length, but flow on a smooth slope no longer runs in straight
    parallel lines along one of eight directions: it wanders and joins.

    Every cell relaxes towards its receiver, but the more area a cell drains the faster: flow lines
    are cut deeper than the ridges between them (tests/test_hydrology.py: 2x on a rough massif), so
    the block's flow lines become a branching valley network whose gradient falls downstream (at
    steady state as A^-m). A cell stays above its receiver, so the block stays drained. The steps
    are few and there is no uplift: this is incision of the given relief, not a landscape at steady
    state.
    """
    rows, cols = drained_HxW.shape
    n = rows * cols
    h = drained_HxW.astype(np.float64).copy().reshape(n)
    receiver, run, area = np.empty(n, np.int64), np.empty(n, np.float64), np.empty(n, np.float64)
    donors, first, order = np.empty(n, np.int64), np.empty(n + 1, np.int64), np.empty(n, np.int64)
    gain = k * np.arange(n + 1.0) ** m  # k A^m for every area A (a whole number of cells)
    diagonal = np.sqrt(2.0)
    rho_d = np.empty(n, np.float64)  # a diagonal neighbour's distance, 2 - rho, per cell
    for ci in range(rows):
        for cj in range(cols):
            rho_d[ci * cols + cj] = 2.0 - _rho(row0 + ci, col0 + cj)
    up, down = -cols, cols
    for _ in range(steps):
        receiver[:], run[:] = -1, 1.0  # the edge cells: the base level
        for ci in range(1, rows - 1):
            for cj in range(1, cols - 1):
                c = ci * cols + cj
                hc, d = h[c], rho_d[c]
                # the eight neighbours in row order, a tie to the first; c itself (slope 0) never wins.
                # Written out: as a loop over offsets numba made the whole erosion 2x slower.
                best, r, diag = 0.0, -1, False
                best, r, diag = _steeper((hc - h[c + up - 1]) / d, c + up - 1, True, best, r, diag)
                best, r, diag = _steeper(hc - h[c + up], c + up, False, best, r, diag)
                best, r, diag = _steeper((hc - h[c + up + 1]) / d, c + up + 1, True, best, r, diag)
                best, r, diag = _steeper(hc - h[c - 1], c - 1, False, best, r, diag)
                best, r, diag = _steeper(hc - h[c + 1], c + 1, False, best, r, diag)
                best, r, diag = _steeper((hc - h[c + down - 1]) / d, c + down - 1, True, best, r, diag)
                best, r, diag = _steeper(hc - h[c + down], c + down, False, best, r, diag)
                best, r, diag = _steeper((hc - h[c + down + 1]) / d, c + down + 1, True, best, r, diag)
                if r >= 0:
                    receiver[c], run[c] = r, diagonal if diag else 1.0
        _downstream_first(receiver, donors, first, order)
        area[:] = 1.0
        for t in range(n - 1, -1, -1):
            c = order[t]
            if receiver[c] >= 0:
                area[receiver[c]] += area[c]
        for t in range(n):
            c = order[t]
            if receiver[c] >= 0:
                f = gain[int(area[c])] / run[c]
                h[c] = (h[c] + f * h[receiver[c]]) / (1.0 + f)
    return h.reshape(rows, cols)


@numba.njit(cache=True, nogil=True)
def breach_blocks(blocks_NxBxB, origins_Nx2, eps, fill_fraction, keep_depth=0.0, erode_steps=0, erode_k=0.0,
                  erode_m=0.5):
    """`breach` of each block, then `erode`d for `erode_steps` steps (block b's first cell is world
    cell origins_Nx2[b])."""
    out = np.empty(blocks_NxBxB.shape, np.float64)
    for b in range(blocks_NxBxB.shape[0]):
        h = breach(blocks_NxBxB[b], eps, fill_fraction, keep_depth)
        if erode_steps > 0:
            h = erode(h, erode_steps, erode_k, erode_m, origins_Nx2[b, 0], origins_Nx2[b, 1])
        out[b] = h
    return out
