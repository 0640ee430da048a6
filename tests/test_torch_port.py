"""The PyTorch port in benchmarks/torch_port.py has the JAX model's layers: with the JAX weights copied
in, it gives the same heights, logits, losses and R1 penalty.

Needs torch, the optional `bench` extra (`pip install -e '.[bench]'`): skipped without it, as in CI.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the optional `bench` extra: pip install -e '.[bench]'")

import jax  # noqa: E402
from flax import nnx  # noqa: E402

from terrain_gan import config  # noqa: E402
from terrain_gan.nn import losses, model  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import torch_port  # noqa: E402

# Narrow, but with both kinds of up-conv: unfused (36 > FUSE_MAX_CHANNELS outputs), then fused.
CFG = config.ModelConfig(z_channels=8, coarse_channels=4, g_widths=(40, 36, 16, 8, 8), d_widths=(8, 8, 16, 16, 16))


def _randomised(module, seed: int):
    """`module` with random biases and noise gains (zero at initialisation), so every path counts."""
    leaves, tree = jax.tree.flatten(nnx.state(module, nnx.Param))
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    leaves = [x if x.ndim > 1 else 0.3 * jax.random.normal(k, x.shape) for x, k in zip(leaves, keys)]
    nnx.update(module, jax.tree.unflatten(tree, leaves))
    return module


def test_generator_port_gives_the_jax_generators_heights():
    G = _randomised(model.SpatialGenerator(CFG, rngs=nnx.Rngs(0)), 1)
    port = torch_port.load_jax_generator(torch_port.TorchSpatialGenerator(CFG), G)
    field, noise = jax.jit(lambda key: G.sample_inputs(key, 2, 3))(jax.random.key(2))  # jitted: eager is slower
    expected = np.asarray(nnx.jit(lambda G, f, n: G(f, n))(G, field, noise))
    with torch.no_grad():
        got = port(torch.tensor(np.asarray(field).transpose(0, 3, 1, 2)), torch.tensor(np.asarray(noise))).numpy()
    assert got.shape == expected.shape == (2, 48, 48)
    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())
    # the chunk bench_generate.py times has region_inputs' shapes for 16 cells
    f, n = torch_port.TorchSpatialGenerator(config.ModelConfig()).chunk_inputs(cells=16)
    jax_f, jax_n = jax.eval_shape(lambda: G.region_inputs(jax.random.key(0), 0, 0, 16))
    assert (f.shape[2:], n.shape[1:]) == (jax_f.shape[:2], jax_n.shape) == ((24, 24), (288, 288))
    assert f.shape[:2] == (1, config.ModelConfig().z_channels + config.ModelConfig().coarse_channels)


def test_discriminator_port_gives_the_jax_logits_loss_and_r1():
    D = _randomised(model.Discriminator(CFG, 64, 2.5, rngs=nnx.Rngs(3)), 4)
    port = torch_port.load_jax_discriminator(torch_port.TorchDiscriminator(CFG, 64, 2.5), D)
    real, fake = np.random.default_rng(5).normal(size=(2, 8, 64, 64)).astype(np.float32)
    f = port.features(torch.tensor(real)).requires_grad_(True)
    logits, fake_logits = port.classify(f), port(torch.tensor(fake))

    @nnx.jit
    def reference(D, real, fake):  # jitted: eager JAX takes longer here than compiling
        logits, fake_logits = D(real), D(fake)
        return (logits, losses.d_loss("ns", logits, fake_logits), losses.g_loss("ns", fake_logits),
                losses.r1_penalty(D, real))

    expected, d_loss, g_loss, r1_penalty = reference(D, real, fake)
    for got, want in zip(logits, expected):
        np.testing.assert_allclose(got.detach().numpy(), np.asarray(want), rtol=1e-5, atol=1e-5)
    assert expected[1].shape == (8, 64)  # the patch head: 8 x 8 patches
    d, g = torch_port.d_loss(logits, fake_logits).item(), torch_port.g_loss(fake_logits).item()
    np.testing.assert_allclose([d, g], [float(d_loss), float(g_loss)], rtol=1e-5)
    r1 = torch_port.r1_penalty(f, logits).item()
    assert r1 > 0
    np.testing.assert_allclose(r1, float(r1_penalty), rtol=1e-4)
