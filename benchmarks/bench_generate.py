"""Generation speed, as users feel it, in one run: cold process, warm maps, the chunk program against PyTorch.

    .venv/bin/python benchmarks/bench_generate.py [--model v2 v1] [--repeats 7] [--sizes 129,513,1025,2049]

Prints four tables:
1. Cold process: `terrain-gan generate --size 129` as a new process, with empty compilation caches
   (JAX's and numba's: a first run ever) and with warm ones (every later run), beside a bare
   `python -c "import jax.numpy"`.
2. Warm in-process `terrain_gan.generate(size=N)` per map size, and megasamples per second.
3. For each single GAN among the models (v1): one 256 x 256 chunk, the unit every map and world is made of: the shipped program (terrain_gan's
   XLA flag, fused upsampling stages), the same without fusion, XLA's default convolution path (YNNPACK,
   measured in a child process, since XLA reads its flags once) and the same layers in PyTorch (random
   weights, same shapes; `benchmarks/torch_port.py`, needs the `bench` extra). GFLOP/s are XLA's own
   count of the chunk program's FLOPs over the time, against this machine's float32 matmul peak
   (a 2048^3 product, in the same run).
Timings are interleaved between variants so that load on a shared machine hits them alike; compare
ratios, not absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import terrain_gan
from terrain_gan import pretrained, runtime
from terrain_gan.nn import latents
from terrain_gan.nn import model as model_lib
from terrain_gan.world import synth

REPO = Path(__file__).resolve().parents[1]


def wall(cmd, env=None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def cold_process(models, repeats: int) -> None:
    exe = [sys.executable, "-m", "terrain_gan.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, TERRAIN_GAN_CACHE_DIR=str(Path(tmp) / "cache"), NUMBA_CACHE_DIR=str(Path(tmp) / "numba"))
        out = str(Path(tmp) / "t.png")
        gen = {m: exe + ["generate", "--seed", "1", "--size", "129", "--model", m, "--out", out] for m in models}
        first = {m: wall(gen[m], env) for m in models}
        bare, warm = [], {m: [] for m in models}
        for _ in range(repeats):
            bare.append(wall([sys.executable, "-c", "import jax.numpy"], env))
            for m in models:
                warm[m].append(wall(gen[m], env))
    b = statistics.median(bare)
    print("\n| cold process | seconds (median) | vs bare `import jax.numpy` |\n|---|---|---|")
    print(f"| bare `python -c \"import jax.numpy\"` | {b:.2f} | 1.00x |")
    for m in models:
        print(f"| `terrain-gan generate --size 129 --model {m}`, first run (empty JAX and numba caches) | {first[m]:.2f} | "
              f"{first[m] / b:.2f}x |")
        print(f"| `terrain-gan generate --size 129 --model {m}`, later runs | {statistics.median(warm[m]):.2f} | "
              f"{statistics.median(warm[m]) / b:.2f}x |")


def warm_maps(models, sizes, repeats: int) -> None:
    print("\n| warm in-process `generate` | model | seconds (median) | best | Msamples/s |\n|---|---|---|---|---|")
    for size in sizes:
        ts = {m: [] for m in models}
        for m in models:
            terrain_gan.generate(seed=0, size=size, model=m)  # compiles, fills caches
        for r in range(max(2, repeats // 2 if size > 1025 else repeats)):
            for m in models:
                t0 = time.perf_counter()
                terrain_gan.generate(seed=r + 1, size=size, model=m)
                ts[m].append(time.perf_counter() - t0)
        for m in models:
            med = statistics.median(ts[m])
            print(f"| {size} x {size} | {m} | {med:.3f} | {min(ts[m]):.3f} | {size * size / med / 1e6:.2f} |")


def matmul_peak(repeats: int) -> float:
    """GFLOP/s of a 2048^3 float32 product in XLA: this machine's practical peak."""
    n = 2048
    a = jnp.asarray(np.random.default_rng(0).standard_normal((n, n), np.float32))
    f = jax.jit(lambda a: a @ a)
    f(a).block_until_ready()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(a).block_until_ready()
        ts.append(time.perf_counter() - t0)
    return 2 * n ** 3 / min(ts) / 1e9


def chunk_programs(model):
    """{label: (jitted chunk, args)} for the shipped program and the unfused one, and the FLOPs."""
    G = model.generator
    field, noise = jax.jit(lambda k: G.region_inputs(k, 0, 0, synth.CHUNK // G.STRIDE))(latents.world_key(3))
    programs, shipped = {}, model_lib.FUSE_MAX_CHANNELS
    for label, fuse in (("terrain_gan (shipped)", shipped), ("without fused upsampling", 0)):
        model_lib.FUSE_MAX_CHANNELS = fuse  # read while tracing
        f = jax.jit(lambda field, noise: G(field[None], noise[None]))
        f(field, noise).block_until_ready()
        programs[label] = f
    model_lib.FUSE_MAX_CHANNELS = shipped
    cost = jax.jit(lambda field, noise: G(field[None], noise[None])).lower(field, noise).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return programs, (field, noise), float(cost.get("flops", 0.0))


def torch_chunk(model):
    try:
        import torch

        sys.path.insert(0, str(Path(__file__).parent))
        from torch_port import TorchSpatialGenerator
    except ImportError as e:
        print(f"\n(PyTorch column skipped: {e}; `pip install -e '.[bench]'`)")
        return None
    torch.set_num_threads(os.cpu_count())
    net = TorchSpatialGenerator(model.config.model).eval()
    inputs = net.chunk_inputs(cells=synth.CHUNK // model.generator.STRIDE)

    def run():
        with torch.no_grad():
            return net(*inputs)

    out = run()
    assert tuple(out.shape[-2:]) == (synth.CHUNK, synth.CHUNK), out.shape
    return run


def child_chunk_ms(model: str, repeats: int) -> float:
    """Median ms of the same chunk program with XLA's default convolution path, in a child process."""
    code = ("import sys, json; sys.path.insert(0, %r); import bench_generate as b; "
            "print(json.dumps(b._child(%r, %d)))" % (str(Path(__file__).parent), model, repeats))
    inherited = os.environ.get("XLA_FLAGS", "").replace(runtime.CONV_FLAG, "").strip()  # set by this process
    env = dict(os.environ, TERRAIN_GAN_XLA_DEFAULT_CONV="1", XLA_FLAGS=inherited)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child(model: str, repeats: int) -> float:
    assert "ynn_fusion_type" not in os.environ.get("XLA_FLAGS", ""), os.environ["XLA_FLAGS"]
    programs, args, _ = chunk_programs(pretrained.load_model(model))
    f = programs["terrain_gan (shipped)"]
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(*args).block_until_ready()
        ts.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(ts)


def chunk_table(model_name: str, repeats: int) -> None:
    model = pretrained.load_model(model_name)
    programs, args, flops = chunk_programs(model)
    runs = {label: (lambda f=f: f(*args).block_until_ready()) for label, f in programs.items()}
    torch_run = torch_chunk(model)
    if torch_run is not None:
        runs["PyTorch, same layers"] = torch_run
    times = {label: [] for label in runs}
    for _ in range(repeats):
        for label, run in runs.items():
            t0 = time.perf_counter()
            run()
            times[label].append(time.perf_counter() - t0)
    ms = {label: 1e3 * statistics.median(t) for label, t in times.items()}
    ms["XLA default conv path (YNNPACK; child process)"] = child_chunk_ms(model_name, repeats)
    peak = matmul_peak(repeats)
    ref = ms.get("PyTorch, same layers")
    print(f"\n| 256 x 256 chunk ({model.model_id}, {flops / 1e9:.2f} GFLOP) | ms (median) | GFLOP/s | "
          f"of matmul peak ({peak:.0f} GFLOP/s) | vs PyTorch |\n|---|---|---|---|---|")
    for label, m in ms.items():
        rate = flops / (m / 1e3) / 1e9
        vs = f"{m / ref:.2f}x" if ref else "-"
        print(f"| {label} | {m:.1f} | {rate:.1f} | {100 * rate / peak:.0f}% | {vs} |")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", nargs="+", default=["v2", "v1"],
                   help="models of the first two tables, side by side (the chunk table: the single GANs among them)")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--sizes", default="129,513,1025,2049")
    p.add_argument("--skip-cold", action="store_true", help="leave out the cold-process table")
    args = p.parse_args(argv)
    print(f"jax {jax.__version__}, {os.cpu_count()} CPUs, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    if not args.skip_cold:
        cold_process(args.model, max(3, args.repeats // 2))
    warm_maps(args.model, [int(s) for s in args.sizes.split(",")], args.repeats)
    for name in args.model:
        if pretrained.load_model(name).config.model.kind == "cascade":
            print(f"\n(chunk table: {name} is a cascade, timed per chunk by benchmarks/bench_models.py)")
        else:
            chunk_table(name, args.repeats)


if __name__ == "__main__":
    main()
