"""Bad input, fed to the CLI: one line naming the problem, exit code 2, no traceback, nothing written.

The corpus is `tests/badinput/` (small files, see its README) plus cases generated here; property tests
fuzz the DEM readers and the argument parser.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from terrain_gan.cli import build_parser, main
from terrain_gan.dem.core import SUFFIXES, Dem, read_dem
from terrain_gan.errors import TerrainGanError
from terrain_gan.world import batch as world_batch

BAD = Path(__file__).parent / "badinput"
FIX = Path(__file__).parent / "fixtures" / "dem"


def _asc(path: Path, h: np.ndarray) -> None:
    rows = "\n".join(" ".join(f"{v:g}" for v in r) for r in h)
    path.write_text(f"ncols {h.shape[1]}\nnrows {h.shape[0]}\nxllcorner 0\nyllcorner 0\ncellsize 90\n"
                    f"NODATA_value -9999\n{rows}\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, smoke_weights):
    """tests/badinput/ plus the generated cases, in one folder."""
    c = tmp_path_factory.mktemp("corpus")
    for f in BAD.iterdir():
        shutil.copy(f, c / f.name)
    tif = (FIX / "everest_cut.tif").read_bytes()
    (c / "truncated.tif").write_bytes(tif[: len(tif) // 2])
    _asc(c / "void.asc", np.full((70, 70), -9999.0))
    _asc(c / "flat.asc", np.full((70, 70), 120.0))
    np.save(c / "void.npy", np.full((33, 33), np.nan, np.float32))
    np.save(c / "tiny.npy", np.arange(25, dtype=np.float32).reshape(5, 5))
    weights = smoke_weights.read_bytes()
    (c / "truncated_weights.npz").write_bytes(weights[: len(weights) // 2])
    other = c / "other_config.toml"  # smoke with another learning rate
    other.write_text((Path(REPO) / "configs" / "smoke.toml").read_text().replace("[train]\n", "[train]\nlr_g = 0.5\n"))
    shutil.copytree(smoke_weights.parent, c / "smoke_run")  # a workdir of the smoke config
    run = c / "smoke_run_truncated"
    shutil.copytree(smoke_weights.parent, run)
    ckpt = run / "ckpt_000004.npz"
    ckpt.write_bytes(ckpt.read_bytes()[:4000])
    (run / "weights.npz").unlink()
    (c / "a_file").write_text("not a folder")
    return c


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


CASES = {  # id: (argv with {c} = corpus folder, {w} = smoke weights, what the line must say)
    "truncated_geotiff": (["dataset", "build", "{c}/truncated.tif", "--out", "{c}/o.npz"], "truncated.tif: corrupt"),
    "corrupt_geotiff": (["dataset", "build", "{c}/corrupt.tif", "--out", "{c}/o.npz"], "corrupt.tif: corrupt"),
    "hgt_wrong_length": (["dataset", "build", "{c}/short.hgt", "--out", "{c}/o.npz"], "wrong length"),
    "envi_lying_header": (["dataset", "build", "{c}/lying.bil", "--out", "{c}/o.npz"], "file has 50 bytes"),
    "png_not_16_bit": (["dataset", "build", "{c}/gray8.png", "--out", "{c}/o.npz"], "PNG is 8-bit"),
    "all_void_dem": (["dataset", "build", "{c}/void.asc", "--out", "{c}/o.npz"], "every cell is void"),
    "constant_dem": (["dataset", "build", "{c}/flat.asc", "--out", "{c}/o.npz"], "relief"),
    "dem_smaller_than_window": (["dataset", "build", "{c}/small.asc", "--out", "{c}/o.npz"], "smaller than a 64"),
    "roughness_out_of_range": (["world", "--tiles", "2x2", "--tile-size", "33", "--model", "{w}", "--out", "{c}/w",
                                "--roughness", "2.5"], "roughness must be in [-2, 2], got 2.5"),
    "roughness_without_steering": (["world", "--tiles", "2x2", "--tile-size", "33", "--model", "{w}", "--out",
                                    "{c}/w", "--roughness=-1"], "has none (use relief"),
    "truncated_geotiff_guide": (["world", "--tiles", "2x2", "--tile-size", "33", "--model", "{w}", "--out",
                                 "{c}/w", "--guide", "{c}/truncated.tif"], "truncated.tif: corrupt"),
    "void_dem_export": (["export", "{c}/void.npy", "--cell-size", "30", "--out", "{c}/e"], "NaN"),
    "png_not_16_bit_export": (["export", "{c}/gray8.png", "--out", "{c}/e"], "gray8.png"),
    "unity_not_2n_plus_1": (["world", "--tiles", "2x2", "--tile-size", "49", "--formats", "unity", "--model",
                             "{w}", "--out", "{c}/w"], "2^n+1"),
    "unity_above_4097": (["generate", "--size", "8193", "--also", "unity", "--model", "{w}", "--out",
                          "{c}/t.png"], "4097"),
    "unity_export_5x5": (["export", "{c}/tiny.npy", "--formats", "unity", "--cell-size", "1", "--out", "{c}/e"],
                         "got 5x5"),
    "negative_tiles": (["world", "--tiles", "-1x2", "--model", "{w}", "--out", "{c}/w"], "got -1"),
    "zero_tiles": (["world", "--tiles", "2x0", "--model", "{w}", "--out", "{c}/w"], "got 0"),
    "huge_tiles": (["world", "--tiles", "99999999999999999999x2", "--model", "{w}", "--out", "{c}/w"],
                   "1..1024"),
    "negative_tile_span": (["world", "--tiles", "2x2", "--tile-size", "33", "--x", "-1:2", "--model", "{w}",
                            "--out", "{c}/w"], "inside 0:2"),
    "unknown_config_key": (["train", "--config", "{c}/unknown_key.toml", "--workdir", "{c}/t"], "'bogus'"),
    "wrong_config_type": (["train", "--config", "{c}/wrong_type.toml", "--workdir", "{c}/t"], "expected int"),
    "checkpoint_of_another_config": (["train", "--config", "{c}/other_config.toml", "--workdir",
                                      "{c}/smoke_run"], "another config"),
    "truncated_checkpoint": (["train", "--config", f"{REPO}/configs/smoke.toml", "--workdir",
                              "{c}/smoke_run_truncated"], "ckpt_000004.npz: not a terrain_gan checkpoint"),
    "truncated_weights": (["generate", "--size", "33", "--model", "{c}/truncated_weights.npz", "--out",
                           "{c}/t.png"], "not a terrain_gan checkpoint"),
    "random_file_named_like_checkpoint": (["world", "--tiles", "2x2", "--tile-size", "33", "--model",
                                           "{c}/ckpt_000002.npz", "--out", "{c}/w"], "not an .npz archive"),
    "config_given_as_weights": (["generate", "--model", "{c}/unknown_key.toml", "--out", "{c}/t.png"],
                                "not an .npz archive"),
    "world_out_dotdot_non_empty": (["world", "--tiles", "2x2", "--tile-size", "33", "--model", "{w}", "--out",
                                    "{c}/smoke_run/.."], "no manifest.json"),
    "world_out_is_a_file": (["world", "--tiles", "2x2", "--tile-size", "33", "--model", "{w}", "--out",
                             "{c}/a_file"], "not a folder"),
    "world_out_under_a_file": (["world", "--tiles", "2x2", "--tile-size", "33", "--model", "{w}", "--out",
                                "{c}/a_file/w"], "does not exist"),
    "generate_out_dotdot": (["generate", "--size", "33", "--model", "{w}", "--out", "{c}/.."], ".png"),
    "generate_out_is_a_folder": (["generate", "--size", "33", "--model", "{w}", "--out", "{c}/dir.png"],
                                 "is a folder"),
    "export_out_is_a_file": (["export", "{c}/small.asc", "--out", "{c}/a_file"], "existing file"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_exit_2_no_traceback_nothing_written(case, corpus, smoke_weights, capsys):
    argv, message = CASES[case]
    argv = [a.format(c=corpus, w=smoke_weights) for a in argv]
    (corpus / "dir.png").mkdir(exist_ok=True)
    before = _snapshot(corpus)
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (out, err)
    assert err.startswith("terrain-gan: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err, err
    assert _snapshot(corpus) == before and not (corpus / "w").exists()


# ---- property tests ---------------------------------------------------------------------------------------

_SEEDS = {s: (FIX / n).read_bytes() for s, n in ((".tif", "everest_cut.tif"), (".png", "rainier_cut16.png"),
                                                  (".asc", "mega_divide_cut.asc"), (".bil", "mandakini_cut.bil"),
                                                  (".hgt.zip", "N38W028.SRTMGL3.hgt.zip"),
                                                  (".dem", "sainthelens_cut.dem"), (".npz", "jacksboro_cut.npz"))}


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    shutil.copy(FIX / "mandakini_cut.hdr", d / "f.hdr")  # for .bil cases
    return d


@st.composite
def _dem_bytes(draw):
    """A suffix and bytes: random, or a real DEM of that kind truncated and with bytes overwritten."""
    suffix = draw(st.sampled_from(SUFFIXES))
    seed = _SEEDS.get(suffix)
    if seed is None or draw(st.booleans()):
        return suffix, draw(st.binary(max_size=2000))
    data = bytearray(seed[: draw(st.integers(0, len(seed)))])
    for _ in range(draw(st.integers(0, 8))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return suffix, bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_dem_bytes())
@example((".npy", b"PK\x03\x04" + bytes(40)))  # a broken zip under .npy once leaked its file handle
@example((".npz", b"PK\x03\x04" + bytes(40)))
def test_dem_readers_return_a_dem_or_one_line_error(fuzz_dir, case):
    suffix, data = case
    path = fuzz_dir / f"f{suffix}"
    path.write_bytes(data)
    try:
        dem = read_dem(path, cell_size_m=30.0)
    except TerrainGanError as e:
        assert "\n" not in str(e) and (path.name in str(e) or "f.hdr" in str(e)), e
        return
    assert isinstance(dem, Dem) and dem.height.dtype == np.float32 and dem.height.ndim == 2
    assert min(dem.height.shape) >= 1 and np.isfinite(dem.height).any()


_TOKENS = st.sampled_from(["generate", "world", "export", "view", "train", "eval", "dataset", "build", "info",
                           "--seed", "--size", "--tiles", "--tile-size", "--out", "--x", "--z", "--formats",
                           "--height-range", "--lod", "--scale", "--steps", "--config", "--workdir", "--engine",
                           "--periodic", "--guide-range", "--cell-size", "--window", "--port", "--no-browser",
                           "-1", "0", "2x2", "1:0", "-5x3", "1e400", "nan", "x", "auto", "=", "--"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_TOKENS, st.text(max_size=8)), max_size=8))
@example(["export", "generate", "\n"])  # a newline argument once made a two-line usage error
def test_argument_parsing_never_raises_anything_but_a_one_line_error(argv):
    try:
        build_parser().parse_args(argv)
    except TerrainGanError as e:
        assert "\n" not in str(e)


@settings(max_examples=60, deadline=None)
@given(nx=st.integers(-3, 2000), nz=st.integers(-3, 3), size=st.integers(-40, 9000),
       seed=st.integers(-2, 2**33), periodic=st.booleans())
def test_world_plan_checks_any_numbers_and_writes_nothing(smoke_weights, fuzz_dir, nx, nz, size, seed, periodic):
    out = fuzz_dir / "w"
    try:
        p = world_batch.plan(seed, str(smoke_weights), tiles=(nx, nz), tile_size=size, out=out, formats="npy",
                             periodic=periodic)
    except TerrainGanError as e:
        assert "\n" not in str(e)
    else:
        assert p.todo and 1 <= nx <= 1024 and 0 <= seed < 2**32
    assert not out.exists()


def test_json_in_a_world_folder_that_is_not_a_manifest_is_refused(tmp_path, smoke_weights, capsys):
    out = tmp_path / "w"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"format": "something/else"}))
    assert main(["world", "--tiles", "1x1", "--tile-size", "33", "--model", str(smoke_weights),
                 "--out", str(out)]) == 2
    assert "not a terrain_gan world manifest" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["manifest.json"]
