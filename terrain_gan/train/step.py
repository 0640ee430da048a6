"""`terrain-gan train`: one jitted step (a D update, then a G update), deterministic for a seed, resumable.

The data order and every random key are functions of (seed, step) alone, so a run resumed from a
checkpoint continues with exactly the losses an uninterrupted run would have had.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from terrain_gan import config as config_lib
from terrain_gan.dataset.core import Dataset, load_dataset
from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import cascade, drainage, losses
from terrain_gan.nn import model as model_lib
from terrain_gan.train import checkpoint


class GAN(nnx.Module):
    """Generator, its EMA copy, discriminator and both optimisers: everything a checkpoint holds."""

    def __init__(self, cfg: config_lib.Config, slope_gain: float, height_std_m: float = 1.0, *, rngs: nnx.Rngs):
        t = cfg.train
        self.height_std_m = height_std_m  # metres per normalised unit, for the drainage penalty
        self.G = cascade.make_generator(cfg.model, rngs=rngs)
        self.D = model_lib.make_discriminator(cfg.model, cfg.data.window, slope_gain, rngs=rngs)
        self.G_ema = nnx.clone(self.G)
        adam = lambda lr: optax.adam(learning_rate_schedule(lr, t), b1=t.beta1, b2=t.beta2)  # noqa: E731
        self.opt_g = nnx.Optimizer(self.G, adam(t.lr_g), wrt=nnx.Param)
        self.opt_d = nnx.Optimizer(self.D, adam(t.lr_d), wrt=nnx.Param)


def learning_rate_schedule(peak: float, t: config_lib.TrainConfig):
    """Constant `peak`, then (from `t.lr_decay_from` of the run) a linear fall to 0 at `t.steps`.

    A short GAN run oscillates between modes at a constant rate; letting the rate fall settles
    the generator (the EMA then averages a converging, not an orbiting, trajectory).
    """
    start = int(round(t.lr_decay_from * t.steps))
    if start >= t.steps:
        return peak
    return optax.join_schedules([optax.constant_schedule(peak),
                                 optax.linear_schedule(peak, 0.0, t.steps - start)], [start])


def d_update(gan: GAN, real_BxHxW: jax.Array, fake_BxHxW: jax.Array, *, tcfg: config_lib.TrainConfig,
             apply_r1: bool) -> dict:
    """One discriminator step on real and (fixed) fake samples as D sees them (`judged`); touches only D."""

    def d_objective(D):
        real_logits, fake_logits = D(real_BxHxW), D(fake_BxHxW)
        loss = losses.d_loss(tcfg.loss, real_logits, fake_logits)
        r1 = losses.r1_penalty(D, real_BxHxW) if apply_r1 else jnp.zeros(())
        total = loss + (0.5 * tcfg.r1_gamma * tcfg.r1_every) * r1
        return total, dict(d_loss=loss, r1=r1, real_logit=losses.global_logit(real_logits).mean(),
                           fake_logit=losses.global_logit(fake_logits).mean())

    (_, metrics), d_grads = nnx.value_and_grad(d_objective, has_aux=True)(gan.D)
    gan.opt_d.update(gan.D, d_grads)
    return metrics


RELIEF_FLOOR_M = 10.0  # a window's height std below this counts as this, for `train.drainage_relative`


def g_update(gan: GAN, real_BxHxW: jax.Array, inputs, step, *,
             tcfg: config_lib.TrainConfig) -> tuple[jax.Array, dict]:
    """One generator step against the current D, then the EMA generator: (generator loss, its terms).

    `real_BxHxW` sets the fakes' number and size (and a detail generator's conditions), `inputs`
    (from `fake_inputs`) their latents. D's parameters are left as they are (only a BatchNorm D's
    running statistics move). The EMA generator's decay ramps up as (1 + step) / (10 + step) until
    it reaches `tcfg.ema_decay`, so the average does not drag the random initialisation through a
    short run.
    """

    def g_objective(G, D):  # D is an argument so that its BatchNorm statistics may update
        real, fake, consistency = judged(G, real_BxHxW, inputs)
        terms = dict(consistency=consistency, drainage_m=jnp.zeros(()), drainage_relative=jnp.zeros(()),
                     phase_spread=jnp.zeros(()), spectrum=jnp.zeros(()))
        heights = heights_of(fake)
        if tcfg.drainage:
            terms["drainage_m"] = drainage.mean_depression_depth(heights) * gan.height_std_m
        if tcfg.drainage_relative:
            floor = RELIEF_FLOOR_M / gan.height_std_m
            terms["drainage_relative"] = drainage.relative_depression_depth(heights, floor)
        if tcfg.phase_flatness:  # a detail level's windows start on its condition's lattice
            terms["phase_spread"] = losses.lattice_phase_spread(heights, G.STRIDE, heights_of(real))
        if tcfg.spectrum:
            terms["spectrum"] = losses.spectrum_mismatch(heights, heights_of(real))
        total = (losses.g_loss(tcfg.loss, D(fake)) + tcfg.consistency * consistency
                 + tcfg.drainage * terms["drainage_m"] + tcfg.drainage_relative * terms["drainage_relative"]
                 + tcfg.phase_flatness * terms["phase_spread"] + tcfg.spectrum * terms["spectrum"])
        return total, terms

    (g_value, terms), g_grads = nnx.value_and_grad(g_objective, argnums=0, has_aux=True)(gan.G, gan.D)
    gan.opt_g.update(gan.G, g_grads)
    decay = jnp.minimum(tcfg.ema_decay, (1.0 + step) / (10.0 + step))
    ema = jax.tree.map(lambda e, p: decay * e + (1 - decay) * p, nnx.state(gan.G_ema), nnx.state(gan.G))
    nnx.update(gan.G_ema, ema)
    return g_value, terms


def heights_of(judged_windows):
    """The heights of windows as the discriminator judges them: a detail level's pair (heights, residual
    on the condition) or plain heights."""
    return judged_windows[..., 0] if judged_windows.ndim == 4 else judged_windows


def judged(G: nnx.Module, real_BxHxW: jax.Array, inputs):
    """(real, fake, consistency loss) as the discriminator sees them, for the fakes' `fake_inputs`.

    An unconditional generator's fakes are independent windows the size of the real ones; a
    detail generator's are conditioned on the real windows' block means (see `nn.cascade`).
    """
    if hasattr(G, "judged_from"):
        return G.judged_from(real_BxHxW, inputs)
    return real_BxHxW, G.windows_from(inputs, real_BxHxW.shape[1]), jnp.zeros(())


def fake_inputs(G: nnx.Module, real_shape: tuple[int, ...], key: jax.Array):
    """The random latents of a batch of fakes judged against real windows of `real_shape`."""
    if hasattr(G, "judged_inputs"):
        return G.judged_inputs(real_shape, key)
    return G.window_inputs(key, real_shape[0], real_shape[1])


def train_step(gan: GAN, real_BxHxW, key, step, *, tcfg: config_lib.TrainConfig, apply_r1: bool):
    """One discriminator update then one generator update (the article's alternation).

    Two programs: the fakes' latents for both updates, then the updates. XLA:CPU runs a
    generator ~3x slower when the random draws share its program (the default generator's 8
    training windows: 85 against 28 ms, the latents alone 4 ms; `benchmarks/bench_train.py`), as
    it does a world's chunk (`world/synth.py`).

    Returns the metrics: d_loss, r1, real_logit, fake_logit, g_loss, consistency (0 but for a detail
    level), drainage_m (the fakes' mean depression depth in metres; 0 unless `tcfg.drainage`),
    drainage_relative (that depth over the windows' height std; 0 unless `tcfg.drainage_relative`),
    phase_spread (the fakes' roughness by lattice phase against the real windows'; 0 unless
    `tcfg.phase_flatness`) and spectrum (the fakes' spectrum shape against the real windows'; 0 unless
    `tcfg.spectrum`).
    """
    inputs = _step_inputs(gan.G, tuple(real_BxHxW.shape), key)
    return _updates(gan, real_BxHxW, inputs, step, tcfg=tcfg, apply_r1=apply_r1)


@functools.partial(nnx.jit, static_argnames=("real_shape",))
def _step_inputs(G: nnx.Module, real_shape: tuple[int, ...], key):
    k_d, k_g = jax.random.split(key)
    return fake_inputs(G, real_shape, k_d), fake_inputs(G, real_shape, k_g)


@functools.partial(nnx.jit, static_argnames=("tcfg", "apply_r1"))
def _updates(gan: GAN, real_BxHxW, inputs, step, *, tcfg: config_lib.TrainConfig, apply_r1: bool):
    inputs_d, inputs_g = inputs
    real, fake, _ = judged(gan.G, real_BxHxW, inputs_d)
    metrics = d_update(gan, real, jax.lax.stop_gradient(fake), tcfg=tcfg, apply_r1=apply_r1)
    g_value, terms = g_update(gan, real_BxHxW, inputs_g, step, tcfg=tcfg)
    return dict(metrics, g_loss=g_value, **terms)


@dataclasses.dataclass
class Run:
    """What a training run works on: the config, its data and the GAN state."""

    cfg: config_lib.Config
    data: Dataset
    gan: GAN
    step: int

    def real_batch(self, step: int):
        """The step's real windows, normalised: a function of (seed, step) only."""
        rng = np.random.default_rng([self.cfg.train.seed, step])
        windows = self.data.sample_windows(self.cfg.train.batch_size, rng=rng, window=self.real_window,
                                           region_weight=self.cfg.data.region_weight)
        return jnp.asarray(self.data.normalise(windows))

    @property
    def real_window(self) -> int:
        """Side of the real windows a step reads: the judged window, plus a condition's margin."""
        return self.cfg.data.window + 2 * getattr(self.gan.G, "CONDITION_MARGIN", 0)

    def key(self, step: int):
        return jax.random.fold_in(jax.random.key(self.cfg.train.seed), step)


def _meta(run: Run) -> dict:
    """Checkpoint metadata: what a restore must agree with, and what the weights file records."""
    return dict(config=config_lib.to_dict(run.cfg), step=run.step,
                normalisation=dict(height_mean_m=run.data.stats.height_mean_m, height_std_m=run.data.stats.height_std_m,
                                   slope_gain=_slope_gain(run.data)))


def run_identity(cfg_dict: dict) -> dict:
    """A config as it must match to resume a run: all but train.steps, which may be extended
    (unless the learning rates decay, whose schedule depends on it)."""
    train = cfg_dict["train"]
    if train.get("lr_decay_from", 1.0) < 1.0:
        return cfg_dict
    return dict(cfg_dict, train={k: v for k, v in train.items() if k != "steps"})


def _slope_gain(data) -> float:
    return float(data.stats.height_std_m / data.stats.grad_std)


def setup(cfg: config_lib.Config, workdir: Path, data=None) -> Run:
    """Builds the GAN and restores the latest checkpoint in `workdir`, if any."""
    if data is None:
        data = load_dataset(cfg.data.dataset)
    if abs(data.cell_size_m - cfg.cell_size_m) > 1e-6:
        raise TerrainGanError(f"{cfg.data.dataset}: dataset cell size {data.cell_size_m} m differs from "
                              f"the config's cell_size_m {cfg.cell_size_m}")
    if cfg.train.drainage or cfg.train.drainage_relative or cfg.model.d_drainage:
        drainage.require()
    gan = GAN(cfg, _slope_gain(data), float(data.stats.height_std_m), rngs=nnx.Rngs(cfg.train.seed))
    run = Run(cfg, data, gan, 0)
    last = checkpoint.latest(workdir)
    if last is not None:
        state, meta = checkpoint.restore(last, nnx.state(gan))
        if run_identity(meta["config"]) != run_identity(config_lib.to_dict(cfg)):
            raise TerrainGanError(f"{last}: checkpoint was made with a different config; "
                                  "use the config it was trained with, or a new --workdir")
        nnx.update(gan, state)
        run.step = int(meta["step"])
    return run
