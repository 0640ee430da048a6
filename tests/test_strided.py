"""`nn.strided`: a strided conv with JAX's own forward and first-order gradients, and hand-written
second-order ones (the R1 penalty's double backward), checked against JAX's on every shape kind."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from terrain_gan import config
from terrain_gan.nn import losses
from terrain_gan.nn import model as model_lib
from terrain_gan.nn.strided import same_conv

SHAPES = [  # (height, width, kernel, stride): even, odd and mixed sizes, SAME padding of every parity
    (16, 16, 3, 2), (9, 7, 3, 2), (10, 11, 5, 2), (8, 8, 3, 1), (12, 12, 4, 3), (7, 9, 5, 2)]


def _lax_conv(x, w, stride):
    return jax.lax.conv_general_dilated(x, w, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _arrays(h, w, k, rng):
    x = jnp.asarray(rng.normal(size=(2, h, w, 3)).astype(np.float32))
    return x, jnp.asarray(rng.normal(size=(k, k, 3, 4)).astype(np.float32))


@pytest.mark.parametrize("h, w, k, stride", SHAPES)
def test_forward_and_first_order_gradients_are_jaxs_bit_for_bit(h, w, k, stride):
    x, kernel = _arrays(h, w, k, np.random.default_rng(h * w))
    ours = lambda x, kernel: jnp.sin(same_conv(x, kernel, (stride, stride))).sum()  # noqa: E731
    jaxs = lambda x, kernel: jnp.sin(_lax_conv(x, kernel, stride)).sum()  # noqa: E731
    assert np.array_equal(same_conv(x, kernel, (stride, stride)), _lax_conv(x, kernel, stride))
    for a, b in zip(jax.grad(ours, (0, 1))(x, kernel), jax.grad(jaxs, (0, 1))(x, kernel)):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("h, w, k, stride", SHAPES)
def test_gradient_penalty_gradients_match_jaxs(h, w, k, stride):
    """d/dw and d/dx of |d f / dx|^2: what R1 differentiates."""
    x, kernel = _arrays(h, w, k, np.random.default_rng(h + w))

    def penalty(conv):
        f = lambda x, kernel: jnp.sin(conv(x, kernel)).sum()  # noqa: E731
        return lambda x, kernel: (jax.grad(f)(x, kernel) ** 2).sum()

    ours = jax.grad(penalty(lambda x, kernel: same_conv(x, kernel, (stride, stride))), (0, 1))(x, kernel)
    jaxs = jax.grad(penalty(lambda x, kernel: _lax_conv(x, kernel, stride)), (0, 1))(x, kernel)
    for a, b in zip(ours, jaxs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * float(jnp.abs(b).max()))


def test_discriminator_r1_gradient_matches_a_plain_conv_discriminator(monkeypatch):
    cfg = config.load("configs/smoke.toml")
    D = model_lib.make_discriminator(cfg.model, 32, 1.5, rngs=nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 32, 32)).astype(np.float32))
    ours = nnx.grad(lambda D: losses.r1_penalty(D, x))(D)
    assert np.array_equal(D(x)[0], _plain(monkeypatch, D)(x)[0])
    jaxs = nnx.grad(lambda D: losses.r1_penalty(D, x))(D)
    for a, b in zip(jax.tree.leaves(nnx.state(ours)), jax.tree.leaves(nnx.state(jaxs))):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * float(jnp.abs(b).max()) + 1e-12)


def _plain(monkeypatch, D):
    """`D` with its strided blocks called as nnx.Conv (JAX's own double backward) from now on."""
    monkeypatch.setattr(model_lib, "strided_conv", lambda conv, x: conv(x))
    return D
