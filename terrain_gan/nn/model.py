"""Generators and discriminators (Flax NNX). Heights are dataset-normalised inside the model.

- `SpatialGenerator` (shipped): fully convolutional over a latent field, VALID convolutions only, no
  normalisation or pooling, so an output sample depends only on latents within `MARGIN_CELLS` cells.
- `DCGANGenerator` / `DCGANDiscriminator`: the article's baseline (z=100, dense 4x4x256, BatchNorm,
  LeakyReLU 0.2, sigmoid/BCE). Upsampling is nearest x2 + 5x5 conv instead of ConvTranspose, whose
  weight gradients are ~30x slower on CPU here.
- `Discriminator`: residual-free conv net on heights plus their slopes, for the spatial model.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx

from terrain_gan.config import ModelConfig
from terrain_gan.nn import drainage, flow, latents
from terrain_gan.nn.strided import strided_conv

_lrelu = lambda x: jax.nn.leaky_relu(x, 0.2)


def _up2(x_BxHxWxC):
    """Nearest-neighbour x2 upsampling (exact, translation-equivariant)."""
    return jnp.repeat(jnp.repeat(x_BxHxWxC, 2, axis=1), 2, axis=2)


def _blur121(x_BxHxWxC):
    """Separable [1, 2, 1] / 4 filter, VALID (trims one pixel per side).

    After `_up2` it makes bilinear x2 upsampling (weights 3/4, 1/4), which keeps the latent
    lattice from showing as blocks and axis-aligned steps in the terrain.
    """
    x = (x_BxHxWxC[:, :-2] + 2 * x_BxHxWxC[:, 1:-1] + x_BxHxWxC[:, 2:]) * 0.25
    return (x[:, :, :-2] + 2 * x[:, :, 1:-1] + x[:, :, 2:]) * 0.25


def _phase_taps():
    """(2, 3, 3): for output phase r, the weight of low-res sample p + offset in each conv tap.

    Bilinear x2 (`_up2`, then `_blur121`) followed by a 3x3 VALID conv is, per axis, a 5-tap filter on
    the nearest-upsampled map; output sample 2p + r of it reads low-res samples p, p+1, p+2 only.
    Entries are sums of quarters: exact in float32.
    """
    blur = (0.25, 0.5, 0.25)
    composite = [[blur[d - a] if 0 <= d - a <= 2 else 0.0 for a in range(3)] for d in range(5)]  # (5, 3)
    groups = (((0, 1), (2, 3), (4,)), ((0,), (1, 2), (3, 4)))  # nearest-upsampled taps -> low-res offsets
    return jnp.array([[[sum(composite[d][a] for d in g) for a in range(3)] for g in phase] for phase in groups])


def _fused_up_conv(conv: nnx.Conv, x_BxHxWxC):
    """`conv(_blur121(_up2(x)))` as one 3x3 conv on the low-res map into 4 phases, then depth-to-space.

    Same values (to float rounding) and the same FLOPs, without the two upsampled intermediates;
    at the full-resolution stages (few channels, large maps) it runs ~1.1-1.8x faster on XLA:CPU
    (`benchmarks/bench_generate.py`).
    """
    taps = _phase_taps()
    w = conv.kernel[...]
    k = jnp.einsum("rai,sbj,ijco->abcrso", taps, taps, w).reshape(3, 3, w.shape[2], 4 * w.shape[3])
    y = jax.lax.conv_general_dilated(x_BxHxWxC, k, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    b, h, wd, _ = y.shape
    y = y.reshape(b, h, wd, 2, 2, -1).transpose(0, 1, 3, 2, 4, 5).reshape(b, 2 * h, 2 * wd, -1)
    return y + conv.bias[...].reshape(1, 1, 1, -1)


def with_noise(cfg: ModelConfig, x_BxHxWxC, gain, noise_BxPxP, start: int, stride: int):
    """`x` plus `gain` times the per-sample noise at each of its pixels, where `cfg` puts noise at `stride`.

    `x` is a map at `stride` samples per pixel whose first pixel sits on sample `start` of the noise image.
    """
    if not (cfg.noise and stride >= cfg.noise_min_stride):
        return x_BxHxWxC
    end = start + x_BxHxWxC.shape[1] * stride
    return x_BxHxWxC + gain[...].reshape(1, 1, 1, -1) * noise_BxPxP[:, start:end:stride, start:end:stride, None]


FUSE_MAX_CHANNELS = 32  # fused stages measured faster only with few output channels (at large maps)


def up_conv(conv: nnx.Conv, x_BxHxWxC):
    """Bilinear x2 upsampling then `conv` (3x3, VALID): fused where that measured faster."""
    if conv.out_features <= FUSE_MAX_CHANNELS:
        return _fused_up_conv(conv, x_BxHxWxC)
    return conv(_blur121(_up2(x_BxHxWxC)))


class SpatialGenerator(nnx.Module):
    """Latent field (stride 16) -> heightmap; VALID convs trim exactly MARGIN_CELLS cells per side.

    Each x2 stage is bilinear upsampling (`_up2`, `_blur121`), a 3x3 conv and per-sample noise.
    The last 1x1 conv gives three maps per sample, composed as base + relief x detail (`compose`).

    Trim per side, in samples: two 3x3 convs at stride 16 (32); a blur and a conv at each of strides
    8, 4, 2, 1 (30); two more 3x3 convs at stride 1 (2): 64 samples = 4 latent cells. The noise
    image starts 3 cells into the field, at the first sample of the stride-8 map, and spans n + 2 cells.
    """

    STRIDE = 16
    MARGIN_CELLS = 4
    NOISE_CELL = MARGIN_CELLS - 1  # first latent cell of the field that the noise image covers

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        w = cfg.g_widths
        conv = lambda i, o: nnx.Conv(i, o, (3, 3), padding="VALID", rngs=rngs)
        self.head = nnx.List([conv(cfg.z_channels + cfg.coarse_channels, w[0]), conv(w[0], w[0])])
        self.ups = nnx.List([conv(w[k - 1], w[k]) for k in range(1, 5)])
        self.noise_gain = nnx.List([nnx.Param(jnp.zeros((w[k],))) for k in range(1, 5)])
        self.tail = nnx.List([conv(w[4], w[4]), conv(w[4], w[4])])
        self.to_height = nnx.Conv(w[4], 3, (1, 1), rngs=rngs)  # detail, log relief, base

    def region_inputs(self, key, i0, j0, n_cells: int, period=None):
        """Latents for output cells [i0, i0+n) x [j0, j0+n): (field (n+2m)^2 x C, noise).

        `period` (rows, cols) in latent cells wraps the lattice, for worlds that repeat.
        """
        m, c = self.MARGIN_CELLS, self.cfg
        size = n_cells + 2 * m
        fine = latents.fine_field(key, i0 - m, j0 - m, size, size, c.z_channels, period=period)
        coarse = latents.coarse_field(key, i0 - m, j0 - m, size, size, c.coarse_channels, c.coarse_factor,
                                      period=period)
        k = self.NOISE_CELL - m
        noise = latents.noise_field(key, i0 + k, j0 + k, n_cells + 2, n_cells + 2, self.STRIDE, period=period)
        return jnp.concatenate([fine, coarse], axis=-1), noise

    def sample_inputs(self, key, batch: int, n_cells: int):
        """Latents for a batch of independent regions at random world positions (training)."""
        k_world, k_pos = jax.random.split(key)
        keys = jax.random.split(k_world, batch)
        ij = jax.random.randint(k_pos, (batch, 2), 0, 1 << 20)
        return jax.vmap(lambda k, p: self.region_inputs(k, p[0], p[1], n_cells))(keys, ij)

    def window_inputs(self, key, batch: int, size: int):
        """The random part of `batch` independent size x size windows (`sample`): (latents, crop offsets).

        Each window is cut at a random offset (0..15 samples) from a region one latent cell larger at
        a random world position, so nothing in a window is locked to the latent lattice: the
        discriminator cannot exploit the lattice, and the generator must make terrain that is
        stationary at every offset.
        """
        k_inputs, k_offset = jax.random.split(key)
        n_cells = -(-size // self.STRIDE) + 1
        return self.sample_inputs(k_inputs, batch, n_cells), jax.random.randint(k_offset, (batch, 2), 0, self.STRIDE)

    def windows_from(self, inputs, size: int):
        """The windows of drawn `window_inputs`."""
        latents, offsets = inputs
        crop = lambda x, o: jax.lax.dynamic_slice(x, (o[0], o[1]), (size, size))  # noqa: E731
        return jax.vmap(crop)(self(*latents), offsets)

    def __call__(self, field_BxNxNxC, noise_BxPxP):
        x = field_BxNxNxC
        for conv in self.head:
            x = _lrelu(conv(x))
        origin, stride = 2 * self.STRIDE, self.STRIDE  # first sample's offset from the field origin
        for conv, gain in zip(self.ups, self.noise_gain):
            x = up_conv(conv, x)
            stride //= 2
            origin += 2 * stride  # the blur and the conv each trim one pixel
            x = _lrelu(with_noise(self.cfg, x, gain, noise_BxPxP, origin - self.NOISE_CELL * self.STRIDE, stride))
        for conv in self.tail:
            x = _lrelu(conv(x))
        x = self.to_height(x)
        return self.compose(x[..., 0], x[..., 1], x[..., 2])

    LOG_RELIEF_0 = -2.7  # initial relief scale, e^-2.7 = 0.07 dataset stds (about 60 m, a typical window)
    LOG_RELIEF_SPAN = 3.0  # the scale stays within e^(-2.7 +- 3): from ~3 m to ~1.2 km of local relief

    def compose(self, detail, log_relief, base):
        """Heights = base + relief * detail: plains and mountains share one detail network.

        Real windows' relief spans a factor of 25 or more (a 10 m river plain, a 300 m mountain face);
        a multiplicative, smoothly bounded relief lets the generator set it per sample instead of
        stretching its convolutions' dynamic range.
        """
        span = self.LOG_RELIEF_SPAN
        return base + jnp.exp(self.LOG_RELIEF_0 + span * jnp.tanh(log_relief / span)) * detail


class DCGANGenerator(nnx.Module):
    """The article's generator: z(100) -> dense 4x4x256 -> 3 x (up, conv, BN, LReLU) -> up, conv -> 64x64."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        self.dense = nnx.Linear(cfg.z_dim, 4 * 4 * 256, rngs=rngs)
        self.bn0 = nnx.BatchNorm(4 * 4 * 256, rngs=rngs)
        widths = (256, 128, 64, 32)
        self.convs = nnx.List([nnx.Conv(a, b, (5, 5), rngs=rngs) for a, b in zip(widths, widths[1:])])
        self.bns = nnx.List([nnx.BatchNorm(b, rngs=rngs) for b in widths[1:]])
        # Linear output: heights are dataset-normalised (mean 0, std 1), not squashed into [-1, 1].
        self.out = nnx.Conv(widths[-1], 1, (5, 5), rngs=rngs)

    def sample_inputs(self, key, batch: int, n_cells: int = 4):
        return (jax.random.normal(key, (batch, self.cfg.z_dim)),)

    def window_inputs(self, key, batch: int, size: int = 64):
        """The latents of `batch` independent 64x64 outputs (the only size this generator makes)."""
        return self.sample_inputs(key, batch)

    def windows_from(self, inputs, size: int = 64):
        return self(*inputs)

    def __call__(self, z_BxZ):
        x = _lrelu(self.bn0(self.dense(z_BxZ))).reshape(-1, 4, 4, 256)
        for conv, bn in zip(self.convs, self.bns):
            x = _lrelu(bn(conv(_up2(x))))
        return self.out(_up2(x))[..., 0]


class DCGANDiscriminator(nnx.Module):
    """The article's discriminator: strided 5x5 convs, BatchNorm, LReLU 0.2, one logit (sigmoid in loss)."""

    def __init__(self, cfg: ModelConfig, window: int, slope_gain: float, *, rngs: nnx.Rngs):
        widths = (1, 64, 128, 256)
        self.convs = nnx.List([nnx.Conv(a, b, (5, 5), strides=2, rngs=rngs) for a, b in zip(widths, widths[1:])])
        self.bns = nnx.List([nnx.BatchNorm(b, rngs=rngs) for b in widths[2:]])
        self.dense = nnx.Linear(256 * (window // 8) ** 2, 1, rngs=rngs)

    def features(self, x_BxHxW):
        return x_BxHxW[..., None]

    def __call__(self, x_BxHxW):
        return self.classify(self.features(x_BxHxW))

    def classify(self, x):
        x = _lrelu(self.convs[0](x))
        for conv, bn in zip(self.convs[1:], self.bns):
            x = _lrelu(bn(conv(x)))
        return self.dense(x.reshape(x.shape[0], -1))[:, 0]


class Discriminator(nnx.Module):
    """Sees heights and slopes; judges each window as a whole and each ~17-cell patch of it.

    A 3x3 stem at full resolution, then 3x3 stride-2 convs (one per width after the first). The
    global head (dense) reads the final map; the patch head (a 1x1 conv on the stride-8 map) gives
    one logit per patch, whose receptive field of 17 cells holds the fine texture (slopes, channels,
    ridges) that tells real terrain from smooth or noisy imitations.
    """

    PATCH_STAGE = 3  # patch logits after three stride-2 convs: stride 8, receptive field 17 cells

    def __init__(self, cfg: ModelConfig, window: int, slope_gain: float, *, rngs: nnx.Rngs):
        self.slope_gain = slope_gain  # height std / first-difference std of the training data
        self.sees_depressions, self.sees_flow = cfg.d_drainage, cfg.d_flow
        w = cfg.d_widths
        maybe_sn = (lambda m: nnx.SpectralNorm(m, rngs=rngs)) if cfg.d_spectral_norm else (lambda m: m)
        # a detail pair adds the residual on its condition; `d_drainage` the depression depth, `d_flow` the flow
        in_channels = 3 + (cfg.kind == "detail") + cfg.d_drainage + cfg.d_flow
        self.stem = maybe_sn(nnx.Conv(in_channels, w[0], (3, 3), rngs=rngs))
        self.blocks = nnx.List([maybe_sn(nnx.Conv(a, b, (3, 3), strides=2, rngs=rngs)) for a, b in zip(w, w[1:])])
        side = window // 2 ** (len(w) - 1)
        self.patch = nnx.Conv(w[self.PATCH_STAGE], 1, (1, 1), rngs=rngs)
        self.dense = nnx.Linear((w[-1] + 1) * side * side, w[-1], rngs=rngs)
        self.out = nnx.Linear(w[-1], 1, rngs=rngs)

    def features(self, x):
        """What the network sees: height and its slopes along x and y, each of unit scale.

        A (B, H, W, 2) pair from the detail level (heights, residual on the condition) adds the
        residual, at the slopes' gain; a discriminator that sees depressions adds each cell's
        closed-depression depth in the window (`drainage.depression_depth`), at the same gain; one that
        sees flow adds log accumulated area (`flow.log_accumulation`, 0-1).
        """
        h = x[..., 0] if x.ndim == 4 else x
        dx = jnp.diff(h, axis=2, append=h[:, :, -1:]) * self.slope_gain
        dy = jnp.diff(h, axis=1, append=h[:, -1:, :]) * self.slope_gain
        extra = [x[..., 1] * self.slope_gain] if x.ndim == 4 else []
        if self.sees_depressions:
            extra.append(drainage.depression_depth(h) * self.slope_gain)
        if self.sees_flow:
            extra.append(flow.log_accumulation(h))
        return jnp.stack([h, dx, dy, *extra], axis=-1)

    def __call__(self, x_BxHxW):
        return self.classify(self.features(x_BxHxW))

    def classify(self, f_BxHxWx3):
        """(global logits (B,), patch logits (B, P))."""
        x = _lrelu(self.stem(f_BxHxWx3))
        patches = None
        for stage, block in enumerate(self.blocks, start=1):
            x = _lrelu(strided_conv(block, x) if isinstance(block, nnx.Conv) else block(x))
            if stage == self.PATCH_STAGE:
                patches = self.patch(x).reshape(x.shape[0], -1)
        x = jnp.concatenate([x, minibatch_std(x)], axis=-1)
        pooled = _lrelu(self.dense(x.reshape(x.shape[0], -1)))
        return self.out(pooled)[:, 0], patches


def minibatch_std(x_BxHxWxC, group: int = 4):
    """One channel: the spread of features across groups of `group` windows (Karras et al. 2018).

    A batch of near-identical fakes has a telltale small spread, which counters mode collapse.
    Only the discriminator uses it; the generator stays free of any batch coupling.
    """
    b, h, w, _ = x_BxHxWxC.shape
    g = min(group, b) if b % min(group, b) == 0 else 1
    y = x_BxHxWxC.reshape(g, b // g, h, w, -1)
    spread = jnp.sqrt(y.var(axis=0) + 1e-8).mean(axis=(1, 2, 3))  # (b // g,)
    return jnp.broadcast_to(jnp.tile(spread, g)[:, None, None, None], (b, h, w, 1))


def make_generator(cfg: ModelConfig, *, rngs: nnx.Rngs):
    """The generator a config names."""
    return (DCGANGenerator if cfg.kind == "dcgan" else SpatialGenerator)(cfg, rngs=rngs)


def make_discriminator(cfg: ModelConfig, window: int, slope_gain: float, *, rngs: nnx.Rngs):
    """The discriminator a config names."""
    return (DCGANDiscriminator if cfg.kind == "dcgan" else Discriminator)(cfg, window, slope_gain, rngs=rngs)


def sample(G, key, *, batch: int, size: int = 64):
    """A batch of independent normalised size x size windows of `G`, as two programs: the latents
    (`G.window_inputs`), then the network (`G.windows_from`); on XLA:CPU ~3x faster than one (see
    `train.step.train_step`)."""
    return _windows_from(G, _window_inputs(G, key, batch, size), size)


@functools.partial(nnx.jit, static_argnames=("batch", "size"))
def _window_inputs(G, key, batch: int, size: int):
    return G.window_inputs(key, batch, size)


@functools.partial(nnx.jit, static_argnames=("size",))
def _windows_from(G, inputs, size: int):
    return G.windows_from(inputs, size)
