"""`terrain-gan generate` and `terrain_gan.generate`: files in metres that read back, identical bytes for
a seed, any size, one world behind every size, and bad input as one line with nothing written."""

from __future__ import annotations

import json
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

import exporters
import terrain_gan
from terrain_gan.cli import main


@pytest.fixture(scope="module")
def made(tmp_path_factory, smoke_weights):
    """One CLI run: t.png, t.json, t.npy, t.tif and t_preview.png for seed 42, 129 samples."""
    out = tmp_path_factory.mktemp("gen") / "t.png"
    assert main(["generate", "--seed", "42", "--size", "129", "--out", str(out), "--model", str(smoke_weights),
                 "--also", "npy,tif,preview"]) == 0
    return out


def test_files_read_back_in_metres(made, smoke_weights):
    side = json.loads(made.with_suffix(".json").read_text())
    h = np.load(made.with_suffix(".npy"))
    api = terrain_gan.generate(seed=42, size=129, model=smoke_weights)
    np.testing.assert_array_equal(h, api.height)  # the CLI writes exactly what the API makes
    assert (side["seed"], side["rows"], side["columns"], side["cell_size_m"]) == (42, 129, 129, 90.0)
    assert side["model_id"] == api.model_id and side["height_units"] == "m"
    assert (side["min_height_m"], side["max_height_m"]) == (float(h.min()), float(h.max()))
    png = iio.imread(made)
    assert png.dtype == np.uint16 and png.shape == (129, 129) and png.min() == 0 and png.max() == 65535
    back, _ = exporters.read_heightmap(made)
    # within half a 16-bit step, plus the float32 rounding of the metres read back
    assert np.abs(back - h).max() <= side["png16"]["height_step_m"] / 2 + np.spacing(np.float32(h.max()))
    tif, meta = exporters.read_heightmap(made.with_suffix(".tif"))
    np.testing.assert_array_equal(tif, h)
    assert meta["cell_size_m"] == 90.0
    preview = iio.imread(made.with_name("t_preview.png"))
    assert preview.shape == (129, 129, 3) and preview.dtype == np.uint8 and preview.std() > 0


def test_same_seed_same_bytes_in_another_process(made, smoke_weights, tmp_path):
    out = tmp_path / "again.png"
    cmd = [sys.executable, "-m", "terrain_gan.cli", "generate", "--seed", "42", "--size", "129",
           "--out", str(out), "--model", str(smoke_weights)]
    subprocess.run(cmd, check=True, capture_output=True)
    assert out.read_bytes() == made.read_bytes()
    other = tmp_path / "other.png"
    assert main(["generate", "--seed", "43", "--size", "129", "--out", str(other), "--model", str(smoke_weights)]) == 0
    assert other.read_bytes() != made.read_bytes()


@pytest.mark.parametrize("size", [2, 33, 100, 257])
def test_every_size_is_a_window_of_one_world(smoke_weights, size):
    """A map of any size is the top-left of a larger one, bit for bit (so sizes never change the terrain)."""
    big = terrain_gan.generate(seed=5, size=300, model=smoke_weights).height
    small = terrain_gan.generate(seed=5, size=size, model=smoke_weights).height
    assert small.shape == (size, size)
    np.testing.assert_array_equal(small, big[:size, :size])


def test_api_size_may_be_rows_by_columns(smoke_weights):
    hm = terrain_gan.generate(seed=1, size=(40, 70), model=smoke_weights)
    assert hm.height.shape == (40, 70) and hm.height.dtype == np.float32 and np.isfinite(hm.height).all()


@pytest.mark.parametrize("args, message", [
    (["--size", "1"], "at least 2 samples"),
    (["--size", "100000"], "terrain-gan world"),
    (["--seed", "-1"], "seed must be an integer"),
    (["--also", "jpeg"], "unknown output 'jpeg'"),
    (["--model", "nonexistent"], "no shipped model of that name"),
    (["--model", "missing/weights.npz"], "weights file not found"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, smoke_weights, args, message):
    argv = ["generate", "--out", str(tmp_path / "t.png"), "--size", "65", "--model", str(smoke_weights)] + args
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("terrain-gan: error: ") and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_output_must_be_a_png_in_an_existing_folder(tmp_path, capsys, smoke_weights):
    for out, message in ((tmp_path / "t.tif", "must be a .png"), (tmp_path / "no" / "t.png", "does not exist")):
        assert main(["generate", "--out", str(out), "--model", str(smoke_weights)]) == 2
        assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
