"""Training speed of each shipped config on this machine, as a table.

    python benchmarks/bench_train.py [--steps 30]

For each config: steps/s of the jitted D-then-G step (after compiling; R1 every 4th step as in
training), the time its full `train.steps` would take at that rate, and the wall time its
shipped weights actually took (from the model card metadata), for comparison. The machine is
shared and noisy: read the rates side by side, measured in one run.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed steps per config")
    args = parser.parse_args()
    data = dataset.load_dataset()
    print(f"| config | batch x window | steps/s | full run ({'train.steps'}) at this rate | shipped weights took |")
    print("|---|---|---|---|---|")
    for name in ("default", "dcgan_seed"):
        cfg = config.load(REPO / "configs" / f"{name}.toml")
        rate = steps_per_second(cfg, data, args.steps)
        try:
            meta = pretrained.load_model(name).meta
            took = f"{meta['seconds'] / 60:.1f} min for {meta['step']} steps"
        except Exception as e:  # noqa: BLE001 - weights not shipped yet: say so in the table
            took = f"({e})"
        print(f"| {name} | {cfg.train.batch_size} x {cfg.data.window} | {rate:.2f} | "
              f"{cfg.train.steps / rate / 60:.1f} min ({cfg.train.steps} steps) | {took} |")


if __name__ == "__main__":
    main()
