"""The detail level of model v2's cascade: 90 m terrain conditioned on a 360 m layout.

A coarse level (a `SpatialGenerator` trained on 360 m cells) lays out ranges, valleys and basins;
`DetailGenerator` adds the 90 m detail. It is trained on real pairs: the condition is the mean of
each 4 x 4 block of a real 90 m window (`block_mean4`, the same filter the coarse level's training
data went through), the target the window itself. It outputs a residual on a smooth interpolation
of its condition (Keys cubic, or six taps fitted to real terrain: `[model] detail_base`); the
discriminator judges (condition, output) pairs, and a consistency term keeps the output's block
means on the condition, so valleys and ridges stay where the layout put them.

Like every level it is fully convolutional with VALID convolutions on a fixed lattice (one
condition sample and one latent vector per 4 x 4 block of output samples): an output sample depends
only on condition samples and latents within `CONDITION_MARGIN` samples, so worlds keep their seams.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from flax import nnx

from terrain_gan import config as config_lib
from terrain_gan.config import ModelConfig
from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import hydrology, latents, steering
from terrain_gan.nn import model as model_lib

_lrelu = model_lib._lrelu

FACTOR = 4  # output samples per condition sample, along each axis
_DETAIL_STREAM = 7  # folded into the world key: the detail level's latents never meet the coarse level's


def block_mean4(x_BxHxW):
    """Means of 4 x 4 blocks from the top-left: the condition a 90 m window has at 360 m."""
    b, h, w = x_BxHxW.shape
    return x_BxHxW.reshape(b, h // FACTOR, FACTOR, w // FACTOR, FACTOR).mean(axis=(2, 4))


def _keys_weights(t: float) -> tuple[float, float, float, float]:
    """Keys cubic convolution (a = -0.5) weights of the four samples around fraction t."""
    return (-0.5 * t**3 + t**2 - 0.5 * t, 1.5 * t**3 - 2.5 * t**2 + 1, -1.5 * t**3 + 2 * t**2 + 0.5 * t,
            0.5 * t**3 - 0.5 * t**2)


# The "fitted" base: six taps per output phase, the least-squares prediction of real 90 m heights
# from their 4 x 4 block means, held to an even roughness profile over the four phases, reproducing
# constants and ramps, no weight below Keys cubic's deepest (-0.073), so it rings no more than Keys
# (`benchmarks/fit_base.py` derives them). Phases 0 and 1 read condition samples k-3 .. k+2 of their
# block k; phases 3 and 2 mirror them (k-2 .. k+3, reversed).
FITTED_WEIGHTS = (
    (0.005356, -0.073023, 0.381118, 0.784979, -0.073, -0.02543),
    (0.013541, -0.049689, 0.08689, 1.0342, -0.073021, -0.011921),
)
# The "even" base: the same fit, also held to no more mean |second difference| than Keys cubic on
# the fitting windows (`benchmarks/fit_base.py --rough 1` fits them again to within 0.001): an even
# profile as smooth as Keys.
EVEN_WEIGHTS = (
    (-0.012122, -0.073021, 0.443609, 0.734957, -0.073047, -0.020376),
    (-0.001601, -0.04315, 0.161263, 0.9205, -0.01918, -0.017831),
)
SIX_TAP_WEIGHTS = {"fitted": FITTED_WEIGHTS, "even": EVEN_WEIGHTS}  # the six-tap bases' own weights


def phase_taps(base: str, six=None) -> list[tuple[int, tuple[float, ...]]]:
    """For each output phase p of a block: (offset of the first condition sample read, weights).

    `six`: the weights of phases 0 and 1 of a six-tap base (default the base's own in
    `SIX_TAP_WEIGHTS`; the fit tries others).
    """
    if base not in config_lib.DETAIL_BASES:
        raise TerrainGanError(f"unknown detail base {base!r}: one of {', '.join(config_lib.DETAIL_BASES)}")
    six = SIX_TAP_WEIGHTS.get(base) if six is None else six
    taps = []
    for p in range(FACTOR):
        u = (p - 1.5) / FACTOR  # the output sample's offset from its block's condition sample
        if base == "keys":
            taps.append((-2, _keys_weights(u + 1)) if u < 0 else (-1, _keys_weights(u)))
        else:
            taps.append((-3, tuple(six[p])) if p < 2 else (-2, tuple(six[3 - p][::-1])))
    return taps


def _interp4_axis(c, axis: int, trim: int, taps, xp):
    """x4 interpolation along `axis`, condition sample k centred on output samples 4k..4k+3.

    Output sample 4k + p sits at k + (p - 1.5) / 4 in condition units. Condition samples within
    `trim` of either end are not interpolated from (the output starts at sample 4 * trim).
    """
    n = c.shape[axis]
    lead = (slice(None),) * axis
    phases = [sum(w * c[lead + (slice(trim + first + j, n - trim + first + j),)] for j, w in enumerate(weights))
              for first, weights in taps]
    stacked = xp.stack(phases, axis=axis + 1)
    shape = list(c.shape)
    shape[axis] = (n - 2 * trim) * FACTOR
    return stacked.reshape(shape)


def interp4(cond_BxNxN, trim: int, taps, xp=jnp):
    """x4 interpolation of a condition with `phase_taps`, without its `trim` outer samples:
    (B, 4(N-2t), 4(N-2t)). `xp`: jax.numpy, or numpy for float64 arrays (`benchmarks/fit_base.py`)."""
    return _interp4_axis(_interp4_axis(cond_BxNxN, 1, trim, taps, xp), 2, trim, taps, xp)


def up4(cond_BxNxN, trim: int, base: str = "keys", share: float = 1.0):
    """The smooth x4 interpolation of a condition, without its `trim` outer samples: (B, 4(N-2t), 4(N-2t)).

    `base`: "keys" (Keys cubic, four taps), "fitted" or "even" (`FITTED_WEIGHTS`, `EVEN_WEIGHTS`: six
    taps; trim >= 3). `share` < 1 blends the two interpolations: (1 - share) Keys + share `base`.
    """
    if share == 1.0:
        return interp4(cond_BxNxN, trim, phase_taps(base))
    return (1 - share) * interp4(cond_BxNxN, trim, phase_taps("keys")) + share * interp4(cond_BxNxN, trim, phase_taps(base))


class DetailGenerator(nnx.Module):
    """(condition at 4x the cell, latents) -> heights: N condition samples give 4(N - 8) output samples.

    Trim per side, in output samples: two 3x3 convs at stride 4 (8); a blur and a conv at strides 2
    and 1 (4 + 2); two 3x3 convs at stride 1 (2): 16 samples = `MARGIN` condition samples.
    """

    MARGIN = 4  # condition samples trimmed per side
    CONDITION_MARGIN = MARGIN * FACTOR  # output samples of real context per side a training window needs
    STRIDE = FACTOR

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        w = cfg.g_widths
        conv = lambda i, o: nnx.Conv(i, o, (3, 3), padding="VALID", rngs=rngs)  # noqa: E731
        self.head = nnx.List([conv(1 + cfg.z_channels, w[0]), conv(w[0], w[0])])
        self.ups = nnx.List([conv(w[0], w[1]), conv(w[1], w[2])])
        self.noise_gain = nnx.List([nnx.Param(jnp.zeros((w[k],))) for k in (1, 2)])
        self.tail = nnx.List([conv(w[2], w[2]), conv(w[2], w[2])])
        self.to_height = nnx.Conv(w[2], 3, (1, 1), rngs=rngs)  # detail, log relief, base correction

    # ---- latents ----------------------------------------------------------------------------
    def region_inputs(self, key, i0, j0, n_cond: int, period=None):
        """Latents for condition samples [i0, i0+n) x [j0, j0+n): (z (n, n, C), noise (4n, 4n)).

        `period` (rows, cols) in condition samples wraps the lattice, for worlds that repeat.
        """
        k = jax.random.fold_in(key, _DETAIL_STREAM)
        z = latents.fine_field(k, i0, j0, n_cond, n_cond, self.cfg.z_channels, period=period)
        noise = latents.noise_field(k, i0, j0, n_cond, n_cond, FACTOR, period=period)
        return z, noise

    def sample_inputs(self, key, batch: int, n_cond: int):
        """Latents for a batch of regions at random world positions (training)."""
        k_world, k_pos = jax.random.split(key)
        keys = jax.random.split(k_world, batch)
        ij = jax.random.randint(k_pos, (batch, 2), 0, 1 << 20)
        return jax.vmap(lambda k, p: self.region_inputs(k, p[0], p[1], n_cond))(keys, ij)

    # ---- the network ------------------------------------------------------------------------
    def __call__(self, cond_BxNxN, z_BxNxNxC, noise_BxPxP):
        """Normalised heights (B, 4(N-8), 4(N-8)) for a normalised condition (B, N, N)."""
        return self.compose(*self.parts(cond_BxNxN, z_BxNxNxC, noise_BxPxP))

    def parts(self, cond_BxNxN, z_BxNxNxC, noise_BxPxP):
        """What `compose` adds up, each (B, 4(N-8), 4(N-8)): (base, detail, log relief, correction).

        Measured apart (`benchmarks/detail_on_real.py --parts`), the per-sample correction, not the
        relief-gated detail, draws most of the shipped level's finest texture (model card,
        "Twenty-fourth round")."""
        x = jnp.concatenate([cond_BxNxN[..., None], z_BxNxNxC], axis=-1)
        for conv in self.head:
            x = _lrelu(conv(x))
        origin, stride = 2 * FACTOR, FACTOR  # the first pixel's output sample, from the condition's origin
        for conv, gain in zip(self.ups, self.noise_gain):
            x = model_lib.up_conv(conv, x)
            stride //= 2
            origin += 2 * stride
            x = _lrelu(model_lib.with_noise(self.cfg, x, gain, noise_BxPxP, origin, stride))
        for conv in self.tail:
            x = _lrelu(conv(x))
        x = self.to_height(x)
        base = up4(cond_BxNxN, self.MARGIN, self.cfg.detail_base, self.cfg.detail_base_share)
        return base, x[..., 0], x[..., 1], x[..., 2]

    LOG_RELIEF_0 = -4.0  # initial detail scale, e^-4 = 0.018 dataset stds (about 13 m)
    LOG_RELIEF_SPAN = 3.0

    def compose(self, base, detail, log_relief, correction):
        """Heights = interpolated condition + a small correction + relief * detail (relief per sample)."""
        span = self.LOG_RELIEF_SPAN
        scale = jnp.exp(self.LOG_RELIEF_0 + span * jnp.tanh(log_relief / span))
        return base + 0.1 * correction + scale * detail

    # ---- training ---------------------------------------------------------------------------
    def judged_inputs(self, real_big_shape, key):
        """The latents of the fakes judged against real windows of `real_big_shape` (`judged_from`),
        drawn in a program of their own (see `train.step.train_step`)."""
        return self.sample_inputs(key, real_big_shape[0], real_big_shape[1] // FACTOR)

    def judged_from(self, real_big_BxHxW, inputs):
        """(real pair, fake pair, consistency loss) for a batch of real windows with condition margins
        and the fakes' drawn `judged_inputs`.

        A pair stacks heights and their residual on the interpolated condition, (B, S, S, 2).
        """
        m = self.CONDITION_MARGIN
        cond = block_mean4(real_big_BxHxW)
        real = real_big_BxHxW[:, m:-m, m:-m]
        fake = self(cond, *inputs)
        base = up4(cond, self.MARGIN, self.cfg.detail_base, self.cfg.detail_base_share)
        inner = cond[:, self.MARGIN:-self.MARGIN, self.MARGIN:-self.MARGIN]
        consistency = jnp.abs(block_mean4(fake) - inner).mean()
        pair = lambda h: jnp.stack([h, h - base], axis=-1)  # noqa: E731
        return pair(real), pair(fake), consistency

    def windows_for(self, key, real_big_BxHxW):
        """Generated windows conditioned on the block means of real windows (samples, quality curves)."""
        return self(block_mean4(real_big_BxHxW), *self.judged_inputs(real_big_BxHxW.shape, key))


class CascadeGenerator(nnx.Module):
    """Model v2: the coarse level's layout at 4x the cell, then the detail level on it.

    Both levels are pure functions of (world key, lattice position), so a chunk of the output is
    too: `chunk_network` computes the coarse samples a chunk's detail needs (its own `FACTOR`-times smaller
    region plus the detail margin) from the coarse latents around them, converts them to the
    detail level's normalisation and runs the detail level. Heights leave normalised as the detail
    level's data (`norm[1]`).

    With `drain_block` the coarse layout is drained first (`nn.hydrology`): its closed basins are
    breached on a world-anchored lattice of blocks that many coarse samples wide, for which each
    chunk computes its coarse samples one block further out on each side; with `erosion_steps` each
    breached block's flow lines are then incised into valley networks (`floods.erode`). With
    `detail_drain_block` the finished heights are drained the same way, on blocks that many output
    samples wide, each depression first filled by the fraction `detail_drain_fill` of its depth and
    those shallower than `detail_drain_keep` metres left alone:
    blocks of the chunk lattice's multiples, so a chunk needs its heights half a block (`apron`)
    beyond it, which its detail level makes with it.
    """

    def __init__(self, coarse: nnx.Module, detail: DetailGenerator, norm: tuple[tuple[float, float], ...],
                 cfg: ModelConfig, steer: steering.Steering | None = None):
        self.coarse, self.detail = coarse, detail
        self.norm = norm  # ((mean, std) of the coarse level's data, (mean, std) of the detail level's)
        self.steering = steer  # how a guide map moves the coarse latents (`nn.steering`); None: it cannot
        # the cascade config's drainage (`[model] drain_block`, `erosion_*`, `detail_drain_*`)
        self.drain_block, self.detail_drain_block = cfg.drain_block, cfg.detail_drain_block
        self.erosion = hydrology.Erosion(cfg.erosion_steps, cfg.erosion_k, cfg.erosion_m)
        self.detail_drain_fill, self.detail_drain_keep = cfg.detail_drain_fill, cfg.detail_drain_keep
        self.apron = cfg.detail_drain_block // 2  # output samples made beyond a chunk on each side
        # the coarse latents' regional relief (`[model] regional_relief`, `regional_cells`)
        self.regional, self.regional_cells = cfg.regional_relief, cfg.regional_cells
        if self.regional and steer is None:
            raise TerrainGanError("model.regional_relief needs the cascade's steering direction, and this cascade has none")

    STRIDE = 16  # tiles start every 16 samples, as with v1 (any multiple of the detail lattice would do)

    def _chunk_geometry(self, chunk: int):
        """(n condition samples, margin m, coarse cells per chunk, first cell before it) of a chunk.

        The margin m is the detail level's and the apron's; the coarse samples computed reach
        `drain_block` beyond it, for the drainage.
        """
        n, m = chunk // FACTOR, self.layout_margin
        return n, m, n // self.coarse.STRIDE, -(-(m + self.drain_block) // self.coarse.STRIDE)

    def chunk_inputs(self, key, ci, cj, chunk: int, period_samples=None):
        """Both levels' latents for a chunk: (coarse field, coarse noise, detail z, detail noise).

        Kept apart from `chunk_network` so that they may run as their own program: on XLA:CPU a chunk
        made as two programs ran faster than as one, with the same bits (`world/synth.py`).
        """
        _, _, cells_per_chunk, first_cell = self._chunk_geometry(chunk)
        per_cell = FACTOR * self.coarse.STRIDE  # output samples per coarse latent cell
        period_c = None if period_samples is None else tuple(p // per_cell for p in period_samples)
        i0, j0 = ci * cells_per_chunk - first_cell, cj * cells_per_chunk - first_cell
        field, noise = self.coarse.region_inputs(key, i0, j0, cells_per_chunk + 2 * first_cell, period_c)
        return (self._regional(key, field, i0, j0, period_c), noise) + tuple(self.detail_inputs(key, ci, cj, chunk, period_samples))

    def chunk_network(self, inputs, ci, cj, chunk: int, lift=None):
        """Normalised heights of output samples [ci*chunk, (ci+1)*chunk) x [cj*chunk, ...) (`chunk`
        static) from `chunk_inputs`' latents.

        `lift(g, rows, cols, mean, std)`, if given, turns the coarse level's normalised output g on
        world rows x cols (the output-sample coordinates of coarse sample centres) into metres: a
        world layout (guide map, relief) enters there, and the detail level follows it.
        """
        field, noise, z, nz = inputs
        n, m, _, first_cell = self._chunk_geometry(chunk)
        reach = m + self.drain_block  # coarse samples needed beyond the chunk's own, per side
        c = self.coarse(field[None], noise[None])[0]
        crop = first_cell * self.coarse.STRIDE - reach
        c = c[crop:crop + n + 2 * reach, crop:crop + n + 2 * reach]
        metres = self._layout_metres(c, ci * n - reach, cj * n - reach, lift)
        if self.drain_block:
            metres = hydrology.drain(metres, ci * n - reach, cj * n - reach, self.drain_block, erosion=self.erosion)
        return self.detail_network(metres, z, nz, ci * chunk, cj * chunk)

    # ---- the same chunk in three steps, for worlds that keep each layout block once (`world.synth`) -----
    def layout_inputs(self, key, ci, cj, chunk: int, period_samples=None, regional: bool = True):
        """The coarse latents of layout block (ci, cj): coarse samples [ci*n, (ci+1)*n)^2, n = chunk / FACTOR.

        `regional=False` leaves out the regional relief: a guide map lays out the regions instead.
        """
        cells = chunk // FACTOR // self.coarse.STRIDE
        per_cell = FACTOR * self.coarse.STRIDE  # output samples per coarse latent cell
        period_c = None if period_samples is None else tuple(p // per_cell for p in period_samples)
        field, noise = self.coarse.region_inputs(key, ci * cells, cj * cells, cells, period_c)
        return (self._regional(key, field, ci * cells, cj * cells, period_c) if regional else field), noise

    def _regional(self, key, field, i0, j0, period_c):
        """The coarse latents of cells [i0, i0 + n) (and the coarse level's margin) with their regional
        relief: along the steering direction, each cell shares `regional` of a smooth field of
        standard normals with nodes `regional_cells` latent cells apart (`Steering.correlate`).

        The coarse level, trained on latents independent from cell to cell, gives each 5.8 km cell
        its own roughness, so a map mixes hills and plains at that scale and its 23 km windows span
        too narrow a range of steepness: real ground is rough or smooth over whole regions.
        """
        if not self.regional:
            return field
        m = self.coarse.MARGIN_CELLS
        u = latents.regional_field(key, i0 - m, j0 - m, field.shape[0], field.shape[1], self.regional_cells, period=period_c)
        return self.steering.correlate(field, u, self.regional)

    def layout_network(self, inputs, ci, cj, chunk: int, lift=None, guide=None, roughness=None):
        """Layout block (ci, cj) in metres from its `layout_inputs`, undrained.

        `guide(rows, cols)`, if given with a `steering`, is a guide map's height in metres at world
        output-sample positions rows x cols: it steers the coarse latents (`nn.steering`).
        `roughness`, if given (a scalar), moves every coarse latent that far along the steering's
        direction on top: below 0 more plains, above 0 more ranges (a world layout's `roughness`).
        """
        field, noise = inputs
        if guide is not None and self.steering is not None:
            cells, per_cell = chunk // FACTOR // self.coarse.STRIDE, FACTOR * self.coarse.STRIDE
            centres = lambda c0: (c0 - self.coarse.MARGIN_CELLS + jnp.arange(field.shape[0])) * per_cell + (per_cell - 1) / 2  # noqa: E731
            field = self.steering.steer(field, guide(centres(ci * cells), centres(cj * cells)))
        if roughness is not None:
            field = self.steering.push(field, roughness)
        c = self.coarse(field[None], noise[None])[0]
        n = chunk // FACTOR
        return self._layout_metres(c, ci * n, cj * n, lift)

    @property
    def layout_margin(self) -> int:
        """Coarse samples of layout a chunk's detail needs beyond the chunk on each side."""
        return DetailGenerator.MARGIN + self.apron // FACTOR

    def detail_inputs(self, key, ci, cj, chunk: int, period_samples=None):
        """The detail latents of chunk (ci, cj) and its apron."""
        n, m = chunk // FACTOR, self.layout_margin
        period_d = None if period_samples is None else tuple(p // FACTOR for p in period_samples)
        return self.detail.region_inputs(key, ci * n - m, cj * n - m, n + 2 * m, period_d)

    def detail_network(self, layout_metres, z, nz, row0, col0):
        """Normalised heights of the chunk from output sample (row0, col0), from its layout in metres
        (drained or not) reaching `layout_margin` coarse samples beyond it, and its `detail_inputs`."""
        out = self.detail_heights(layout_metres, z, nz)
        if not self.detail_drain_block:
            return out
        return self.detail_normalised(self.drain_detail(self.detail_metres(out), row0, col0, hydrology.drain))

    def detail_heights(self, layout_metres, z, nz):
        """`detail_network` before the 90 m drain: normalised heights of the chunk and its apron."""
        cond = self.detail_normalised(layout_metres)
        return self.detail(cond[None], z[None], nz[None])[0]

    def detail_metres(self, normalised):
        """The detail level's normalised heights in metres (its data's mean and std)."""
        mean_d, std_d = self.norm[1]
        return normalised * std_d + mean_d

    def detail_normalised(self, metres):
        """Metres -> the detail level's normalised heights."""
        mean_d, std_d = self.norm[1]
        return (metres - mean_d) / std_d

    def drain_detail(self, metres, row0: int, col0: int, drain=hydrology.drain_apron):
        """The 90 m drain: `detail_heights` in metres of the chunk from output sample (row0, col0) with
        its apron -> the drained chunk in metres. `drain`: `hydrology.drain_apron` on the host (a world,
        between programs), or `hydrology.drain` inside a program (`detail_network`); the same bits."""
        a = self.apron
        return drain(metres, row0 - a, col0 - a, self.detail_drain_block, reach=a, fill=self.detail_drain_fill,
                     keep=self.detail_drain_keep)

    def _layout_metres(self, c, row0, col0, lift):
        """Normalised coarse samples from coarse sample (row0, col0) -> metres, through `lift` if given."""
        mean_c, std_c = self.norm[0]
        if lift is None:
            return c * std_c + mean_c
        centres = lambda first, k: (first + jnp.arange(k)) * FACTOR + (FACTOR - 1) / 2  # noqa: E731
        return lift(c, centres(row0, c.shape[0]), centres(col0, c.shape[1]), mean_c, std_c)

    def _window_chunk(self, size: int) -> int:
        per_cell = FACTOR * self.coarse.STRIDE
        return per_cell * (-(-size // per_cell) + 1)  # room for any phase of the coarse lattice

    def window_inputs(self, key, batch: int, size: int):
        """The random part of `batch` independent size x size windows at random places and phases of
        random worlds (evaluation, `model.sample`): (chunk latents, chunk positions, crop offsets)."""
        chunk = self._window_chunk(size)
        k_world, k_pos, k_off = jax.random.split(key, 3)
        keys = jax.random.split(k_world, batch)
        ij = jax.random.randint(k_pos, (batch, 2), -(1 << 12), 1 << 12)
        offsets = jax.random.randint(k_off, (batch, 2), 0, chunk - size + 1)
        latents = jax.vmap(lambda k, p: self.chunk_inputs(k, p[0], p[1], chunk))(keys, ij)
        return latents, ij, offsets

    def windows_from(self, inputs, size: int):
        """The windows of drawn `window_inputs`."""
        latents, ij, offsets = inputs
        chunk = self._window_chunk(size)
        one = lambda x, p, o: jax.lax.dynamic_slice(self.chunk_network(x, p[0], p[1], chunk), (o[0], o[1]), (size, size))  # noqa: E731
        return jax.vmap(one)(latents, ij, offsets)


def from_levels(levels, where: str, model_cfg: ModelConfig, steer: steering.Steering | None = None) -> CascadeGenerator:
    """A cascade skeleton (random weights, to restore into) from its weights' per-level metadata."""
    try:
        cfgs = [config_lib.from_dict(level["config"], where) for level in levels]
        norm = tuple((float(level["normalisation"]["height_mean_m"]), float(level["normalisation"]["height_std_m"]))
                     for level in levels)
    except (KeyError, TypeError):
        raise TerrainGanError(f"{where}: cascade weights lack their levels' configs") from None
    if [c.model.kind for c in cfgs] != ["spatial", "detail"]:
        raise TerrainGanError(f"{where}: a cascade is a spatial coarse level and a detail level")
    coarse = model_lib.make_generator(cfgs[0].model, rngs=nnx.Rngs(0))
    detail_cfg = cfgs[1].model
    if (model_cfg.detail_base, model_cfg.detail_base_share) != ("keys", 1.0):  # the cascade's own base for its detail
        detail_cfg = dataclasses.replace(detail_cfg, detail_base=model_cfg.detail_base,
                                         detail_base_share=model_cfg.detail_base_share)
    detail = DetailGenerator(detail_cfg, rngs=nnx.Rngs(1))
    return CascadeGenerator(coarse, detail, norm, model_cfg, steer)


def make_generator(cfg: ModelConfig, *, rngs: nnx.Rngs) -> nnx.Module:
    """The generator a config names: a cascade's detail level, or one of `model`'s."""
    if cfg.kind == "detail":
        return DetailGenerator(cfg, rngs=rngs)
    return model_lib.make_generator(cfg, rngs=rngs)
