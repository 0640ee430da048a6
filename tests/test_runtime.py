"""terrain_gan.runtime: the XLA:CPU convolution flag and the persistent compilation cache, in fresh processes."""

import json
import os
import subprocess
import sys

from terrain_gan import runtime

_SETTINGS = ("import os, json, terrain_gan; print(json.dumps({k: os.environ.get(k) for k in "
             "('XLA_FLAGS', 'JAX_COMPILATION_CACHE_DIR', 'JAX_COMPILATION_CACHE_MAX_SIZE', "
             "'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS')}))")

# A 3x3 conv of the shape XLA:CPU hands to YNNPACK by default (32 -> 16 channels on a 262^2 map).
_CONV_HLO = """
import terrain_gan, jax, jax.numpy as jnp
conv = lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
print("ynn" if "ynn_fusion" in jax.jit(conv).lower(jnp.ones((1, 262, 262, 32)), jnp.ones((3, 3, 32, 16))).compile().as_text()
      else "xla")
"""


def _run(code, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_", "JAX_", "TERRAIN_GAN_"))}
    out = subprocess.run([sys.executable, "-c", code], env=dict(base, **env), capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().splitlines()[-1]


def test_import_sets_the_conv_flag_and_a_bounded_cache_under_xdg(tmp_path):
    got = json.loads(_run(_SETTINGS, XDG_CACHE_HOME=str(tmp_path)))
    assert got["XLA_FLAGS"] == runtime.CONV_FLAG
    assert got["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "terrain_gan" / "jax")
    assert int(got["JAX_COMPILATION_CACHE_MAX_SIZE"]) > 0  # bounded: JAX locks reads and writes
    # a map's small programs (0.1-0.5 s to compile) are kept, single eager operations are not
    assert 0.0 < float(got["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) <= 0.1


def test_the_users_own_settings_win(tmp_path):
    mine = "--xla_cpu_experimental_ynn_fusion_type=dot,reduce --xla_cpu_enable_fast_math=false"
    got = json.loads(_run(_SETTINGS, XLA_FLAGS=mine, JAX_COMPILATION_CACHE_DIR=str(tmp_path)))
    assert got["XLA_FLAGS"] == mine
    assert got["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path)
    assert got["JAX_COMPILATION_CACHE_MAX_SIZE"] is None
    assert json.loads(_run(_SETTINGS, TERRAIN_GAN_CACHE_DIR="off"))["JAX_COMPILATION_CACHE_DIR"] is None


def test_the_flag_keeps_convolutions_on_xlas_own_path():
    """Without the flag this jaxlib fuses the conv into YNNPACK (the slow path); with it, it does not."""
    assert _run(_CONV_HLO) == "xla"
    assert _run(_CONV_HLO, TERRAIN_GAN_XLA_DEFAULT_CONV="1") == "ynn"


def test_a_cached_program_makes_the_same_bytes_as_a_fresh_compile(tmp_path):
    cache = tmp_path / "cache"
    outs = []
    for i, where in enumerate([str(cache), str(cache), "off"]):
        out = tmp_path / f"t{i}.png"
        subprocess.run([sys.executable, "-m", "terrain_gan.cli", "generate", "--seed", "5", "--size", "65",
                        "--out", str(out)], env=dict(os.environ, TERRAIN_GAN_CACHE_DIR=where), check=True,
                       capture_output=True)
        outs.append(out.read_bytes())
        if i == 0:
            assert any(p.name.endswith("-cache") for p in cache.iterdir()), sorted(cache.iterdir())
    assert outs[0] == outs[1] == outs[2]
