"""Properties of the generators: locality (what makes seamless worlds possible) and shapes."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from terrain_gan import config
from terrain_gan.nn import model

SMALL = config.ModelConfig(g_widths=(16, 16, 8, 8, 8), d_widths=(8, 8, 16, 16, 16))


@pytest.fixture(scope="module")
def G():
    return model.SpatialGenerator(SMALL, rngs=nnx.Rngs(0))


def _render(G, key, i0, j0, n):
    field, noise = G.region_inputs(key, i0, j0, n)
    return np.asarray(G(field[None], noise[None])[0])


def test_output_is_n_cells_times_stride_for_any_n(G):
    for n in (1, 3, 8):
        assert _render(G, jax.random.key(0), 5, -7, n).shape == (16 * n, 16 * n)


def test_region_is_bitwise_the_same_cut_from_a_larger_region(G):
    key = jax.random.key(3)
    big = _render(G, key, -2, 10, 6)
    piece = _render(G, key, 0, 13, 2)
    np.testing.assert_array_equal(big[32:64, 48:80], piece)


def test_output_depends_only_on_latents_within_the_margin(G):
    """Perturbing latents just outside MARGIN_CELLS leaves the output unchanged; just inside changes it."""
    m, n = G.MARGIN_CELLS, 2
    field, noise = G.region_inputs(jax.random.key(1), 0, 0, n)
    base = G(field[None], noise[None])
    size = field.shape[0]
    assert size == n + 2 * m
    ring = np.zeros((size, size, 1), bool)
    ring[0, :] = ring[-1, :] = ring[:, 0] = ring[:, -1] = True  # the outermost latent cells
    outside = G((field + 10.0 * ring)[None], noise[None])
    assert jnp.any(outside != base)  # the ring is inside the receptive field of the edge samples...
    # ...but a field one cell larger, perturbed only on its new outer ring, gives the same output
    # once cropped: the generator never reads beyond MARGIN_CELLS.
    field2, noise2 = G.region_inputs(jax.random.key(1), -1, -1, n + 2)
    grown = G(field2[None], noise2[None])[0, 16:-16, 16:-16]
    np.testing.assert_array_equal(np.asarray(grown), np.asarray(base[0]))


@pytest.mark.parametrize("min_stride", [1, 4, 16])
def test_noise_enters_only_the_stages_at_noise_min_stride_or_coarser(min_stride):
    """With noise_min_stride = 4 the generator reads the noise image only at its stride-8 and stride-4 samples
    (every 4th row and column): changing the others changes nothing; with 1 it does; with 16 nothing reads it."""
    G = model.SpatialGenerator(dataclasses.replace(SMALL, noise_min_stride=min_stride), rngs=nnx.Rngs(0))
    for gain in G.noise_gain:
        gain[...] = jnp.ones_like(gain[...])  # trained gains are non-zero; fresh ones are 0
    field, noise = G.region_inputs(jax.random.key(4), 0, 0, 2)
    base = np.asarray(G(field[None], noise[None]))
    rows, cols = np.indices(noise.shape)
    off_lattice = (rows % 4 != 0) | (cols % 4 != 0)
    changed = np.asarray(G(field[None], (noise + 5.0 * off_lattice)[None]))
    anywhere = np.asarray(G(field[None], (noise + 5.0)[None]))
    assert np.array_equal(changed, base) == (min_stride >= 4)
    assert np.array_equal(anywhere, base) == (min_stride == 16)


def test_latents_are_pure_functions_of_world_key_and_cell(G):
    a = G.region_inputs(jax.random.key(9), 100, 200, 4)
    b = G.region_inputs(jax.random.key(9), 101, 201, 4)
    np.testing.assert_array_equal(np.asarray(a[0][1:, 1:]), np.asarray(b[0][:-1, :-1]))
    c = G.region_inputs(jax.random.key(10), 100, 200, 4)
    assert not np.array_equal(np.asarray(a[0]), np.asarray(c[0]))


def test_no_batch_coupling_at_inference(G):
    """Each output depends on its own latents only: no batch statistics in the spatial generator."""
    inputs = G.sample_inputs(jax.random.key(4), 3, 2)
    together = np.asarray(G(*inputs))
    alone = np.asarray(G(*(x[1:2] for x in inputs)))
    np.testing.assert_array_equal(together[1:2], alone)


def test_dcgan_shapes_and_discriminators():
    dcfg = config.ModelConfig(kind="dcgan")
    Gd = model.make_generator(dcfg, rngs=nnx.Rngs(0))
    out = Gd(*Gd.sample_inputs(jax.random.key(0), 2))
    assert out.shape == (2, 64, 64)
    assert model.make_discriminator(dcfg, 64, 10.0, rngs=nnx.Rngs(0))(out).shape == (2,)
    whole, patches = model.make_discriminator(SMALL, 64, 10.0, rngs=nnx.Rngs(0))(out)
    assert whole.shape == (2,) and patches.shape == (2, 8 * 8)  # one logit per stride-8 patch


def test_training_windows_are_cut_at_every_phase_of_the_lattice(G):
    """`sample` crops each window at its own random offset (0..15 on each axis) from a larger region."""
    key = jax.random.key(5)
    k_inputs, k_offset = jax.random.split(key)
    offsets = np.asarray(jax.random.randint(k_offset, (64, 2), 0, G.STRIDE))
    assert len(set(offsets[:, 0])) >= 12 and len(set(offsets[:, 1])) >= 12
    full = np.asarray(G(*G.sample_inputs(k_inputs, 64, 5)))
    got = np.asarray(G.windows_from(G.window_inputs(key, 64, 64), 64))  # what `sample` runs, uncompiled
    for b in (0, 17, 63):
        oy, ox = offsets[b]
        np.testing.assert_array_equal(got[b], full[b, oy:oy + 64, ox:ox + 64])


@pytest.mark.parametrize("cin, cout", [(32, 16), (64, 32), (48, 8)])
def test_fused_upsample_conv_equals_bilinear_upsample_then_conv(cin, cout):
    """The fused stage is the same map as nearest x2, [1, 2, 1] blur and a 3x3 VALID conv, to float rounding."""
    conv = nnx.Conv(cin, cout, (3, 3), padding="VALID", rngs=nnx.Rngs(3))
    conv.bias[...] = jax.random.normal(jax.random.key(4), (cout,))
    x = jax.random.normal(jax.random.key(5), (2, 11, 13, cin))
    plain = np.asarray(conv(model._blur121(model._up2(x))))
    fused = np.asarray(model._fused_up_conv(conv, x))
    assert fused.shape == plain.shape == (2, 18, 22, cout)
    np.testing.assert_allclose(fused, plain, rtol=0, atol=2e-5 * np.abs(plain).max())
