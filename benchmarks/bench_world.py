"""World benchmarks, measured side by side in one run, printed as one table.

    .venv/bin/python benchmarks/bench_world.py [--model v1|weights.npz] [--tile-size 513] [--tiles 16]

- throughput of `terrain-gan world` (files written: png16 + npy) in megasamples/s, same world, programs
  compiled before the clock starts: in-process with all threads and with one, and on LocalClusters of
  1 and 2 single-threaded workers (the engine's own scaling: N workers against 1, and against one
  process with the same total threads); and a world of 129-sample tiles (4x the tile count);
- one 1025 x 1025 tile vs spectral fBm synthesis of the same size (target: <= 3x), for the model and
  for the default architecture at random init (what the shipped weights will cost);
- peak RSS (VmHWM) of a 4x4 and a 16x16 world, each in a fresh process (target: within 10%);
- seam-to-interior ratio of |second difference| on the 16x16 world's files (target 0.95-1.05),
  against independently made tiles as a control.

Timings on a shared CPU are noisy: compare the ratios, which come from this one run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_CHILD = """
import json, sys, time
from terrain_gan.world import batch as world_batch
seed, model, nx, size, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
p = world_batch.plan(seed, model, tiles=(nx, nx), tile_size=size, out=out, formats="png16,npy")
p.world.region(-2560, -2560, 1, 1)  # compile the chunk program before the clock starts
s = world_batch.run(p, quiet=True)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps(dict(seconds=s["seconds"], msamples=s["msamples_per_s"], rss_mib=hwm / 1024)))
"""


ONE_THREAD = "--xla_cpu_multi_thread_eigen=false"  # XLA:CPU runs each program on one thread


def _env(one_thread: bool) -> dict:
    env = dict(os.environ)
    if one_thread:
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {ONE_THREAD}".strip()
    return env


def world_in_process(seed: int, model: str, nx: int, size: int, out: Path, *, one_thread: bool = False) -> dict:
    """A whole world made by the CLI's library path in a fresh process: time, Msamples/s and peak RSS."""
    res = subprocess.run([sys.executable, "-c", _CHILD, str(seed), model, str(nx), str(size), str(out)],
                         check=True, capture_output=True, text=True, env=_env(one_thread))
    return json.loads(res.stdout.strip().splitlines()[-1])


def world_on_dask(seed: int, model: str, nx: int, size: int, out: Path, workers: int = 2) -> dict:
    """The same world on a LocalCluster of single-threaded workers (warmed up: world built, program compiled).

    Each worker is one process whose XLA programs run on one thread, so `workers` workers use as many
    threads as an in-process run with that many: the comparison shows the engine's own scaling.
    """
    from terrain_gan.world import batch as world_batch

    p = world_batch.plan(seed, model, tiles=(nx, nx), tile_size=size, out=out, formats="png16,npy")
    spec = p.world.spec()
    saved = os.environ.get("XLA_FLAGS")
    os.environ.update(XLA_FLAGS=_env(True)["XLA_FLAGS"])  # spawned workers inherit it
    try:
        return _dask_run(p, spec, workers)
    finally:
        if saved is None:
            os.environ.pop("XLA_FLAGS")
        else:
            os.environ["XLA_FLAGS"] = saved


def _dask_run(p, spec, workers: int) -> dict:
    import dask
    from distributed import Client, LocalCluster

    from terrain_gan.world import batch as world_batch
    from terrain_gan.world.core import World
    from terrain_gan.world.remote import worker_world

    with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=logging.ERROR) as cluster, \
                Client(cluster) as client:
            client.run(lambda: worker_world(spec, World.from_spec).region(-2560, -2560, 1, 1).shape)
            s = world_batch.run(p, engine="dask", scheduler=cluster.scheduler_address, quiet=True)
    return dict(seconds=s["seconds"], msamples=s["msamples_per_s"])


def tile_vs_fbm(model, size: int = 1025, repeats: int = 3) -> tuple[float, float]:
    """Median seconds of one tile (fresh chunk cache, program warm) and of fBm of the same size."""
    from terrain_gan.eval import fbm
    from terrain_gan.world.core import World

    World(0, model).tile(4, 4, 33)  # compile
    tile_s, fbm_s = [], []
    for r in range(repeats):
        t = time.perf_counter()
        World(r, model).tile(0, 0, size)
        tile_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        fbm.fbm_heightmap(size, seed=r)
        fbm_s.append(time.perf_counter() - t)
    return statistics.median(tile_s), statistics.median(fbm_s)


def default_architecture(model_path: str):
    """The default config's generator at random init, with `model_path`'s normalisation (costs as shipped)."""
    import dataclasses

    from flax import nnx

    from terrain_gan import config, pretrained
    from terrain_gan.nn import model as model_lib

    m = pretrained.load_model(model_path)
    cfg = dataclasses.replace(m.config, model=config.ModelConfig())
    G = model_lib.make_generator(cfg.model, rngs=nnx.Rngs(0))
    return pretrained.Model(G, cfg, m.height_mean_m, m.height_std_m, "default-arch-random", "-", {})


def seam_table(out: Path, nx: int, model, size: int = 257, n: int = 8) -> list[tuple[str, object]]:
    """SeamStats of the 16x16 world's files, an n x n world of `size`, and n x n independently made tiles."""
    from terrain_gan.world.core import World
    from terrain_gan.world.metrics import seam_stats

    world = World(7, model)
    independent = {(x, z): World(1000 + x + n * z, model).tile(0, 0, size) for x in range(n) for z in range(n)}
    return [(f"{nx}x{nx} world files", seam_stats(lambda x, z: np.load(out / f"tile_{x}_{z}.npy"), nx, nx)),
            (f"{n}x{n} x {size} world", seam_stats(lambda x, z: world.tile(x, z, size), n, n)),
            (f"{n}x{n} x {size} independent tiles (control)", seam_stats(lambda x, z: independent[(x, z)], n, n))]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="v1", help="shipped model name or weights .npz")
    ap.add_argument("--tile-size", type=int, default=513)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tiles", type=int, default=16, help="the worlds measured are TILES x TILES (default 16)")
    args = ap.parse_args(argv)
    from terrain_gan import pretrained

    model = pretrained.load_model(args.model)
    size, rows = args.tile_size, []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nx = args.tiles
        small = world_in_process(args.seed, args.model, 4, size, tmp / "w4")
        big = world_in_process(args.seed, args.model, nx, size, tmp / "w16")
        one = world_in_process(args.seed, args.model, nx, size, tmp / "w16one", one_thread=True)
        dsk1 = world_on_dask(args.seed, args.model, nx, size, tmp / "w16dask1", workers=1)
        dsk = world_on_dask(args.seed, args.model, nx, size, tmp / "w16dask")
        same = all((tmp / "w16" / f.name).read_bytes() == f.read_bytes() for f in (tmp / "w16dask").glob("tile_*"))
        small_tiles = world_in_process(args.seed, args.model, 4 * nx, 129, tmp / "w129")
        seams = seam_table(tmp / "w16", nx, model)
    tile_s, fbm_s = tile_vs_fbm(model)
    arch_s, arch_fbm_s = tile_vs_fbm(default_architecture(args.model), repeats=1)
    rss = big["rss_mib"] / small["rss_mib"]
    rate = lambda r: f"{r['msamples']:.2f} Msamples/s ({r['seconds']:.1f} s)"  # noqa: E731
    w = f"{nx}x{nx} x {size}"
    rows += [
        (f"throughput in-process, all threads, {w}", rate(big), ">= 2 Msamples/s",
         "met" if big["msamples"] >= 2 else "NOT MET"),
        (f"throughput in-process, 1 thread, {w}", rate(one), "", ""),
        (f"throughput Dask 1 worker x 1 thread, {w}", rate(dsk1), "", f"x{dsk1['msamples'] / one['msamples']:.2f} "
         "of in-process 1 thread"),
        (f"throughput Dask 2 workers x 1 thread, {w}", rate(dsk), "",
         f"x{dsk['msamples'] / dsk1['msamples']:.2f} of 1 worker, x{dsk['msamples'] / big['msamples']:.2f} of "
         "in-process all threads"),
        (f"throughput in-process, {4 * nx}x{4 * nx} x 129", rate(small_tiles), ">= 1 Msamples/s",
         "met" if small_tiles["msamples"] >= 1 else "NOT MET"),
        ("Dask files == in-process files", str(same), "byte-identical", "met" if same else "NOT MET"),
        (f"1025^2 tile / fBm ({model.model_id})", f"{tile_s:.3f} s / {fbm_s:.3f} s = {tile_s / fbm_s:.2f}x",
         "<= 3x", "met" if tile_s / fbm_s <= 3 else "NOT MET"),
        ("1025^2 tile / fBm (default arch, random init)",
         f"{arch_s:.3f} s / {arch_fbm_s:.3f} s = {arch_s / arch_fbm_s:.2f}x", "<= 3x",
         "met" if arch_s / arch_fbm_s <= 3 else "NOT MET"),
        (f"peak RSS {nx}x{nx} / 4x4 x {size}", f"{big['rss_mib']:.0f} / {small['rss_mib']:.0f} MiB = {rss:.3f}",
         "<= 1.10", "met" if rss <= 1.10 else "NOT MET"),
    ]
    for name, st in seams:
        control = "independent" in name
        for label, value in (("all interior", st.ratio), ("same lattice phase", st.phase_ratio)):
            ok = 0.95 <= value <= 1.05
            rows.append((f"seam ratio, {name}, vs {label}", f"{value:.3f}",
                         "far off" if control else "0.95-1.05", "" if control else ("met" if ok else "NOT MET")))
    print(f"\nworld benchmark: model {model.model_id}, seed {args.seed}, tile size {size}, CPU\n")
    widths = [max(len(r[i]) for r in rows + [("metric", "measured", "target", "")]) for i in range(4)]
    for r in [("metric", "measured", "target", "")] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
