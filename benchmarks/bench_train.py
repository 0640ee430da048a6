"""Training speed of each shipped config on this machine, as a table, and the JAX step against PyTorch's.

    python benchmarks/bench_train.py [--steps 30] [--rounds 5 --round-steps 4] [--skip-table]

For each config: steps/s of the jitted D-then-G step (after compiling; R1 every 4th step as in
training), the time its full `train.steps` would take at that rate, and the wall time its
shipped weights actually took (from the model card metadata), for comparison.

Then the default config's step beside its PyTorch port (`torch_port.py`: the same G and D shapes,
batch, window, loss, lazy R1, Adam and EMA; eager PyTorch on all CPU threads): steps/s of each,
timed in alternating rounds of `--round-steps` steps so that both share the machine's load, and the
ratio JAX/PyTorch (above 1: the JAX step is faster). Compilation and warm-up steps are not timed, nor
is drawing the real batches (drawn once beforehand, the same for both). Without torch (the `bench`
extra) the comparison is skipped with a message. The machine is shared and noisy: read the rates
side by side, measured in one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from terrain_gan import config, pretrained
from terrain_gan.dataset import core as dataset
from terrain_gan.train import step as train

REPO = Path(__file__).resolve().parents[1]


def steps_per_second(cfg: config.Config, data, steps: int) -> float:
    """Measured rate of `train.train_step` for `cfg`, compile excluded."""
    gan = train.GAN(cfg, float(data.stats.height_std_m / data.stats.grad_std), rngs=nnx.Rngs(0))
    run = train.Run(cfg, data, gan, 0)
    t = cfg.train

    def step(i):
        r1 = t.r1_gamma > 0 and i % t.r1_every == 0
        return train.train_step(gan, run.real_batch(i), run.key(i), np.float32(i), tcfg=t, apply_r1=r1)

    jax.block_until_ready([step(0), step(1)])  # compile both variants (with and without R1)
    start = time.perf_counter()
    for i in range(2, 2 + steps):
        metrics = step(i)
    jax.block_until_ready(metrics)
    return steps / (time.perf_counter() - start)


def table(data, steps: int) -> None:
    """The steps/s table of the shipped configs."""
    print(f"| config | batch x window | steps/s | full run ({'train.steps'}) at this rate | shipped weights took |")
    print("|---|---|---|---|---|")
    for name, weights in (("default", "v1"), ("dcgan_seed", "dcgan_seed")):  # configs/NAME.toml trained WEIGHTS
        cfg = config.load(REPO / "configs" / f"{name}.toml")
        rate = steps_per_second(cfg, data, steps)
        try:
            meta = pretrained.load_model(weights).meta
            took = f"{meta['seconds'] / 60:.1f} min for {meta['step']} steps"
        except Exception as e:  # noqa: BLE001 - weights not shipped yet: say so in the table
            took = f"({e})"
        print(f"| {name} | {cfg.train.batch_size} x {cfg.data.window} | {rate:.2f} | "
              f"{cfg.train.steps / rate / 60:.1f} min ({cfg.train.steps} steps) | {took} |")


def _timed(run_steps, steps) -> float:
    """Steps/s of `run_steps(steps)`."""
    start = time.perf_counter()
    run_steps(steps)
    return len(steps) / (time.perf_counter() - start)


def versus_torch(cfg: config.Config, data, rounds: int, round_steps: int) -> None:
    """Prints steps/s of the JAX training step and of its PyTorch port, timed in alternating rounds."""
    try:
        import torch
        import torch_port
    except ModuleNotFoundError as e:
        if e.name != "torch":
            raise
        print("\ntorch is not installed: no PyTorch column (`pip install -e '.[bench]'` installs it)")
        return
    t = cfg.train
    if round_steps % t.r1_every:
        raise SystemExit(f"--round-steps must be a multiple of train.r1_every ({t.r1_every}): the same R1 share")
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    slope_gain = float(data.stats.height_std_m / data.stats.grad_std)
    gan = train.GAN(cfg, slope_gain, rngs=nnx.Rngs(0))
    run = train.Run(cfg, data, gan, 0)
    port = torch_port.TorchGAN(cfg.model, t, cfg.data.window, slope_gain)
    reals = [np.asarray(run.real_batch(i)) for i in range(t.r1_every * 2)]
    jax_reals, torch_reals = [jax.device_put(r) for r in reals], [torch.from_numpy(r.copy()) for r in reals]
    r1 = lambda i: t.r1_gamma > 0 and i % t.r1_every == 0  # noqa: E731

    def jax_steps(steps):
        for i in steps:
            metrics = train.train_step(gan, jax_reals[i % len(reals)], run.key(i), np.float32(i), tcfg=t,
                                       apply_r1=r1(i))
        jax.block_until_ready(metrics)

    def torch_steps(steps):
        for i in steps:
            port.train_step(torch_reals[i % len(reals)], i, apply_r1=r1(i))

    jax_steps(range(2))  # compile both variants (with and without R1)
    torch_steps(range(2))  # warm up
    rates = {"jax": [], "torch": []}
    for r in range(rounds):
        steps = range(2 + r * round_steps, 2 + (r + 1) * round_steps)
        order = [("jax", jax_steps), ("torch", torch_steps)]
        for name, steps_of in order if r % 2 == 0 else order[::-1]:  # alternate who goes first
            rates[name].append(_timed(steps_of, steps))
    ratios = [a / b for a, b in zip(rates["jax"], rates["torch"])]
    print(f"\nJAX against PyTorch {torch.__version__} (eager, {torch.get_num_threads()} threads), "
          f"{cfg.name} config, batch {t.batch_size} x window {cfg.data.window}, R1 every {t.r1_every}th step: "
          f"{rounds} alternating rounds of {round_steps} steps each")
    print("| framework | steps/s (median of rounds) | slowest - fastest round |")
    print("|---|---|---|")
    for name, label in (("jax", f"JAX {jax.__version__} (jit)"), ("torch", f"PyTorch {torch.__version__}")):
        print(f"| {label} | {statistics.median(rates[name]):.3f} | {min(rates[name]):.3f} - {max(rates[name]):.3f} |")
    print(f"\nJAX/PyTorch steps/s: {statistics.median(ratios):.2f}x (median of the rounds' ratios; "
          f"{min(ratios):.2f}x - {max(ratios):.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per config")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of JAX and PyTorch steps")
    parser.add_argument("--round-steps", type=int, default=4, help="steps per round (a multiple of r1_every)")
    parser.add_argument("--skip-table", action="store_true", help="only the JAX/PyTorch comparison")
    args = parser.parse_args()
    data = dataset.load_dataset()
    if not args.skip_table:
        table(data, args.steps)
    versus_torch(config.load(REPO / "configs" / "default.toml"), data, args.rounds, args.round_steps)


if __name__ == "__main__":
    main()
