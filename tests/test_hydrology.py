"""Drained layouts (nn/hydrology.py): breaching drains closed basins, and the blocked drainage is a
pure function of world position, so worlds keep their seams."""

import concurrent.futures
import heapq

import jax.numpy as jnp
import numpy as np
import pytest

from terrain_gan.eval import drainage
from terrain_gan.eval.fbm import fbm_heightmap
from terrain_gan.nn import hydrology

pytest.importorskip("pyflwdir")  # the measures below; the eval extra (which CI installs) brings it


def _pitted_ramp():
    """A ramp down to the west with a 30 m deep pit walled in by a ridge."""
    h = np.add.outer(np.zeros(40), np.arange(40.0) * 2.0)
    h[10:30, 18:21] += 60.0  # a ridge across the slope
    h[15:25, 22:28] -= 30.0  # a basin behind it
    return h


def test_breach_drains_a_walled_basin_and_only_lowers():
    h = _pitted_ramp()
    assert drainage.depression_fraction(h.astype(np.float32), 360.0) > 0.02
    out = hydrology.breach(h)
    assert drainage.depression_fraction(out.astype(np.float32), 360.0) == 0.0
    assert (out <= h).all()
    carved = h - out > 1.0
    assert 0 < carved.sum() < 60  # a way out was cut, not the map flattened
    assert np.abs(h - out)[35:].max() < 0.5  # away from the basin and its way out, only centimetres


def test_a_partial_fill_keeps_the_basin_shallower_and_cuts_a_shallower_way_out():
    h = _pitted_ramp()
    hard, half = hydrology.breach(h), hydrology.breach(h, fill=0.5)
    assert drainage.depression_fraction(half.astype(np.float32), 360.0) == 0.0
    floor = (slice(16, 24), slice(23, 27))  # inside the basin
    assert (half[floor] > h[floor] + 1.0).all()  # raised by half its depth (tens of metres)...
    assert np.abs(hard[floor] - h[floor]).max() < 0.5  # ... where the complete breach leaves it
    assert (h - half).max() < 0.75 * (h - hard).max()  # and the deepest cut is shallower


def test_a_full_fill_floods_the_basin_to_its_brim_and_cuts_no_trench():
    """`fill=1` (a 90 m drain's option, measured for v2 in the model card): the basin fills to the
    lowest way round the ridge (42 m), its water falling 1 cm a cell towards it so it still drains,
    and nothing is cut through the ridge."""
    h = _pitted_ramp()
    out = hydrology.breach(h, fill=1.0)
    assert drainage.depression_fraction(out.astype(np.float32), 360.0) == 0.0
    basin = (slice(15, 25), slice(22, 28))
    assert (out[basin] > 41.5).all() and (out[basin] <= 42.0).all()  # its floor was 12-22 m
    ridge = (slice(10, 30), slice(18, 21))
    assert np.abs(out[ridge] - h[ridge]).max() < 0.5  # no way cut through the ridge
    assert np.abs(out - h)[:, :12].max() < 0.5  # nor anywhere else beyond centimetres


def test_depressions_shallower_than_keep_are_left_as_they_are_and_deeper_ones_are_breached():
    h = _pitted_ramp()
    h[2:9, 27:34] = 60.0  # two terraces on the slope: one with a pit 0.6 m deep...
    h[5, 30] -= 0.6
    h[30:38, 5:15] = 20.0  # ... one with a hollow 0.6 m deep, 0.9 m at its centre
    h[32:35, 8:11] -= 0.6
    h[33, 9] -= 0.3
    shallow = np.zeros(h.shape, bool)
    shallow[5, 30] = shallow[32:35, 8:11] = True
    out = hydrology.breach(h, fill=0.3, keep=1.0)
    np.testing.assert_array_equal(out[shallow], h[shallow])  # kept, bit for bit
    assert drainage.depression_fraction(out.astype(np.float32), 360.0) == 0.0  # none over 1 m deep is left
    basin = (slice(16, 24), slice(23, 27))
    assert (out[basin] > h[basin] + 1.0).all()  # the 30 m basin was filled by 0.3 and breached as before
    terraces = np.zeros(h.shape, bool)
    terraces[2:9, 27:34] = terraces[30:38, 5:15] = True
    hard = hydrology.breach(h, fill=0.3)
    np.testing.assert_array_equal(out[~terraces], hard[~terraces])  # the rest breached as without `keep`
    assert (hard[shallow] != h[shallow]).all()  # where, instead, they are raised and cut a way out
    assert (hard[terraces & ~shallow] < h[terraces & ~shallow] - 0.3).any()


def test_a_partial_fill_and_the_breach_in_one_flood_are_a_fill_then_a_breach_bit_for_bit():
    """`floods.breach` raises each cell towards its fill level as its flood finds it, visiting cells as
    a breach of the filled heights would: real DEM windows (quantised, so full of tied heights) and a
    pitted fBm give the bits of a fill, then a breach of the filled heights, in two floods."""
    from terrain_gan.dataset.core import load_dataset
    from terrain_gan.nn import floods

    real = load_dataset().sample_windows(40, rng=np.random.default_rng(0), window=64, augment=False)
    pitted = [h for h in real.astype(np.float64) if (floods.fill(h) > h + 1.0).sum() > 20][:6]  # depressions to fill
    assert len(pitted) == 6
    rough = fbm_heightmap(64, beta=2.0, seed=3, relief_m=300.0) + np.random.default_rng(1).normal(0.0, 2.0, (64, 64))
    for h in [*pitted, rough]:
        for fraction in (0.3, 1.0):
            filled = h + fraction * (floods.fill(h) - h)
            np.testing.assert_array_equal(floods.breach(h, 0.01, fraction), floods.breach(filled, 0.01))


def _breach_reference(h, eps, fill_fraction):
    """`floods.breach` (no kept depressions) as a plain-Python priority flood on `heapq`."""
    rows, cols = h.shape
    raw = h.ravel().astype(np.float64)
    out, level, parent = raw.copy(), raw.copy(), np.full(raw.size, -1)
    seen = np.zeros(raw.size, bool)
    heap, found = [], []
    for k in range(raw.size):  # the edge cells are the outlets
        i, j = divmod(k, cols)
        if i in (0, rows - 1) or j in (0, cols - 1):
            seen[k] = True
            heapq.heappush(heap, (raw[k], raw[k], k))
    while heap:
        _, _, c = heapq.heappop(heap)  # by level, then raised height, then flat index
        ci, cj = divmod(c, cols)
        for ni in range(max(ci - 1, 0), min(ci + 2, rows)):
            for nj in range(max(cj - 1, 0), min(cj + 2, cols)):
                n = ni * cols + nj
                if seen[n]:
                    continue
                seen[n] = True
                if raw[n] <= level[c]:
                    level[n] = level[c]
                out[n] = raw[n] + fill_fraction * (level[n] - raw[n])
                parent[n] = c
                found.append(n)
                heapq.heappush(heap, (level[n], out[n], n))
    for n in found:  # each way out carved to descend from the cell that needs it
        height, p = out[n], parent[n]
        while p >= 0 and out[p] >= height:
            height -= eps
            out[p] = height
            p = parent[p]
    return out.reshape(rows, cols)


def test_the_compiled_breach_is_a_priority_flood_in_level_height_index_order():
    """The numba flood (its heap on arrays, the edge cells pushed one by one) gives the bits of a
    textbook priority flood on Python's heapq: blocks full of tied heights (rounded to 5 m) and pits,
    where the order cells are found in decides which way each basin is cut out."""
    from terrain_gan.nn import floods

    rng = np.random.default_rng(4)
    for seed in range(3):
        h = fbm_heightmap(24, beta=2.0, seed=seed, relief_m=60.0) + rng.normal(0.0, 4.0, (24, 24))
        h = np.round(h / 5.0) * 5.0
        assert (floods.fill(h) > h).sum() > 10  # closed depressions to breach
        for fraction in (0.0, 0.3):
            np.testing.assert_array_equal(floods.breach(h, 0.01, fraction), _breach_reference(h, 0.01, fraction))


def test_blocks_breached_together_are_each_breached_alone():
    """`breach_many` shares the blocks among threads and puts them back in order, even from many
    threads at once (worlds may be made from several)."""
    blocks = np.random.default_rng(0).normal(size=(13, 32, 32)) * 10.0
    erosion = hydrology.Erosion(3, 0.1, 0.5)
    origins = [(32 * i, -32 * i) for i in range(len(blocks))]  # each block's world cell keys its routing
    alone = np.stack([hydrology.breach(b, fill=0.3, erosion=erosion, origin=o) for b, o in zip(blocks, origins)])
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: hydrology.breach_many(blocks, fill=0.3, erosion=erosion, origins=origins),
                                 range(8)))
    for out in together:
        np.testing.assert_array_equal(out, alone)
    assert not np.array_equal(alone[0], alone[1])


def _steepest_drop(h):
    """Each cell's steepest downhill slope (metres per cell) towards its eight neighbours."""
    p = np.pad(h, 1, mode="edge")
    return np.max([(h - p[1 + di:1 + di + h.shape[0], 1 + dj:1 + dj + h.shape[1]]) / np.hypot(di, dj)
                   for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj], axis=0)


def test_erosion_cuts_valleys_that_deepen_with_the_area_they_drain_and_keeps_the_block_drained():
    """Stream-power incision (`floods.erode`) of a rough massif: lowered most along the flow lines that
    drain most, whose slopes fall (concave valleys between steep sides); the edge (the base level)
    kept, every basin still breached, and more steps cut further."""
    import pyflwdir

    i = np.arange(64.0) - 31.5
    massif = 1500.0 - 0.6 * np.add.outer(i ** 2, i ** 2)
    h = massif + fbm_heightmap(64, beta=2.6, seed=4, cell_size_m=360.0, relief_m=300.0)
    assert drainage.depression_fraction(h.astype(np.float32), 360.0) > 0.01
    breached = hydrology.breach(h)
    eroded = hydrology.breach(h, erosion=hydrology.Erosion(10, 0.1, 0.5))
    assert drainage.depression_fraction(eroded.astype(np.float32), 360.0) == 0.0
    cut = breached - eroded
    assert (cut >= 0).all()
    np.testing.assert_array_equal(cut[[0, -1], :], 0.0)
    np.testing.assert_array_equal(cut[:, [0, -1]], 0.0)
    area = pyflwdir.from_dem(eroded.astype(np.float32)).upstream_area(unit="cell")[1:-1, 1:-1]
    ridges, valleys = area == 1, area >= 50
    assert valleys.sum() > 100
    inner = cut[1:-1, 1:-1]
    assert np.median(inner[valleys]) > 2 * np.median(inner[ridges]), (np.median(inner[valleys]), np.median(inner[ridges]))
    def slope_ratio(x):  # valley floors' slopes over ridges'
        drop = _steepest_drop(x)[1:-1, 1:-1]
        return np.median(drop[valleys]) / np.median(drop[ridges])

    assert slope_ratio(eroded) < 0.5 * slope_ratio(breached), (slope_ratio(eroded), slope_ratio(breached))
    more = hydrology.breach(h, erosion=hydrology.Erosion(20, 0.1, 0.5))
    assert (eroded - more).mean() > 1.0


def test_erosion_on_a_smooth_slope_cuts_joining_valleys_not_parallel_gullies():
    """Rho8 routing (`floods.erode`): on a plane tilted 20 deg off a grid axis, steepest-neighbour
    (D8) routing sends every column straight down, so every column is cut alike (measured: the cut
    varies 0.001 m across columns). With a random diagonal distance per world cell, flow wanders and
    joins: valleys and spurs (37 m)."""
    y, x = np.mgrid[:64, :64].astype(np.float64)
    angle = np.radians(20.0)
    plane = hydrology.breach(1000.0 - 10.0 * (y * np.cos(angle) + x * np.sin(angle)))
    erosion = hydrology.Erosion(10, 0.1, 0.5)
    eroded = hydrology.breach(plane, erosion=erosion)
    across = (plane - eroded)[20:44, 8:56].std(axis=1).mean()
    assert across > 10.0, across
    # the routing is a function of the world cell: the same block elsewhere is cut otherwise, here alike
    np.testing.assert_array_equal(eroded, hydrology.breach(plane, erosion=erosion, origin=(0, 0)))
    assert not np.array_equal(eroded, hydrology.breach(plane, erosion=erosion, origin=(640, -64)))


def test_drained_fbm_keeps_few_basins():
    h = fbm_heightmap(256, beta=2.6, seed=1, cell_size_m=360.0, relief_m=1500.0)
    drained = hydrology.drain_region(h, (0, 0), (64, 64), 128, 64)
    inner = h[64:192, 64:192]
    before = drainage.depression_fraction(inner, 360.0)
    after = drainage.depression_fraction(drained, 360.0)
    assert before > 0.05 and after < before / 3
    assert (drained <= inner + 1e-3).all()  # a blend of breached blocks: lowered, never raised


def test_drained_region_depends_only_on_world_position():
    h = fbm_heightmap(224, beta=2.6, seed=2, cell_size_m=360.0, relief_m=1500.0)
    # two requests whose outputs overlap, at different phases of the 32-sample block lattice
    a = hydrology.drain_region(h[0:160, 0:160], (0, 0), (32, 32), 96, 32)
    b = hydrology.drain_region(h[40:224, 8:192], (40, 8), (85, 53), 100, 32)
    np.testing.assert_array_equal(a[53:, 21:], b[:43, :75])  # world rows 85-127, cols 53-127


def test_an_output_on_the_half_block_lattice_needs_raw_heights_half_a_block_beyond_it():
    """As a world chunk drains its finished heights: blocks of 16 on a chunk of 32 at world (32, 64)
    need its heights from 8 samples beyond it, and give what a region reaching a whole block further gives."""
    h = fbm_heightmap(128, beta=2.6, seed=3, cell_size_m=90.0, relief_m=400.0).astype(np.float32)
    apron = np.asarray(hydrology.drain(jnp.asarray(h[24:72, 56:104]), 24, 56, 16, reach=8))
    wide = hydrology.drain_region(h, (0, 0), (32, 64), 32, 16)
    assert apron.shape == (32, 32)
    np.testing.assert_array_equal(apron, wide)
    assert not np.array_equal(apron, h[32:64, 64:96])


def test_drain_region_refuses_raw_heights_that_miss_a_block():
    h = np.zeros((60, 60))  # the output's last block, world samples 32-63, sticks out
    with pytest.raises(ValueError, match="do not cover every block"):
        hydrology.drain_region(h, (0, 0), (16, 16), 40, 32)
