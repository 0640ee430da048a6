"""GAN objectives on discriminator logits, and the R1 gradient penalty."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def d_loss(kind: str, real_logits_B, fake_logits_B):
    """Discriminator loss. "ns" and "bce" are the same sigmoid cross-entropy (the article's BCE)."""
    if kind == "hinge":
        return jax.nn.relu(1 - real_logits_B).mean() + jax.nn.relu(1 + fake_logits_B).mean()
    return jax.nn.softplus(-real_logits_B).mean() + jax.nn.softplus(fake_logits_B).mean()


def g_loss(kind: str, fake_logits_B):
    """Generator loss: non-saturating -log D(G(z)) (as in DCGAN practice), or hinge's -D(G(z))."""
    if kind == "hinge":
        return -fake_logits_B.mean()
    return jax.nn.softplus(-fake_logits_B).mean()


def r1_penalty(D, real_BxHxW):
    """Mean squared norm of dD/dx on real data (Mescheder et al. 2018), before the gamma/2 weight.

    x is what D's layers see (`D.features`: heights and scaled slopes), so the penalty does not grow
    with the fixed gain that makes fine slopes visible to D.
    """
    grad = jax.grad(lambda f: D.classify(f).sum())(D.features(real_BxHxW))
    return jnp.sum(grad * grad, axis=(1, 2, 3)).mean()
