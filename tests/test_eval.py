"""`terrain-gan eval`: the metrics table tells real from fake where it should, and the CLI writes it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from terrain_gan.cli import main
from terrain_gan.eval import evaluate


@pytest.fixture(scope="module")
def rows(smoke_weights):
    return {r.name: r for r in evaluate.evaluate([str(smoke_weights)], n=400, c2st_steps=150)}


def test_the_floor_is_near_chance_and_fbm_is_told_apart(rows):
    """The two-sample classifier must fail on real-vs-real and succeed on matched fBm, or it measures nothing."""
    assert rows["real vs real (random draw)"].c2st < 0.62
    assert rows["fBm (matched spectrum)"].c2st > 0.85
    region = rows["real A vs real B (regions)"]
    assert region.c2st > 0.6  # different landscapes are told apart too: why it is only a floor by region


def test_distances_are_zero_for_the_reference_and_positive_otherwise(rows):
    ref = rows["real (reference)"]
    assert (ref.slope_w1_deg, ref.relief_w1_m, ref.swd_x1e3) == (0.0, 0.0, 0.0) and np.isnan(ref.c2st)
    assert -4.5 < ref.spectral_slope < -2.0  # real terrain's spectrum over 360 m .. 1.9 km wavelengths
    for name, row in rows.items():
        if name != "real (reference)":
            assert row.slope_w1_deg > 0 and row.relief_w1_m > 0 and row.swd_x1e3 > 0, name
    # the untrained smoke model is far from real terrain: larger slope distance than a second real draw
    smoke = next(r for n, r in rows.items() if n.endswith("weights.npz"))
    assert smoke.slope_w1_deg > rows["real vs real (random draw)"].slope_w1_deg


def test_cli_prints_and_writes_the_table(tmp_path, smoke_weights, capsys):
    out = tmp_path / "eval.md"
    assert main(["eval", str(smoke_weights), "--n", "40", "--c2st-steps", "5", "--no-baselines",
                 "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].startswith("| set") and str(smoke_weights) in table
    assert out.read_text().strip() == table.strip()
    (row,) = json.loads(out.with_suffix(".json").read_text())
    assert set(row) == {"name", "spectral_slope", "slope_w1_deg", "relief_w1_m", "swd_x1e3", "pit_fraction", "c2st"}


@pytest.mark.parametrize("args, message", [(["--n", "5"], "--n must be at least 20"),
                                           (["missing.npz"], "weights file not found"),
                                           (["--out", "/nonexistent/x.md"], "does not exist")])
def test_bad_input_is_one_line(capsys, args, message):
    assert main(["eval", "--no-baselines"] + args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
