"""Export speed: a 1025 x 1025 tile as GLB and OBJ, against writing the same bytes with numpy.

    .venv/bin/python benchmarks/bench_export.py [--size 1025] [--repeats 5] [--dir DIR]

Each row is the median of `--repeats` runs of the whole export as users run it: encode with
`exporters.export_files`, write with `exporters.write_files` (temporary file, fsync, rename). The
baseline writes an equally long numpy array to a file with `ndarray.tofile` and fsyncs it: the
hardware's limit for those bytes. Runs are interleaved (baseline, export, baseline, ...) so that a
busy machine slows both alike; the ratios are measured in one run. Targets: GLB <= 1.5x the
baseline; OBJ of 1025^2 <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import exporters  # noqa: E402
from exporters import ExportOptions, export_files, write_files  # noqa: E402

CELL = 30.0


def surface(n: int, seed: int = 0) -> np.ndarray:
    """A rough ridged surface in metres (a few octaves of sines plus noise): realistic, fast to make."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:n, 0:n] / n
    h = np.zeros((n, n))
    for octave in range(6):
        f = 2.0**octave * 3
        h += 900 / 2**octave * np.sin(f * x + rng.uniform(0, 6)) * np.cos(f * 0.8 * y + rng.uniform(0, 6))
    return (h + 5 * rng.standard_normal((n, n))).astype(np.float32)


def write_numpy(path: Path, data: np.ndarray) -> None:
    """The baseline: one numpy array (made beforehand) to a file, fsynced."""
    with open(path, "wb") as f:
        data.tofile(f)
        f.flush()
        os.fsync(f.fileno())


def timed(fn) -> float:
    """Seconds one call of `fn` takes."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench(name: str, h: np.ndarray, folder: Path, formats: str, options: ExportOptions, repeats: int) -> dict:
    """Median seconds of one export (encode + atomic write) and of writing its bytes with numpy."""
    stem = folder / name
    export = lambda: write_files(export_files(h, stem, formats, cell_size_m=CELL, options=options))  # noqa: E731
    paths = export()
    nbytes = sum(p.stat().st_size for p in paths)
    data = np.ones(nbytes, np.uint8)
    base, ours = [], []
    for _ in range(repeats):
        base.append(timed(lambda: write_numpy(folder / "baseline.bin", data)))
        ours.append(timed(export))
    for p in paths + [folder / "baseline.bin"]:
        p.unlink()
    return {"name": name, "bytes": nbytes, "ours": float(np.median(ours)), "numpy": float(np.median(base))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1025)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dir", help="folder to write in (default: a temporary folder)")
    args = ap.parse_args(argv)
    h = surface(args.size)
    cases = [("glb", "glb", ExportOptions()),
             ("glb_colors_texture", "glb", ExportOptions(colors="relief", texture="relief")),
             ("gltf", "gltf", ExportOptions()),
             ("obj", "obj", ExportOptions()),
             ("obj_texture", "obj", ExportOptions(texture="relief"))]
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        rows = [bench(name, h, Path(d), fmt, opt, args.repeats) for name, fmt, opt in cases]
    print(f"export of a {args.size} x {args.size} heightmap, median of {args.repeats} runs "
          f"(numpy {np.__version__}, exporters in {Path(exporters.__file__).parent})")
    print(f"{'case':20} {'MiB':>8} {'export s':>9} {'numpy s':>8} {'ratio':>6} {'MiB/s':>7}  target")
    for r in rows:
        ratio = r["ours"] / r["numpy"]
        target = ""
        if r["name"] == "glb":
            target = f"<= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}"
        elif r["name"] == "obj" and args.size == 1025:
            target = f"<= 2 s: {'met' if r['ours'] <= 2.0 else 'NOT met'}"
        print(f"{r['name']:20} {r['bytes'] / 2**20:8.1f} {r['ours']:9.3f} {r['numpy']:8.3f} {ratio:6.2f} "
              f"{r['bytes'] / 2**20 / r['ours']:7.0f}  {target}")


if __name__ == "__main__":
    main()
