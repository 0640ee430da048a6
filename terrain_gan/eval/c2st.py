"""Classifier two-sample test (C2ST): can a small CNN tell generated windows from real ones?

Held-out accuracy near 0.5 means the two sets are indistinguishable to this classifier; near 1.0
means they are trivially told apart (matched fBm noise, or real windows blurred by one cell).

Inputs are normalised per window: its own mean removed, divided by the real set's pooled std;
the network also sees the finite-difference slopes, scaled by the real set's slope std, so
smoothing and texture are one convolution away. Windows are split 70/30 into train and test,
disjoint and balanced between the classes. Everything random comes from one seed.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from terrain_gan.eval import metrics


class Classifier(nnx.Module):
    """Heights (B, W, W) -> logit (B,): 3x3 convs (one at full size, then stride 2), GAP, linear."""

    def __init__(self, slope_scale: float, widths: tuple[int, ...] = (16, 32, 64), *, rngs: nnx.Rngs):
        self.slope_scale = float(slope_scale)  # real slope std in normalised units: slopes become ~unit
        conv = lambda i, o, s: nnx.Conv(i, o, (3, 3), strides=s, padding="SAME", rngs=rngs)
        self.convs = nnx.List([conv(3, widths[0], 2)] +
                              [conv(a, b, 2) for a, b in zip(widths[:-1], widths[1:])])
        self.head = nnx.Linear(widths[-1], 1, rngs=rngs)

    def __call__(self, h_BxHxW):
        dy = jnp.diff(h_BxHxW, axis=1, append=h_BxHxW[:, -1:, :]) / self.slope_scale
        dx = jnp.diff(h_BxHxW, axis=2, append=h_BxHxW[:, :, -1:]) / self.slope_scale
        x = jnp.stack([h_BxHxW, dy, dx], axis=-1)
        for conv in self.convs:
            x = jax.nn.leaky_relu(conv(x), 0.2)
        return self.head(x.mean(axis=(1, 2)))[:, 0]


def _augment(h_BxHxW, key):
    """A random one of the 8 symmetries of the square per window (transpose, flip y, flip x)."""
    t, fy, fx = jax.random.bernoulli(key, 0.5, (3, h_BxHxW.shape[0], 1, 1))
    h = jnp.where(t, jnp.swapaxes(h_BxHxW, 1, 2), h_BxHxW)
    h = jnp.where(fy, h[:, ::-1, :], h)
    return jnp.where(fx, h[:, :, ::-1], h)


@functools.partial(nnx.jit, static_argnames=("half",))
def train_step(model: Classifier, optimizer: nnx.Optimizer, real_NxHxW, fake_NxHxW, key, *, half: int):
    """One Adam step on a balanced batch (`half` real + `half` fake, drawn with `key`); returns the loss."""
    k_real, k_fake, k_aug = jax.random.split(key, 3)
    real = real_NxHxW[jax.random.randint(k_real, (half,), 0, real_NxHxW.shape[0])]
    fake = fake_NxHxW[jax.random.randint(k_fake, (half,), 0, fake_NxHxW.shape[0])]
    batch = _augment(jnp.concatenate([real, fake]), k_aug)
    labels = jnp.concatenate([jnp.ones((half,)), jnp.zeros((half,))])

    def loss_fn(m):
        return optax.sigmoid_binary_cross_entropy(m(batch), labels).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def _logits(model: Classifier, h_BxHxW):
    return model(h_BxHxW)


def normalise(windows: np.ndarray, height_scale_m: float) -> np.ndarray:
    """Per-window mean removed, divided by `height_scale_m`; float32 (N, W, W)."""
    h = np.asarray(windows, np.float64)
    return ((h - h.mean(axis=(1, 2), keepdims=True)) / height_scale_m).astype(np.float32)


def split_indices(n_real: int, n_fake: int, rng: np.random.Generator, train_fraction: float = 0.7):
    """Disjoint, balanced index sets: ((real_train, real_test), (fake_train, fake_test)).

    >>> (rt, rs), (ft, fs) = split_indices(10, 20, np.random.default_rng(0))
    >>> len(rt), len(rs), len(ft), len(fs), len(set(rt) & set(rs))
    (7, 3, 7, 3, 0)
    """
    m = min(n_real, n_fake)
    n_train = int(round(train_fraction * m))
    out = []
    for n in (n_real, n_fake):
        perm = rng.permutation(n)[:m]
        out.append((perm[:n_train], perm[n_train:]))
    return tuple(out)


def c2st_accuracy(real: np.ndarray, fake: np.ndarray, *, seed: int = 0, steps: int = 300, batch: int = 64,
                  learning_rate: float = 1e-3, train_fraction: float = 0.7) -> float:
    """Balanced held-out accuracy of a CNN trained to tell `fake` windows from `real` ones.

    Args:
      real, fake: (N, W, W) heights in metres (sizes may differ; the larger is subsampled).
      seed: the only source of randomness (split, initialisation, batches, augmentation).
      steps: Adam steps; batch: windows per step (half of each class).
      learning_rate: Adam step size.
      train_fraction: share of each class used for training; the rest is the test set.

    Returns:
      Mean of the per-class test accuracies: 0.5 = indistinguishable, 1.0 = always told apart.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2, 40, 16, 16)).astype(np.float32)
    >>> acc = c2st_accuracy(a, 3 * b, seed=0, steps=200, batch=16)
    >>> acc > 0.9, acc == c2st_accuracy(a, 3 * b, seed=0, steps=200, batch=16)
    (True, True)
    """
    scale = metrics.pooled_std(real) + 1e-6
    (r_tr, r_te), (f_tr, f_te) = split_indices(len(real), len(fake), np.random.default_rng(seed), train_fraction)
    real_n, fake_n = normalise(real, scale), normalise(fake, scale)
    slope_scale = float(np.std(np.diff(real_n[r_tr], axis=2))) + 1e-6
    k_init, k_train = jax.random.split(jax.random.key(seed))
    model = Classifier(slope_scale, rngs=nnx.Rngs(k_init))
    optimizer = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    real_tr, fake_tr = jnp.asarray(real_n[r_tr]), jnp.asarray(fake_n[f_tr])
    for step in range(steps):  # the loss is never read back: no host sync per step
        train_step(model, optimizer, real_tr, fake_tr, jax.random.fold_in(k_train, step), half=batch // 2)
    hit_real = _predict(model, real_n[r_te]) > 0
    hit_fake = _predict(model, fake_n[f_te]) <= 0
    return float(0.5 * (hit_real.mean() + hit_fake.mean()))


def _predict(model: Classifier, h: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Logits for many windows, in fixed-size chunks (the last one padded: one compiled shape)."""
    pad = (-len(h)) % chunk
    h = np.concatenate([h, np.zeros((pad, *h.shape[1:]), h.dtype)])
    out = np.concatenate([np.asarray(_logits(model, jnp.asarray(h[i: i + chunk]))) for i in range(0, len(h), chunk)])
    return out[: len(out) - pad]
