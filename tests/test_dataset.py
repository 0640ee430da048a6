"""Dataset build, load, window sampling and the `dataset` CLI, on cuts of real DEMs and brute-force references."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from terrain_gan.cli import main
from terrain_gan.dataset import windows as dw
from terrain_gan.dataset.build import build
from terrain_gan.dataset.core import FORMAT_VERSION, Dataset, compute_stats, load_dataset
from terrain_gan.dem.core import read_dem
from terrain_gan.dem.resample import resample
from terrain_gan.errors import TerrainGanError

FIX = Path(__file__).resolve().parent / "fixtures" / "dem"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The fixture folder built at 90 m with 16-cell windows."""
    out = tmp_path_factory.mktemp("ds") / "fix.npz"
    return out, build(FIX, out, cell_size_m=90.0, window=16)


def test_build_reports_every_file(built):
    out, s = built
    status = {Path(r.path).name: (r.status, r.reason) for r in s["files"]}
    used = {n for n, (st, _) in status.items() if st == "used"}
    assert used == {"everest_cut.tif", "mandakini_cut.bil", "mega_divide_cut.asc", "rainier_cut16.png",
                    "jacksboro_cut.npz", "N38W028.SRTMGL3.hgt.zip"}
    assert status["rainier_cut8.png"] == ("skipped", "PNG is 8-bit; heightmaps need 16-bit grayscale")
    assert status["bigtujunga_cut.tif"] == ("skipped", "smaller than a 16-cell window after resampling (13x16)")
    assert status["sainthelens_cut.dem"][0] == "skipped" and "(154x4)" in status["sainthelens_cut.dem"][1]
    assert {n for n, (st, _) in status.items() if st == "ignored"} == {
        "README.md", "make_fixtures.py", "mandakini_cut.hdr", "rainier_cut16.json"}
    assert s["regions"] == 6 and s["bytes"] == out.stat().st_size
    text = Path(s["attribution"]).read_text()
    assert all(name in text for name in used) and "rainier_cut8.png: PNG is 8-bit" in text


def test_load_round_trips_within_quantum(built):
    out, s = built
    d = Dataset.load(out)
    assert d.names[:2] == ["N38W028.SRTMGL3", "everest_cut"] and d.sources[1] == "everest_cut.tif"
    ref = resample(read_dem(FIX / "everest_cut.tif"), 90.0).height
    got = d.heights[1]
    assert got.shape == ref.shape == (41, 45)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    assert np.nanmax(np.abs(got - ref)) <= 0.125 + 1e-3  # half the 0.25 m quantum (float32 rounding aside)
    counts = {Path(r.path).name: r.windows for r in s["files"] if r.status == "used"}
    assert dict(zip(d.sources, d.window_counts().tolist())) == counts
    assert (d.stats.height_mean_m, d.stats.height_std_m, d.stats.grad_std) == (
        s["height_mean_m"], s["height_std_m"], s["grad_std"])


def test_load_rejects_foreign_and_old_files(built, tmp_path):
    out, _ = built
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(TerrainGanError, match=r"other\.npz: not a terrain_gan dataset"):
        Dataset.load(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(TerrainGanError, match=r"text\.npz: not a terrain_gan dataset"):
        Dataset.load(tmp_path / "text.npz")
    with np.load(out) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["format_version"] = np.int64(FORMAT_VERSION + 98)
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(TerrainGanError, match=rf"future\.npz: dataset format version {FORMAT_VERSION + 98}"):
        Dataset.load(tmp_path / "future.npz")
    with pytest.raises(TerrainGanError, match=r"missing\.npz: dataset file not found"):
        Dataset.load(tmp_path / "missing.npz")


def test_build_skips_too_coarse_and_fails_without_dems(tmp_path):
    s = build([FIX / "everest_cut.tif", FIX / "mega_divide_cut.asc"], tmp_path / "a.npz", cell_size_m=40.0,
              window=16)
    reasons = {Path(r.path).name: r.reason for r in s["files"]}
    assert reasons["everest_cut.tif"].startswith("too coarse: 92 m cells need x2.31 upsampling")
    assert s["regions"] == 1
    (tmp_path / "LICENSE.txt").write_text("MIT")
    with pytest.raises(TerrainGanError, match=r"b\.npz: none of the 1 input files"):
        build(tmp_path / "LICENSE.txt", tmp_path / "b.npz")


# ---- windows: vectorised code against brute force --------------------------------------------


def _terrain(rng, shape=(23, 19)):
    """Rough random terrain with a void patch and a dead-flat patch."""
    h = np.cumsum(rng.normal(0, 3, shape), axis=1).astype(np.float32) + 100
    h[2:5, 3:6] = np.nan
    h[12:, 10:] = 250.0
    return h


def _brute_valid(h, w, flat):
    out = np.zeros((h.shape[0] - w + 1, h.shape[1] - w + 1), bool)
    for y, x in itertools.product(range(out.shape[0]), range(out.shape[1])):
        win = h[y: y + w, x: x + w]
        out[y, x] = np.isfinite(win).all() and win.max() - win.min() >= flat
    return out


@pytest.mark.parametrize("w", [2, 3, 4, 7, 8])
def test_valid_origins_and_coverage_match_brute_force(w):
    h = _terrain(np.random.default_rng(w))
    ok = dw.valid_origins(h, w, 5.0)
    np.testing.assert_array_equal(ok, _brute_valid(h, w, 5.0))
    assert 0 < ok.sum() < ok.size  # both kinds present, so the check has teeth
    cov = np.zeros(h.shape, bool)
    for y, x in zip(*np.nonzero(ok)):
        cov[y: y + w, x: x + w] = True
    np.testing.assert_array_equal(dw.covered_cells(ok, w), cov)


def test_stats_match_brute_force():
    rng = np.random.default_rng(3)
    hs = [_terrain(rng), _terrain(rng, (15, 30)) + 1000]
    s = compute_stats(hs, 6, 5.0)
    vals, diffs = [], []
    for h in hs:
        ok = _brute_valid(h, 6, 5.0)
        cov = np.zeros(h.shape, bool)
        for y, x in zip(*np.nonzero(ok)):
            cov[y: y + 6, x: x + 6] = True
        vals.append(h[cov])
        diffs += [(h[1:] - h[:-1])[cov[1:] & cov[:-1]], (h[:, 1:] - h[:, :-1])[cov[:, 1:] & cov[:, :-1]]]
    v, d = np.concatenate(vals).astype(np.float64), np.concatenate(diffs).astype(np.float64)
    assert s.height_mean_m == pytest.approx(v.mean()) and s.height_std_m == pytest.approx(v.std())
    assert s.grad_std == pytest.approx(d.std())


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(7)
    a, b = _terrain(rng), _terrain(rng, (20, 26)) + 10_000  # b's heights tell its windows apart
    return Dataset([a, b], ["a", "b"], ["a.tif", "b.tif"], cell_size_m=90.0, window=5)


def _dihedral(win):
    return [np.rot90(f, k) for f in (win, win[:, ::-1]) for k in range(4)]


def test_sample_windows_are_valid_windows_under_symmetries(small):
    truth = {}
    for i, h in enumerate(small.heights):
        for y, x in zip(*np.nonzero(_brute_valid(h, 5, 5.0))):
            truth[h[y: y + 5, x: x + 5].tobytes()] = i
    plain = small.sample_windows(300, rng=np.random.default_rng(0), augment=False)
    assert plain.shape == (300, 5, 5) and plain.dtype == np.float32
    assert all(w.tobytes() in truth for w in plain)
    aug = small.sample_windows(300, rng=np.random.default_rng(1))
    assert all(any(np.ascontiguousarray(t).tobytes() in truth for t in _dihedral(w)) for w in aug)
    kinds = {next(i for i, t in enumerate(_dihedral(w)) if np.ascontiguousarray(t).tobytes() in truth) for w in aug}
    assert kinds == set(range(8))  # all 4 rotations, with and without a flip, occur


def test_sampling_is_deterministic_and_weighted(small):
    one = small.sample_windows(64, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(one, small.sample_windows(64, rng=np.random.default_rng(42)))
    assert not np.array_equal(one, small.sample_windows(64, rng=np.random.default_rng(43)))
    many = small.sample_windows(4000, rng=np.random.default_rng(5), augment=False)
    counts = small.window_counts()
    p_b = counts[1] / counts.sum()
    frac_b = float((many.min(axis=(1, 2)) > 5000).mean())
    assert abs(frac_b - p_b) < 4 * np.sqrt(p_b * (1 - p_b) / 4000)
    only_b = small.sample_windows(50, rng=np.random.default_rng(0), regions=["b"])
    assert (only_b > 5000).all()
    with pytest.raises(TerrainGanError, match="unknown region"):
        small.sample_windows(1, rng=np.random.default_rng(0), regions=["zz"])


def test_eval_windows_and_grid_are_fixed(small):
    np.testing.assert_array_equal(small.eval_windows(20, seed=3), small.eval_windows(20, seed=3))
    grid = small.windows_grid()
    expect = sum(int(_brute_valid(h, 5, 5.0)[::5, ::5].sum()) for h in small.heights)
    assert grid.shape == (expect, 5, 5) and np.isfinite(grid).all()


def test_split_is_disjoint_and_shares_normalisation(small):
    a, b = small.split()
    assert set(a.names).isdisjoint(b.names) and set(a.names) | set(b.names) == {"a", "b"}
    assert a.stats == b.stats == small.stats
    x = a.normalise(np.float32(small.stats.height_mean_m))
    assert x == 0.0 and b.denormalise(a.normalise(1234.5)) == pytest.approx(1234.5)
    w = small.sample_windows(8, rng=np.random.default_rng(0))
    np.testing.assert_allclose(small.denormalise(small.normalise(w)), w, atol=1e-3)


def test_builtin_dataset():
    d = load_dataset("builtin")
    assert len(d.names) >= 10 and d.cell_size_m == 90.0 and d.window == 64
    assert (d.window_counts() > 0).all()
    assert not any("/" in s and s.startswith("/") for s in d.sources)  # no absolute build-machine paths
    assert 500 < d.stats.height_mean_m < 2000 and 300 < d.stats.height_std_m < 2000 and 5 < d.stats.grad_std < 60
    w = d.sample_windows(32, rng=np.random.default_rng(0))
    assert w.shape == (32, 64, 64) and np.isfinite(w).all()
    assert ((w.max(axis=(1, 2)) - w.min(axis=(1, 2))) >= d.flat_relief_m).all()
    a, b = d.split()
    assert set(a.names).isdisjoint(b.names) and len(a.names) + len(b.names) == len(d.names)


def test_cli_build_and_info(built, tmp_path, capsys):
    out = tmp_path / "c.npz"
    assert main(["dataset", "build", str(FIX), "--out", str(out), "--window", "16"]) == 0
    text = capsys.readouterr().out
    assert "rainier_cut8.png" in text and "skipped: PNG is 8-bit" in text and "6 regions" in text
    assert main(["dataset", "info", str(out)]) == 0
    assert "everest_cut.tif" in capsys.readouterr().out
    assert main(["dataset", "info", str(tmp_path / "nope.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.npz: dataset file not found" in err
