"""Faults that are not kill -9: a full disk, two runs on one world folder, SIGTERM or Ctrl-C in training.

A full disk is a real one as far as the process can tell: a wrapper script sets RLIMIT_FSIZE (`ulimit -f`)
with SIGXFSZ ignored, so the kernel fails write() with EFBIG, as it fails it with ENOSPC on a full disk.
The processes are real subprocesses (`python -c SCRIPT` or `python -m terrain_gan.cli`), never forks of
this one: forking a process that has loaded JAX can deadlock.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, assert_same_weights

from terrain_gan.cli import main
from terrain_gan.train import checkpoint
from terrain_gan.train import loop as train_loop

WORLD = ["world", "--seed", "3", "--tiles", "2x2", "--tile-size", "33", "--formats", "png16,npy"]

# argv: AFTER LIMIT terrain-gan arguments. The file-size limit LIMIT (bytes) starts once AFTER tile
# records have been renamed into place (0: from the start), as if the disk filled up then.
_FULL_AFTER = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead of the signal killing us
after, limit = int(sys.argv[1]), int(sys.argv[2])
def fill_disk():
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
real, records = os.replace, []
def counting(src, dst):
    real(src, dst)
    if os.sep + ".tiles" + os.sep in str(dst) and str(dst).endswith(".json"):
        records.append(dst)
        if len(records) == after:
            fill_disk()
os.replace = counting
if after == 0:
    fill_disk()
from terrain_gan.cli import main
sys.exit(main(sys.argv[3:]))
"""


def _snapshot(folder: Path) -> dict:
    """{relative path: sha256} of every file under `folder`, hidden ones included."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _full_disk(after: int, limit: int, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _FULL_AFTER, str(after), str(limit), *argv],
                          capture_output=True, text=True)


def _one_error_line(r: subprocess.CompletedProcess, path_inside: Path) -> str:
    """The run's one `terrain-gan: error:` line, which names a full disk and a file under `path_inside`."""
    assert r.returncode == 2, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("terrain-gan:")]
    assert len(lines) == 1 and lines[0].startswith("terrain-gan: error: disk full or file too large writing "), lines
    assert str(path_inside) in lines[0] and "(File too large)" in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def reference_world(smoke_weights, tmp_path_factory) -> tuple[list[str], dict]:
    """WORLD's argv (smoke model) and the snapshot of its folder made in one uninterrupted run."""
    argv = WORLD + ["--model", str(smoke_weights)]
    out = tmp_path_factory.mktemp("reference") / "w"
    assert main(argv + ["--out", str(out)]) == 0
    return argv, _snapshot(out)


@pytest.mark.parametrize("after, limit", [(2, 1000), (4, 1000)], ids=["mid-world", "at-the-manifest"])
def test_world_on_a_full_disk_fails_in_one_line_and_a_rerun_is_byte_identical(reference_world, tmp_path,
                                                                              after, limit):
    """The disk fills after 2 tiles (a tile's files fail mid-write) or after all 4 (the final manifest
    fails): one error line, exit 2, no partial file; every file left is whole; a re-run completes the
    world byte-identical to an uninterrupted run."""
    argv, reference = reference_world
    out = tmp_path / "w"
    _one_error_line(_full_disk(after, limit, argv + ["--out", str(out)]), out)
    left = _snapshot(out)
    assert not [p for p in left if ".part" in p]
    assert sum(p.startswith(".tiles/") and p.endswith(".json") for p in left) == after
    json.loads((out / "manifest.json").read_text())  # the manifest is the old one, whole
    assert {p: h for p, h in left.items() if reference.get(p) != h} == {"manifest.json": left["manifest.json"]}
    assert main(argv + ["--out", str(out)]) == 0
    assert _snapshot(out) == reference


def test_generate_and_export_on_a_full_disk_write_nothing_and_a_rerun_is_identical(smoke_weights, tmp_path):
    """The largest file of each run exceeds the limit, after the smaller ones were written to temporaries:
    one error line, exit 2, no file at all in the output folder; re-run, the files equal an unlimited run's."""
    generate = ["generate", "--seed", "5", "--size", "65", "--also", "npy,preview",
                "--model", str(smoke_weights)]
    ref, out = tmp_path / "ref", tmp_path / "out"
    ref.mkdir(), out.mkdir()
    assert main(generate + ["--out", str(ref / "t.png")]) == 0
    sizes = {p.name: p.stat().st_size for p in ref.iterdir()}
    assert sizes["t.npy"] == max(sizes.values()) and sorted(sizes.values())[-2] < 10_000 < sizes["t.npy"]
    line = _one_error_line(_full_disk(0, 10_000, generate + ["--out", str(out / "t.png")]), out / "t.npy")
    assert list(out.iterdir()) == [], line
    assert main(generate + ["--out", str(out / "t.png")]) == 0
    assert _snapshot(out) == _snapshot(ref)

    export = ["export", str(ref / "t.png"), "--formats", "glb,obj,unity"]
    (ref / "e").mkdir(), (out / "e").mkdir()
    assert main(export + ["--out", str(ref / "e" / "t")]) == 0
    sizes = {p.name: p.stat().st_size for p in (ref / "e").iterdir()}
    limit = sorted(sizes.values())[-2] + 1  # every file but the largest fits
    _one_error_line(_full_disk(0, limit, export + ["--out", str(out / "e" / "t")]), out / "e")
    assert list((out / "e").iterdir()) == []
    assert main(export + ["--out", str(out / "e" / "t")]) == 0
    assert _snapshot(out / "e") == _snapshot(ref / "e")


# argv: GATE terrain-gan arguments. Tile (0, 0) is held (its claim taken) until the file GATE.go exists;
# GATE.inside tells the test it got there.
_GATED = """
import os, sys, time
from terrain_gan.world import batch
from terrain_gan.cli import main
gate, real = sys.argv[1], batch.encode_tile
def gated(world, job, x, z):
    if (x, z) == (0, 0):
        open(gate + ".inside", "w").close()
        while not os.path.exists(gate + ".go"):
            time.sleep(0.01)
    return real(world, job, x, z)
batch.encode_tile = gated
sys.exit(main(sys.argv[2:]))
"""


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    with open(f"{log}.out", "w") as out, open(f"{log}.err", "w") as err:
        return subprocess.Popen(cmd, stdout=out, stderr=err)


def _wait_until(done, *procs: subprocess.Popen, timeout_s: float = 300) -> None:
    t0 = time.monotonic()
    while not done():
        assert all(p.poll() is None for p in procs), "a run ended early"
        assert time.monotonic() - t0 < timeout_s, "timed out"
        time.sleep(0.02)


def _holder_and_waiter(argv: list[str], out: Path, tmp: Path) -> tuple[subprocess.Popen, subprocess.Popen]:
    """Run A, holding tile (0, 0), and run B, started once A holds it, now waiting for it (B made the rest)."""
    gate = tmp / "gate"
    a = _start([sys.executable, "-c", _GATED, str(gate), *argv, "--out", str(out)], tmp / "a")
    _wait_until(Path(f"{gate}.inside").exists, a)
    b = _start([sys.executable, "-m", "terrain_gan.cli", *argv, "--out", str(out)], tmp / "b")
    _wait_until(lambda: f"another terrain-gan world run holds {out}; waiting" in Path(f"{tmp}/b.err").read_text(),
                a, b)
    return a, b


def test_two_world_runs_on_one_folder_share_the_tiles(reference_world, tmp_path):
    """B waits for the tile A is making and makes only the other three; A then finds them made. Each tile is
    made exactly once (the runs' own counts), and the folder equals a single run's byte for byte."""
    argv, reference = reference_world
    out = tmp_path / "w"
    a, b = _holder_and_waiter(argv, out, tmp_path)
    (tmp_path / "gate.go").touch()
    assert a.wait(timeout=300) == 0 and b.wait(timeout=300) == 0, (tmp_path / "a.err").read_text()[-2000:]
    assert f"{out}: 1 tiles made, 3 already finished" in (tmp_path / "a.out").read_text()
    assert f"{out}: 3 tiles made, 1 already finished" in (tmp_path / "b.out").read_text()
    assert _snapshot(out) == reference


def test_world_run_killed_while_holding_a_tile_is_taken_over(reference_world, tmp_path):
    """A is kill -9ed while making tile (0, 0): the kernel drops its claim, the waiting B makes that tile
    too and the folder equals a single run's byte for byte."""
    argv, reference = reference_world
    out = tmp_path / "w"
    a, b = _holder_and_waiter(argv, out, tmp_path)
    a.send_signal(signal.SIGKILL)
    assert a.wait(timeout=60) == -signal.SIGKILL
    assert b.wait(timeout=300) == 0, (tmp_path / "b.err").read_text()[-2000:]
    assert f"{out}: 4 tiles made, 0 already finished" in (tmp_path / "b.out").read_text()
    assert _snapshot(out) == reference


def _losses(path: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in path.read_text().splitlines()]


def test_training_stopped_by_sigterm_and_ctrl_c_checkpoints_and_resumes_with_the_same_losses(
        smoke_weights, tmp_path, monkeypatch, capsys):
    """`terrain-gan train` stopped twice, then finished: a real SIGTERM sent from outside once its workdir
    exists (another process; it stops at step 0 or 1, no checkpoint step), then Ctrl-C (SIGINT) delivered
    during step 1 (in-process; step 2 is a checkpoint step). Each stop finishes the step under way,
    checkpoints the step reached (once: step 2's is not written twice), prints one line naming that
    checkpoint and exits 128 + the signal. The last run logs the same losses and ends with the same
    weights as the uninterrupted smoke run."""
    straight, work = smoke_weights.parent, tmp_path / "run"
    argv = ["train", "--config", f"{REPO}/configs/smoke.toml", "--workdir", str(work)]

    proc = _start([sys.executable, "-m", "terrain_gan.cli", *argv], tmp_path / "t")
    _wait_until((work / "config.json").exists, proc)  # the handlers are in place before config.json is written
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=600) == 128 + signal.SIGTERM
    err = (tmp_path / "t.err").read_text()
    lines = [line for line in err.splitlines() if line.startswith("terrain-gan:")]
    assert len(lines) == 1 and "Traceback" not in err, err[-3000:]
    step = checkpoint.read_meta(checkpoint.latest(work))["step"]
    assert step <= 1 and lines == [f"terrain-gan: interrupted: SIGTERM at step {step}; checkpoint "
                                   f"{work / f'ckpt_{step:06d}.npz'} (run the same command to resume)"]

    real_step, real_save, saved = train_loop.train_step, checkpoint.save, []

    def signalled(gan, batch, key, step, **kw):
        metrics = real_step(gan, batch, key, step, **kw)
        if int(step) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # delivered mid-step: the handler only takes note
        return metrics

    monkeypatch.setattr(train_loop, "train_step", signalled)
    monkeypatch.setattr(checkpoint, "save", lambda path, *a: saved.append(Path(path).name) or real_save(path, *a))
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    capsys.readouterr()
    assert main(argv) == 128 + signal.SIGINT
    ckpt = work / "ckpt_000002.npz"
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("terrain-gan:")]
    assert lines == [f"terrain-gan: interrupted: SIGINT at step 2; checkpoint {ckpt} (run the same command to resume)"]
    assert checkpoint.read_meta(ckpt)["step"] == 2 and saved == [ckpt.name]
    assert not (work / "weights.npz").exists()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers  # restored
    monkeypatch.undo()

    assert main(argv) == 0
    assert _losses(work / "metrics.jsonl") == _losses(straight / "metrics.jsonl")
    assert_same_weights(work / "weights.npz", smoke_weights)
