"""A PyTorch port of the spatial model's training step, the baseline for the JAX one (`bench_train.py`).

The same layer shapes as `terrain_gan.nn.model` (random weights, NCHW): `TorchSpatialGenerator`
(latent field -> heightmap, VALID convolutions, bilinear x2 by the same fused/unfused choice as
`model.up_conv`, per-sample noise, base + relief x detail, random-phase crop), `TorchDiscriminator`
(heights and slopes, SAME padding as flax's `nnx.Conv` default, patch head, minibatch std), the ns
loss, lazy R1 on real data, Adam for each network and the generator's EMA. `TorchGAN.train_step` is
one D update then one G update, as `terrain_gan.train.step.train_step`.

The generator alone, for `bench_generate.py`:

    G = TorchSpatialGenerator(cfg.model)
    field, noise = G.chunk_inputs(cells=16)   # (1, 48, 24, 24), (1, 288, 288)
    height = G(field, noise)                  # (1, 256, 256)
    seconds = time_chunk(cfg.model)           # median of a few forwards, warm-up excluded

`load_jax_generator` / `load_jax_discriminator` copy a JAX model's weights into a port (the test
that the layers are the same). Needs torch: the optional `bench` extra, `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import copy
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from terrain_gan.config import ModelConfig, TrainConfig
from terrain_gan.nn import model as jax_model

JaxG, JaxD = jax_model.SpatialGenerator, jax_model.Discriminator
# (2, 3, 3) weights of the low-res taps for each output phase: the fused up-conv's, from the JAX model.
PHASE_TAPS = torch.tensor(np.asarray(jax_model._phase_taps()))


def _lrelu(x):
    return F.leaky_relu(x, 0.2)


def _blur121(x_BxCxHxW):
    """Separable [1, 2, 1] / 4 filter, VALID: after nearest x2, bilinear x2 upsampling."""
    x = (x_BxCxHxW[:, :, :-2] + 2 * x_BxCxHxW[:, :, 1:-1] + x_BxCxHxW[:, :, 2:]) * 0.25
    return (x[..., :-2] + 2 * x[..., 1:-1] + x[..., 2:]) * 0.25


def up_conv(conv: nn.Conv2d, x_BxCxHxW):
    """Nearest x2, blur, 3x3 VALID `conv`; fused into one low-res conv of 4 phases where JAX fuses it."""
    if conv.out_channels > jax_model.FUSE_MAX_CHANNELS:
        return conv(_blur121(F.interpolate(x_BxCxHxW, scale_factor=2, mode="nearest")))
    o, c = conv.weight.shape[:2]
    # kernel for output channel (o, row phase r, column phase s): the order pixel_shuffle reads
    k = torch.einsum("rai,sbj,ocij->orscab", PHASE_TAPS, PHASE_TAPS, conv.weight).reshape(4 * o, c, 3, 3)
    return F.pixel_shuffle(F.conv2d(x_BxCxHxW, k, conv.bias.repeat_interleave(4)), 2)


class TorchSpatialGenerator(nn.Module):
    """`SpatialGenerator`'s layers: latent field (B, C, n+8, n+8) and noise (B, 16(n+2), 16(n+2)) -> (B, 16n, 16n)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg, w = cfg, cfg.g_widths
        conv = lambda i, o: nn.Conv2d(i, o, 3)  # noqa: E731 - VALID
        self.head = nn.ModuleList([conv(cfg.z_channels + cfg.coarse_channels, w[0]), conv(w[0], w[0])])
        self.ups = nn.ModuleList([conv(w[k - 1], w[k]) for k in range(1, 5)])
        self.noise_gain = nn.ParameterList([nn.Parameter(torch.zeros(w[k])) for k in range(1, 5)])
        self.tail = nn.ModuleList([conv(w[4], w[4]), conv(w[4], w[4])])
        self.to_height = nn.Conv2d(w[4], 3, 1)  # detail, log relief, base

    def inputs(self, batch: int, n_cells: int):
        """Random latents of the shapes `SpatialGenerator.sample_inputs` gives (fine + coarse channels)."""
        s, size = JaxG.STRIDE, n_cells + 2 * JaxG.MARGIN_CELLS
        field = torch.randn(batch, self.cfg.z_channels + self.cfg.coarse_channels, size, size)
        return field, torch.randn(batch, (n_cells + 2) * s, (n_cells + 2) * s)

    def chunk_inputs(self, cells: int = 16):
        """One chunk's latents: (field (1, C, cells+8, cells+8), noise (1, 16(cells+2), 16(cells+2)))."""
        return self.inputs(1, cells)

    def windows(self, batch: int, size: int):
        """`batch` size x size windows cut at a random phase from regions one latent cell larger."""
        s = JaxG.STRIDE
        out = self(*self.inputs(batch, -(-size // s) + 1))
        offsets = torch.randint(0, s, (batch, 2)).tolist()
        return torch.stack([x[i:i + size, j:j + size] for x, (i, j) in zip(out, offsets)])

    def forward(self, field_BxCxNxN, noise_BxPxP):
        x = field_BxCxNxN
        for conv in self.head:
            x = _lrelu(conv(x))
        origin, stride = 2 * JaxG.STRIDE, JaxG.STRIDE  # first sample's offset from the field origin
        for conv, gain in zip(self.ups, self.noise_gain):
            x = up_conv(conv, x)
            stride //= 2
            origin += 2 * stride
            start = origin - JaxG.NOISE_CELL * JaxG.STRIDE  # the noise image starts at NOISE_CELL
            end = start + x.shape[2] * stride
            noise = noise_BxPxP[:, None, start:end:stride, start:end:stride]
            x = _lrelu(x + gain.view(1, -1, 1, 1) * noise)
        for conv in self.tail:
            x = _lrelu(conv(x))
        detail, log_relief, base = self.to_height(x).unbind(1)
        span = JaxG.LOG_RELIEF_SPAN
        return base + torch.exp(JaxG.LOG_RELIEF_0 + span * torch.tanh(log_relief / span)) * detail


def _same_pad(x_BxCxHxW, stride: int, kernel: int = 3):
    """Zero padding as XLA's SAME: the extra row and column, if any, after the map."""
    pads = []
    for n in (x_BxCxHxW.shape[3], x_BxCxHxW.shape[2]):  # F.pad reads the last axis first
        total = max((-(-n // stride) - 1) * stride + kernel - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x_BxCxHxW, pads)


def minibatch_std(x_BxCxHxW, group: int = 4):
    """One channel: the spread of features across groups of `group` windows (as `model.minibatch_std`)."""
    b, _, h, w = x_BxCxHxW.shape
    g = min(group, b) if b % min(group, b) == 0 else 1
    y = x_BxCxHxW.reshape(g, b // g, -1, h, w)
    spread = torch.sqrt(y.var(dim=0, correction=0) + 1e-8).mean(dim=(1, 2, 3))  # (b // g,)
    return spread.repeat(g).view(b, 1, 1, 1).expand(b, 1, h, w)


class TorchDiscriminator(nn.Module):
    """`Discriminator`'s layers: (B, H, W) heights -> (global logits (B,), patch logits (B, P))."""

    def __init__(self, cfg: ModelConfig, window: int, slope_gain: float):
        super().__init__()
        if cfg.kind != "spatial" or cfg.d_spectral_norm:
            raise ValueError("the port has the spatial model's discriminator only, without spectral norm")
        self.slope_gain, w = slope_gain, cfg.d_widths
        self.stem = nn.Conv2d(3, w[0], 3, padding=1)  # SAME at stride 1
        self.blocks = nn.ModuleList([nn.Conv2d(a, b, 3, stride=2) for a, b in zip(w, w[1:])])  # + `_same_pad`
        side = window // 2 ** (len(w) - 1)
        self.patch = nn.Conv2d(w[JaxD.PATCH_STAGE], 1, 1)
        self.dense = nn.Linear((w[-1] + 1) * side * side, w[-1])
        self.out = nn.Linear(w[-1], 1)

    def features(self, h_BxHxW):
        """Height and its slopes along x and y (the last difference repeated as 0), at unit scale."""
        dx = torch.diff(h_BxHxW, dim=2, append=h_BxHxW[:, :, -1:]) * self.slope_gain
        dy = torch.diff(h_BxHxW, dim=1, append=h_BxHxW[:, -1:, :]) * self.slope_gain
        return torch.stack([h_BxHxW, dx, dy], dim=1)

    def forward(self, h_BxHxW):
        return self.classify(self.features(h_BxHxW))

    def classify(self, f_Bx3xHxW):
        x = _lrelu(self.stem(f_Bx3xHxW))
        patches = None
        for stage, block in enumerate(self.blocks, start=1):
            x = _lrelu(block(_same_pad(x, 2)))
            if stage == JaxD.PATCH_STAGE:
                patches = self.patch(x).flatten(1)
        x = torch.cat([x, minibatch_std(x)], dim=1)
        return self.out(_lrelu(self.dense(x.flatten(1))))[:, 0], patches


def d_loss(real_logits, fake_logits):
    """Non-saturating logistic loss, each part (global, patches) averaged over its own elements."""
    return sum(F.softplus(-r).mean() + F.softplus(f).mean() for r, f in zip(real_logits, fake_logits))


def g_loss(fake_logits):
    return sum(F.softplus(-f).mean() for f in fake_logits)


def r1_penalty(real_features, real_logits):
    """Mean squared norm of dD/dx on real data, x = D.features (as `losses.r1_penalty`); keeps the graph."""
    score = sum(p.reshape(p.shape[0], -1).mean(dim=1).sum() for p in real_logits)
    (grad,) = torch.autograd.grad(score, real_features, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3)).mean()


class TorchGAN:
    """Generator, its EMA copy, discriminator and an Adam for each, as `terrain_gan.train.step.GAN`.

    The learning rates are constant: `train.learning_rate_schedule` only starts to fall halfway through a run.
    """

    def __init__(self, model_cfg: ModelConfig, tcfg: TrainConfig, window: int, slope_gain: float):
        self.tcfg, self.window = tcfg, window
        self.G = TorchSpatialGenerator(model_cfg)
        self.D = TorchDiscriminator(model_cfg, window, slope_gain)
        self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        adam = lambda net, lr: torch.optim.Adam(net.parameters(), lr, betas=(tcfg.beta1, tcfg.beta2))  # noqa: E731
        self.opt_g, self.opt_d = adam(self.G, tcfg.lr_g), adam(self.D, tcfg.lr_d)

    def train_step(self, real_BxHxW, step: int, *, apply_r1: bool) -> dict:
        """One discriminator update, then one generator update and the EMA: the metrics, as tensors."""
        t, batch = self.tcfg, real_BxHxW.shape[0]
        with torch.no_grad():
            fake = self.G.windows(batch, self.window)
        # D: one forward on real serves the loss and, when due, R1 (the JAX step writes two; XLA may merge them)
        real_features = self.D.features(real_BxHxW).requires_grad_(apply_r1)
        real_logits, fake_logits = self.D.classify(real_features), self.D(fake)
        loss = d_loss(real_logits, fake_logits)
        r1 = r1_penalty(real_features, real_logits) if apply_r1 else torch.zeros(())
        self.opt_d.zero_grad(set_to_none=True)
        (loss + (0.5 * t.r1_gamma * t.r1_every) * r1).backward()
        self.opt_d.step()
        # G: D's weights take no gradient (JAX differentiates with respect to G only)
        self.D.requires_grad_(False)
        g_value = g_loss(self.D(self.G.windows(batch, self.window)))
        self.opt_g.zero_grad(set_to_none=True)
        g_value.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        decay = min(t.ema_decay, (1.0 + step) / (10.0 + step))
        with torch.no_grad():
            torch._foreach_lerp_(list(self.G_ema.parameters()), list(self.G.parameters()), 1 - decay)
        return dict(d_loss=loss.detach(), r1=r1.detach(), g_loss=g_value.detach())


def time_chunk(model_cfg: ModelConfig, *, cells: int = 16, repeats: int = 5) -> float:
    """Median seconds of one (cells * 16)^2 chunk forward of a random-weight port, one warm-up excluded."""
    G = TorchSpatialGenerator(model_cfg).eval()
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):
            inputs = G.chunk_inputs(cells)
            start = time.perf_counter()
            G(*inputs)
            times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def _tensor(jax_array, *axes):
    """A torch copy of a JAX array, axes permuted if given."""
    a = np.asarray(jax_array)
    return torch.tensor(a.transpose(*axes) if axes else a)


def _copy_conv(conv: nn.Conv2d, jax_conv):
    with torch.no_grad():
        conv.weight.copy_(_tensor(jax_conv.kernel[...], 3, 2, 0, 1))  # HWIO -> OIHW
        conv.bias.copy_(_tensor(jax_conv.bias[...]))


def load_jax_generator(G: TorchSpatialGenerator, jax_G) -> TorchSpatialGenerator:
    """Copies a JAX `SpatialGenerator`'s weights into the port; returns it."""
    for mine, theirs in [*zip(G.head, jax_G.head), *zip(G.ups, jax_G.ups), *zip(G.tail, jax_G.tail),
                         (G.to_height, jax_G.to_height)]:
        _copy_conv(mine, theirs)
    with torch.no_grad():
        for mine, theirs in zip(G.noise_gain, jax_G.noise_gain):
            mine.copy_(_tensor(theirs[...]))
    return G


def load_jax_discriminator(D: TorchDiscriminator, jax_D) -> TorchDiscriminator:
    """Copies a JAX `Discriminator`'s weights into the port (dense inputs from HWC to CHW order); returns it."""
    for mine, theirs in [(D.stem, jax_D.stem), *zip(D.blocks, jax_D.blocks), (D.patch, jax_D.patch)]:
        _copy_conv(mine, theirs)
    c = D.out.in_features + 1  # the last width and the minibatch-std channel
    side = round((D.dense.in_features // c) ** 0.5)
    dense = jax_D.dense.kernel[...].reshape(side, side, c, -1)
    with torch.no_grad():
        D.dense.weight.copy_(_tensor(dense, 3, 2, 0, 1).reshape(-1, c * side * side))
        D.dense.bias.copy_(_tensor(jax_D.dense.bias[...]))
        D.out.weight.copy_(_tensor(jax_D.out.kernel[...], 1, 0))
        D.out.bias.copy_(_tensor(jax_D.out.bias[...]))
    return D
