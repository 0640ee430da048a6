"""`terrain-gan eval --large`: region halves, the 360 m view, drainage rows, the table and the CLI's checks."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from terrain_gan.cli import main
from terrain_gan.dataset.core import Dataset, load_dataset
from terrain_gan.errors import TerrainGanError
from terrain_gan.eval import large as el


@pytest.mark.parametrize("shape", [(7, 7), (7, 12), (12, 7), (1, 9), (301, 300), (2, 1)])
def test_halves_cover_each_cell_exactly_once(shape):
    """The two halves are the region cut across its longer axis: together every cell, once, in order."""
    h = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    a, b = el.halves(h)
    axis = int(shape[1] > shape[0])
    assert np.array_equal(np.concatenate([a, b], axis=axis), h)
    assert a.size + b.size == h.size and not set(a.ravel().tolist()) & set(b.ravel().tolist())
    assert a.shape[1 - axis] == b.shape[1 - axis] == shape[1 - axis]
    assert a.shape[axis] == shape[axis] // 2 and b.shape[axis] - a.shape[axis] in (0, 1)  # halves, not a sliver


def test_half_datasets_split_every_region_and_share_statistics():
    rng = np.random.default_rng(0)
    regions = [rng.normal(size=s).astype(np.float32) * 50 for s in [(40, 90), (70, 30)]]
    data = Dataset(regions, ["wide", "tall"], ["w.tif", "t.tif"], cell_size_m=90.0, window=8)
    first, second = el.half_datasets(data)
    for h, a, b in zip(data.heights, first.heights, second.heights):
        assert np.array_equal(np.concatenate([a, b], axis=int(h.shape[1] > h.shape[0])), h)
    assert first.names == second.names == data.names and first.stats == second.stats == data.stats


def test_coarse_view_is_the_block_mean_and_keeps_each_window_mean():
    rng = np.random.default_rng(1)
    small = rng.integers(0, 1000, size=(3, 64, 64)).astype(np.float32)
    assert np.array_equal(el.coarse_view(np.kron(small, np.ones((4, 4), np.float32))), small)  # blocks are exact
    w = (rng.normal(size=(5, 256, 256)) * 300 + 1500).astype(np.float32)
    view = el.coarse_view(w)
    assert view.shape == (5, 64, 64) and view.dtype == np.float32
    np.testing.assert_allclose(view.mean(axis=(1, 2), dtype=np.float64), w.mean(axis=(1, 2), dtype=np.float64),
                               rtol=1e-6)
    with pytest.raises(TerrainGanError, match="4x4 blocks"):
        el.coarse_view(w[:, :255, :255])


@pytest.fixture(scope="module")
def real_windows():
    return load_dataset("builtin").eval_windows(6, seed=0, window=el.WINDOW)


def test_fbm_drains_worse_than_real_terrain(real_windows):
    """Spectrally matched fBm is full of closed pits that real land drains: the column must show it."""
    pytest.importorskip("pyflwdir")
    maps, windows = el.fbm_sets(real_windows, n=4, map_seeds=(0, 1), map_size=300, cell_size_m=90.0, seed=0)
    assert [m.shape for m in maps] == [(300, 300)] * 2 and windows.shape == (4, 256, 256)
    real = el.drainage_row("real", list(real_windows), 90.0)
    noise = el.drainage_row("fBm", list(windows), 90.0)
    assert real.maps == real.windows == 6 and noise.windows == 4
    assert noise.depression_fraction > 3 * real.depression_fraction
    assert 0.2 < real.theta < 0.8 and 0.3 < real.hack_h < 0.8  # real rivers' range


def _crops(names_and_slices):
    data = load_dataset("builtin")
    heights = [data.heights[data.names.index(n)][s] for n, s in names_and_slices]
    return Dataset(heights, [n for n, _ in names_and_slices], ["builtin"] * len(heights), cell_size_m=90.0,
                   window=64)


def test_table_rows_and_columns():
    pytest.importorskip("pyflwdir")
    # void-free crops: every half of a training region holds a 256² window, and so does the held-out one
    train = _crops([("n07_w006_3arc_v2", np.s_[:300, :520]), ("n07_w006_3arc_v2", np.s_[600:1120, 700:1000])])
    held = _crops([("hi", np.s_[:300, :300])])
    rows = el.evaluate_large((), dataset=train, holdout=held, map_seeds=(3,), map_size=256, n=24, c2st_steps=3)
    assert [r.name for r in rows] == ["real (training regions)", "real A vs real B (halves)",
                                      "real (held-out regions)", "fBm (matched spectrum)"]
    by = {r.name: r for r in rows}
    assert by["real (training regions)"].maps == 2 and by["real (training regions)"].windows == 4  # 1x2 + 2x1
    assert by["real (held-out regions)"].windows == 1 and by["fBm (matched spectrum)"].windows == 1
    assert np.isnan(by["real (training regions)"].c2st) and by["real A vs real B (halves)"].maps is None
    assert all(0.0 <= r.c2st <= 1.0 for r in rows[1:])
    lines = el.format_table(rows).splitlines()
    assert len(lines) == 2 + len(rows) and lines[0].split("|")[1].strip() == "set"
    assert all(line.count("|") == len(el.COLUMNS) + 1 for line in lines)
    halves_row = by["real A vs real B (halves)"]
    assert [c.strip() for c in lines[3].split("|")[1:-1]] == [halves_row.name] + ["-"] * 5 + [f"{halves_row.c2st:.3f}"]


@pytest.mark.parametrize("args, message", [
    (["--map-size", "100"], "--map-size must be at least 256"),
    (["--large-n", "5"], "--large-n must be at least 20"),
    (["--map-seeds", "1,x"], "--map-seeds must be comma-separated integers"),
    (["--map-seeds", "-1"], "seed must be an integer from 0"),
    (["--large-dataset", "missing.npz"], "missing.npz: dataset file not found"),
    (["--figure", "out.jpg"], "--figure must be a .png file"),
    (["--figure", "/nonexistent/f.png"], "does not exist"),
])
def test_bad_large_options_are_one_line_before_any_work(capsys, args, message):
    assert main(["eval", "--no-baselines", "--large"] + args) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err and captured.out == ""


def test_missing_extra_names_it(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyflwdir", None)  # import pyflwdir now raises ImportError
    path = tmp_path / "regions.npz"
    path.write_bytes(b"")  # only its existence is checked before the extra is
    assert main(["eval", "--no-baselines", "--large", "--large-dataset", str(path), "--holdout", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'terrain-gan[eval]'" in err


def test_lattice_phase_profile_is_flat_for_stationary_terrain_and_finds_a_lattice():
    from terrain_gan.eval.metrics import lattice_phase_profile

    rng = np.random.default_rng(0)
    smooth = rng.normal(size=(8, 256, 256))
    for _ in range(3):  # a stationary, correlated field: box-blurred noise
        smooth = (smooth + np.roll(smooth, 1, 1) + np.roll(smooth, 1, 2)) / 3
    flat = lattice_phase_profile(smooth, 16)
    assert flat.shape == (16,) and abs(flat.mean() - 1) < 1e-9 and np.abs(flat - 1).max() < 0.03
    rough = smooth.copy()
    rough[:, :, ::16] += 0.3 * rng.normal(size=rough[:, :, ::16].shape)  # every 16th column rougher
    prof = lattice_phase_profile(rough, 16)
    assert prof[0] > 1.2 and prof[0] == prof.max()
