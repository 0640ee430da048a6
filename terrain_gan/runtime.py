"""How terrain_gan sets up JAX: the CPU convolution path and a persistent compilation cache.

`configure()` runs when `terrain_gan` is first imported, before JAX starts its CPU backend, and only
sets what the user has not set:

- XLA:CPU (jaxlib 0.10) hands some convolutions to its experimental YNNPACK library, whichever shapes
  its matcher accepts (here 32->16 and 64->32 at 134-262 samples, but not 16->16), and for these
  shapes that path runs 3-7x slower than XLA's own (Eigen) convolution; the shipped generator's chunk
  spends most of its time there. `--xla_cpu_experimental_ynn_fusion_type=dot` keeps YNNPACK for
  matrix products only. `benchmarks/bench_generate.py` measures both paths side by side
  (`TERRAIN_GAN_XLA_DEFAULT_CONV=1` keeps XLA's default).
- Every process would compile the chunk program again (seconds): compiled programs are kept in
  `$XDG_CACHE_HOME/terrain_gan/jax` (default `~/.cache/terrain_gan/jax`). The cache is bounded in
  size, which makes JAX guard every read and write with a file lock, so concurrent processes share
  it safely. `TERRAIN_GAN_CACHE_DIR=off` turns it off, or names another folder; a user's own
  `JAX_COMPILATION_CACHE_DIR` wins over both. Programs that took over 0.1 s to compile are kept:
  with 0.5 s the layout's and the drain's smaller programs were compiled again in every process,
  0.7-0.9 s of a `terrain-gan generate --size 129`. Keeping every program, down to single eager
  operations, gained nothing more there and made the test suite 50 % slower, since each write
  rescans the bounded cache (model card, "Twenty-third round").

A flag only takes effect before JAX runs its first computation: a program that used JAX before
importing terrain_gan keeps its own settings (and is only slower).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONV_FLAG = "--xla_cpu_experimental_ynn_fusion_type=dot"
CACHE_MAX_BYTES = 1 << 30
CACHE_MIN_COMPILE_SECS = 0.1  # JAX's default keeps only programs over 1 s


def cache_dir() -> Path | None:
    """Where compiled programs are kept, or None when the cache is off."""
    chosen = os.environ.get("TERRAIN_GAN_CACHE_DIR", "")
    if chosen.lower() in ("off", "0", "none"):
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "terrain_gan" / "jax"


def configure() -> None:
    """Sets the convolution flag and the compilation cache, leaving the user's own settings alone."""
    flags = os.environ.get("XLA_FLAGS", "")
    keep_xla_default = os.environ.get("TERRAIN_GAN_XLA_DEFAULT_CONV") == "1"  # for benchmarks: the old path
    if "xla_cpu_experimental_ynn_fusion_type" not in flags and not keep_xla_default:
        os.environ["XLA_FLAGS"] = f"{flags} {CONV_FLAG}".strip()
    where = cache_dir()
    if where is None or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    settings = {
        "jax_compilation_cache_dir": str(where),
        "jax_compilation_cache_max_size": CACHE_MAX_BYTES,  # bounded: JAX then locks each read and write
        "jax_persistent_cache_min_compile_time_secs": CACHE_MIN_COMPILE_SECS,
    }
    if "jax" in sys.modules:  # JAX read its environment already: tell its config instead
        import jax

        for name, value in settings.items():
            jax.config.update(name, value)
    else:
        for name, value in settings.items():
            os.environ.setdefault(name.upper(), str(value))
