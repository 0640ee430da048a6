"""kill -9 at random moments loses nothing: a world finishes byte-identical, training resumes with the same losses.

The killed processes are real subprocesses (`python -m terrain_gan.cli`, or a script), never forks of this
one: forking a process that has loaded JAX can deadlock.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, assert_same_weights

from terrain_gan import config
from terrain_gan.cli import main
from terrain_gan.train import checkpoint
from terrain_gan.train import loop as train_loop

WORLD = ["world", "--seed", "3", "--tiles", "3x2", "--tile-size", "33", "--formats", "png16,npy,glb,unity"]


def _snapshot(folder: Path) -> dict:
    """{relative path: sha256} of every file under `folder`, hidden ones included."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _records(out: Path) -> int:
    return len(list((out / ".tiles").glob("*.json"))) if (out / ".tiles").is_dir() else 0


def _kill_when(cmd: list[str], tiles_done: int, delay_s: float) -> bool:
    """Starts `cmd`, kill -9s it `delay_s` after `tiles_done` tile records exist; False if it finished first."""
    out = Path(cmd[cmd.index("--out") + 1])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and not ((out / "manifest.json").exists() and _records(out) >= tiles_done):
        time.sleep(0.005)
    time.sleep(delay_s)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    return proc.wait() == -signal.SIGKILL


def test_world_killed_at_random_moments_finishes_byte_identical(smoke_weights, tmp_path):
    """Killed three times mid-run (in another process), then re-run: every file equals an uninterrupted run's."""
    argv = WORLD + ["--model", str(smoke_weights)]
    reference = tmp_path / "reference"
    assert main(argv + ["--out", str(reference)]) == 0
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "terrain_gan.cli", *argv, "--out", str(out)]
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    moments = sorted((rng.randrange(6), rng.uniform(0.0, 0.2)) for _ in range(3))
    killed = [_kill_when(cmd, n, delay) for n, delay in moments]
    assert any(killed), f"no run was killed (moments {moments}, seed {seed})"
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    assert _snapshot(out) == _snapshot(reference), f"kill moments {moments} (random seed {seed})"


def test_world_killed_while_writing_a_tile_leaves_whole_files(smoke_weights, tmp_path):
    """A kill between a tile's temporary files and their renames: old files or new ones, never half of one."""
    out = tmp_path / "w"
    script = ("import os, signal, sys; from terrain_gan import fileio; from terrain_gan.world import batch; from terrain_gan.cli import main\n"
              "real = os.replace\n"
              "def dying(src, dst):\n"
              "    if str(dst).endswith('tile_1_0.png'): os.kill(os.getpid(), signal.SIGKILL)\n"
              "    real(src, dst)\n"
              "fileio.os.replace = dying\n"
              "sys.exit(main(sys.argv[1:]))\n")
    argv = WORLD + ["--model", str(smoke_weights), "--out", str(out)]
    assert subprocess.run([sys.executable, "-c", script, *argv], capture_output=True).returncode == -signal.SIGKILL
    assert list(out.glob(".tile_1_0*.part*"))  # the killed writer's temporaries are there ...
    assert not (out / "tile_1_0.png").exists() and not (out / ".tiles" / "1_0.json").exists()
    assert main(argv) == 0
    assert not list(out.rglob("*.part*"))  # ... and the re-run cleans them up
    assert json.loads((out / "manifest.json").read_text())["tiles_done"] == 6


_KILL_MID_CHECKPOINT = """
import io, os, signal, sys
import numpy as np
from terrain_gan import config
from terrain_gan.train import checkpoint
from terrain_gan.train import step as train

cfg, work = config.load(sys.argv[1]), sys.argv[2]
run = train.setup(cfg, work)  # restores the step-2 checkpoint
real_savez = np.savez

def dying_savez(f, **arrays):
    buf = io.BytesIO()
    real_savez(buf, **arrays)
    f.write(buf.getvalue()[: buf.tell() // 2])  # half a checkpoint on disk, then the power goes
    f.flush()
    os.fsync(f.fileno())
    os.kill(os.getpid(), signal.SIGKILL)

np.savez = dying_savez
checkpoint.save(os.path.join(work, "ckpt_000004.npz"), checkpoint.state_of(run.gan), dict(step=4))
"""


def _losses(path: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in path.read_text().splitlines()]


def test_training_killed_mid_checkpoint_resumes_with_the_same_losses(smoke_weights, tmp_path):
    """Killed while writing step 4's checkpoint: step 2's loads, and the resumed run logs the same losses and
    ends with the same weights as the uninterrupted smoke run (the data order is a function of the step)."""
    straight = smoke_weights.parent
    work = tmp_path / "run"
    shutil.copytree(straight, work)
    for name in ("ckpt_000004.npz", "weights.npz", "samples_000004.png"):  # the state when ckpt 2 was written
        (work / name).unlink()
    (work / "metrics.jsonl").write_text((straight / "metrics.jsonl").read_text().splitlines()[0] + "\n")
    (work / "quality.jsonl").write_text((straight / "quality.jsonl").read_text().splitlines()[0] + "\n")
    cfg_path = f"{REPO}/configs/smoke.toml"
    r = subprocess.run([sys.executable, "-c", _KILL_MID_CHECKPOINT, cfg_path, str(work)], capture_output=True)
    assert r.returncode == -signal.SIGKILL, r.stderr.decode()[-2000:]
    assert list(work.glob(".ckpt_000004.npz*.part*")) and not (work / "ckpt_000004.npz").exists()
    last = checkpoint.latest(work)
    assert last.name == "ckpt_000002.npz" and checkpoint.read_meta(last)["step"] == 2
    train_loop.run(config.load(cfg_path), work, quiet=True)
    assert not list(work.glob(".*.part*"))  # the killed writer's half checkpoint is cleaned up
    assert _losses(work / "metrics.jsonl") == _losses(straight / "metrics.jsonl")
    assert_same_weights(work / "weights.npz", smoke_weights)
