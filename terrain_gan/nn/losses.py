"""GAN objectives on discriminator logits, and the R1 gradient penalty.

A discriminator returns one array of logits (B,) or a tuple of them (global (B,), patches (B, P));
each part's loss is averaged over its own elements and the parts are summed, so a window's global
verdict weighs as much as all its patch verdicts together.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _parts(logits):
    return logits if isinstance(logits, tuple) else (logits,)


def d_loss(kind: str, real_logits, fake_logits):
    """Discriminator loss. "ns" and "bce" are the same sigmoid cross-entropy (the article's BCE)."""
    total = 0.0
    for real, fake in zip(_parts(real_logits), _parts(fake_logits)):
        if kind == "hinge":
            total += jax.nn.relu(1 - real).mean() + jax.nn.relu(1 + fake).mean()
        else:
            total += jax.nn.softplus(-real).mean() + jax.nn.softplus(fake).mean()
    return total


def g_loss(kind: str, fake_logits):
    """Generator loss: non-saturating -log D(G(z)) (as in DCGAN practice), or hinge's -D(G(z))."""
    parts = _parts(fake_logits)
    if kind == "hinge":
        return sum(-f.mean() for f in parts)
    return sum(jax.nn.softplus(-f).mean() for f in parts)


def global_logit(logits):
    """The whole-window logits (B,) of a discriminator's output."""
    return _parts(logits)[0]


def r1_penalty(D, real_BxHxW):
    """Mean squared norm of dD/dx on real data (Mescheder et al. 2018), before the gamma/2 weight.

    x is what D's layers see (`D.features`: heights and scaled slopes), so the penalty does not grow
    with the fixed gain that makes fine slopes visible to D. D's output is each part's mean logit
    per window, summed over parts, matching how `d_loss` weighs them.
    """
    def score(f):
        return sum(p.reshape(p.shape[0], -1).mean(axis=1).sum() for p in _parts(D.classify(f)))

    grad = jax.grad(score)(D.features(real_BxHxW))
    return jnp.sum(grad * grad, axis=(1, 2, 3)).mean()


def lattice_phase_spread(h_BxHxW, period: int, reference_BxHxW):
    """Mean squared departure from 1 of the windows' roughness on a `period`-sample lattice, by phase.

    Roughness is the mean |second difference| at each phase (both axes pooled, each difference at
    its centre sample's phase), over the mean of all phases of `reference_BxHxW` (real windows; no
    gradient), so the windows are held to the reference's roughness as well as to a flat profile.
    With the windows as their own reference this is `eval.metrics.lattice_phase_profile`'s departure
    from flat. The windows must start on the lattice. Real terrain's profile is flat (all ones); a
    generator whose output is interpolated from a coarser lattice is rougher at some phases than at
    others.
    """
    s = h_BxHxW.shape[1]
    onehot = jax.nn.one_hot(jnp.arange(1, s - 1) % period, period)  # (S - 2, period): centre j + 1

    def per_phase(h):
        d2x = jnp.abs(h[:, :, 2:] - 2 * h[:, :, 1:-1] + h[:, :, :-2])
        d2y = jnp.abs(h[:, 2:, :] - 2 * h[:, 1:-1, :] + h[:, :-2, :])
        return (jnp.einsum("bij,jp->p", d2x, onehot) + jnp.einsum("bij,ip->p", d2y, onehot)) / onehot.sum(0)

    rough = per_phase(h_BxHxW)
    level = jax.lax.stop_gradient(per_phase(reference_BxHxW).mean())
    return jnp.mean((rough / level - 1.0) ** 2)


def spectrum_shape(h_BxHxW, bin_size: int = 4):
    """Each window's power spectrum shape: (B, K, K) log shares of its Laplacian's power in square
    frequency bins of `bin_size` (the whole plane, Hann-windowed; each window's shares sum to 1).

    The Laplacian whitens terrain's steep spectrum, so every band down to the finest weighs in;
    shares, not powers, so a plain and a mountain face count alike.
    """
    lap = 4 * h_BxHxW[:, 1:-1, 1:-1] - h_BxHxW[:, :-2, 1:-1] - h_BxHxW[:, 2:, 1:-1] - h_BxHxW[:, 1:-1, :-2] - h_BxHxW[:, 1:-1, 2:]
    lap = lap[:, : lap.shape[1] // bin_size * bin_size, : lap.shape[2] // bin_size * bin_size]
    b, n, m = lap.shape
    hann = jnp.outer(jnp.hanning(n + 2)[1:-1], jnp.hanning(m + 2)[1:-1])
    centred = lap - lap.mean(axis=(1, 2), keepdims=True)
    power = jnp.abs(jnp.fft.fft2(centred * hann[None])) ** 2
    binned = power.reshape(b, n // bin_size, bin_size, m // bin_size, bin_size).mean(axis=(2, 4))
    share = binned / (binned.sum(axis=(1, 2), keepdims=True) + 1e-20)
    return jnp.log(share + 1e-12)


def spectrum_mismatch(h_BxHxW, reference_BxHxW):
    """Mean squared difference of the windows' mean `spectrum_shape` from the reference windows'
    (real windows; no gradient): a GAN's up-convolutions and injected noise leave spectral
    artefacts at the finest scales that a classifier finds at once (Durall et al., CVPR 2020)."""
    ref = jax.lax.stop_gradient(spectrum_shape(reference_BxHxW).mean(axis=0))
    return jnp.mean((spectrum_shape(h_BxHxW).mean(axis=0) - ref) ** 2)
