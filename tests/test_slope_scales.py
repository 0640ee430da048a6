"""benchmarks/slope_scales.py measures what it says: a ramp's slope at both scales, and relief under
360 m that only the finer scale sees."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from slope_scales import row, window_slopes  # noqa: E402


def test_a_ramp_has_its_slope_at_both_scales():
    ramp = np.broadcast_to(np.arange(256.0) * 90.0 * np.tan(np.radians(20.0)), (2, 256, 256))
    np.testing.assert_allclose(window_slopes(ramp, 90.0), 20.0, rtol=1e-9)
    cells = row("ramp", ramp[:, :64, :64], ramp, 90.0).strip("| ").split(" | ")
    assert cells[0] == "ramp" and all(float(c) == pytest.approx(20.0, abs=0.01) for c in cells[1:-1])
    assert float(cells[-1]) == pytest.approx(1.0, abs=0.01)


def test_bumps_under_360_m_steepen_only_the_fine_scale():
    # long smooth waves, then the same with a one-cell texture of 20 m that 4 x 4 block means average away
    x = np.arange(256.0)
    waves = np.broadcast_to(300.0 * np.sin(2 * np.pi * np.add.outer(x, x) / 128.0), (4, 256, 256))
    texture = np.random.default_rng(0).normal(0.0, 20.0, (4, 256, 256))
    ratio = lambda h: float(row("h", h[:, :64, :64], h, 90.0).split(" | ")[-1].strip(" |"))  # noqa: E731
    assert ratio(waves) == pytest.approx(1.0, abs=0.1)
    assert ratio(waves + texture) > 1.5
