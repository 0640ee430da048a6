"""World tiles: bit-identical seams, one-piece equality, order/batch/process independence, periodic worlds."""

import random
import subprocess
import sys
import types

import jax
import numpy as np
import pytest

from terrain_gan import pretrained
from terrain_gan.errors import TerrainGanError
from terrain_gan.generation import generate
from terrain_gan.nn import latents
from terrain_gan.world import synth
from terrain_gan.world.core import World, check_grid, check_tile_size
from terrain_gan.world.layout import Layout
from terrain_gan.world.metrics import seam_stats

S = 65  # tile size in unit tests: 4 latent cells a step, chunks shared by several tiles


@pytest.fixture(scope="module")
def model(smoke_weights):
    return pretrained.load_model(smoke_weights)


@pytest.fixture(scope="module")
def world(model):
    return World(7, model)


def _assemble(tiles: dict, nx: int, nz: int, size: int) -> np.ndarray:
    """Tiles (x, z) -> one array, each shared border written once (from the tile west / north of it)."""
    step = size - 1
    out = np.full((nz * step + 1, nx * step + 1), np.nan, np.float32)
    for (x, z), h in tiles.items():
        out[z * step:z * step + size, x * step:x * step + size] = h
    return out


def test_neighbours_share_border_samples_bit_for_bit(world):
    tiles = {(x, z): h for x, z, h in world.tiles(S, range(-1, 2), range(3, 6))}
    for (x, z), h in tiles.items():
        assert h.shape == (S, S) and h.dtype == np.float32
        if (x + 1, z) in tiles:
            assert h[:, -1].tobytes() == tiles[(x + 1, z)][:, 0].tobytes()
        if (x, z + 1) in tiles:
            assert h[-1].tobytes() == tiles[(x, z + 1)][0].tobytes()
    # The shared edge is not trivially constant: the tiles hold terrain.
    assert np.ptp(tiles[(0, 4)][:, 0]) > 0


def test_3x3_block_assembled_equals_the_region_made_in_one_piece(model):
    tiles = {(x, z): h for x, z, h in World(7, model).tiles(S, range(3), range(3))}
    block = _assemble(tiles, 3, 3, S)
    piece = World(7, model).region(0, 0, 3 * (S - 1) + 1, 3 * (S - 1) + 1)  # fresh cache, one request
    assert block.tobytes() == piece.tobytes()


def test_chunk_lattice_computes_the_same_function_as_one_convolution(model):
    """Cut from chunks or made as one generator call, the heights agree (to float rounding): no seams."""
    world = World(11, model, layout=Layout(relief_variation=0.0))
    G, n = model.generator, 24  # 384 samples: crosses chunk borders at 256 in both axes
    field, noise = G.region_inputs(latents.world_key(11), 0, 0, n)
    direct = np.asarray(G(field[None], noise[None])[0]) * np.float32(model.height_std_m) + np.float32(model.height_mean_m)
    np.testing.assert_allclose(world.region(0, 0, 16 * n, 16 * n), direct, rtol=0, atol=1e-3)


def test_tile_is_the_same_alone_in_a_batch_and_shuffled(model):
    alone = World(5, model).tile(2, 1, S).tobytes()
    batch = {(x, z): h.tobytes() for x, z, h in World(5, model).tiles(S, range(4), range(4))}
    order = [(x, z) for x in range(4) for z in range(4)]
    random.Random(0).shuffle(order)
    shuffled_world = World(5, model, capacity=2)  # evicts constantly: recomputed chunks must agree too
    shuffled = {xz: shuffled_world.tile(*xz, S).tobytes() for xz in order}
    assert batch[(2, 1)] == alone == shuffled[(2, 1)]
    assert batch == shuffled


def test_tile_is_the_same_in_another_process(model, smoke_weights, tmp_path):
    code = ("import sys, numpy as np; from terrain_gan.world.core import World; "
            "np.save(sys.argv[2], World(5, sys.argv[1]).tile(2, 1, 65))")
    out = tmp_path / "tile.npy"
    subprocess.run([sys.executable, "-c", code, str(smoke_weights), str(out)], check=True, timeout=300)
    assert np.load(out).tobytes() == World(5, model).tile(2, 1, S).tobytes()


def test_plain_layout_gives_generate_heights_bit_for_bit(model):
    plain = World(42, model, layout=Layout(relief_variation=0.0))
    hm = generate(42, (80, 90), model, origin=(-30, 100))
    assert plain.region(-30, 100, 80, 90).tobytes() == hm.height.tobytes()


def test_padded_tile_ring_is_the_neighbours_samples(world):
    p = world.padded_tile(1, 1, S)
    assert p[1:-1, 1:-1].tobytes() == world.tile(1, 1, S).tobytes()
    assert p[1:-1, -1].tobytes() == world.tile(2, 1, S)[:, 1].tobytes()
    assert p[0, 1:-1].tobytes() == world.tile(1, 0, S)[-2].tobytes()


def test_periodic_world_repeats_exactly(model):
    torus = World(3, model, period=(256, 512))
    tile = torus.tile(0, 0, 257)  # one period of rows: the last row is the first again
    assert tile[0].tobytes() == tile[-1].tobytes() and tile[:, 0].tobytes() != tile[:, -1].tobytes()
    wide = torus.region(0, 0, 257, 513)
    assert wide[:, 0].tobytes() == wide[:, -1].tobytes()
    assert torus.region(-40, 500, 90, 90).tobytes() == torus.region(216, -12, 90, 90).tobytes()


def test_periodic_chunk_program_wraps_its_latents(model):
    """The compiled program itself (no cache canonicalisation) gives chunk (1, 2) == chunk (0, 0)."""
    fn, key = synth._chunk_fn(model, (256, 512), None), latents.world_key(3)
    a, b = np.asarray(fn(key, 0, 0)), np.asarray(fn(key, 1, 2))
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, np.asarray(fn(key, 0, 1)))


def test_periodic_region_inputs_wrap_and_agree_with_unwrapped_inside_the_period(model):
    G, key = model.generator, latents.world_key(9)
    direct = G.region_inputs(key, 1000, 2000, 4)  # fine and coarse lattice cells all inside [0, period)
    wrapped = G.region_inputs(key, 1000, 2000, 4, period=(1 << 20, 1 << 20))
    for a, b in zip(direct, wrapped):  # no wrap inside the period: the same latents
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
    near = G.region_inputs(key, -2, 0, 4, period=(16, 16))
    far = G.region_inputs(key, 14, 16, 4, period=(16, 16))
    for a, b in zip(near, far):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()


def test_world_rejects_periods_off_the_chunk_lattice(model):
    with pytest.raises(TerrainGanError, match="multiple of 256"):
        World(0, model, period=(128, 256))


@pytest.mark.parametrize("size, message", [(500, "try 497 or 513"), (1, "17..8193"), (9000, "17..8193"),
                                           (65.0, "whole number"), (True, "whole number")])
def test_tile_size_must_be_made_of_latent_cells(size, message):
    with pytest.raises(TerrainGanError, match=message):
        check_tile_size(size)


@pytest.mark.parametrize("grid", [(0, 3), (3, -1), (1025, 1), (2, 2.5)])
def test_grid_must_be_sensible(grid):
    with pytest.raises(TerrainGanError, match="tile count"):
        check_grid(*grid, 513)


def test_world_needs_a_spatial_model(tmp_path):
    from flax import nnx

    from terrain_gan import config
    from terrain_gan.nn import model as model_lib

    cfg = config.Config(model=config.ModelConfig(kind="dcgan"))
    dcgan = pretrained.Model(model_lib.make_generator(cfg.model, rngs=nnx.Rngs(0)), cfg, 0.0, 1.0, "dc", "x", {})
    with pytest.raises(TerrainGanError, match="not worlds"):
        World(0, dcgan)


def test_spec_round_trip_and_weights_check(model, smoke_weights, tmp_path):
    spec = World(4, smoke_weights).spec()
    assert World.from_spec(spec).tile(0, 0, 33).tobytes() == World(4, model).tile(0, 0, 33).tobytes()
    with pytest.raises(TerrainGanError, match="loaded Model"):
        World(4, model).spec()
    bad = spec.__class__(spec.seed, spec.weights, "0" * 64, spec.layout, spec.period)
    with pytest.raises(TerrainGanError, match="weights differ"):
        World.from_spec(bad)


def test_world_key_streams_stay_distinct():
    key = latents.world_key(1)
    relief = np.asarray(latents.relief_controls(key, 0, 0, 2, 2))
    fine = np.asarray(latents.fine_field(key, 0, 0, 2, 2, 1))[..., 0]
    assert relief.shape == (2, 2) and not np.array_equal(relief, fine)
    assert np.asarray(jax.random.key_data(key)).size > 0


def test_seams_score_like_the_interior_and_independent_tiles_do_not(model):
    """The benchmark measures this on 16x16 tiles of 513 (target 0.95-1.05); here a small, noisier grid."""
    world = World(1, model)
    ours = seam_stats(lambda x, z: world.tile(x, z, S), 4, 4)
    alone = {(x, z): World(100 + x + 4 * z, model).tile(0, 0, S) for x in range(4) for z in range(4)}
    control = seam_stats(lambda x, z: alone[(x, z)], 4, 4)
    assert 0.8 < ours.phase_ratio < 1.25 and 0.7 < ours.ratio < 1.25
    assert control.ratio > 4 and control.phase_ratio > 4


def test_a_layout_drained_on_blocks_wider_than_a_chunk_makes_periods_multiples_of_them():
    """A cascade draining its layout on 128 coarse samples (512 output samples, wider than a chunk)
    needs whole blocks of every drain lattice in a period, or a torus would tile them off-lattice."""
    wide = types.SimpleNamespace(generator=types.SimpleNamespace(drain_block=128))
    assert synth.period_unit(wide) == 512
    assert synth.period_unit(types.SimpleNamespace(generator=types.SimpleNamespace(drain_block=16))) == 256
    with pytest.raises(TerrainGanError, match="multiple of 512 samples .*drained on.* 513, 1025 or 2049"):
        synth.check_period((256, 512), wide)
    assert synth.check_period((512, 1536), wide) == (512, 1536)
