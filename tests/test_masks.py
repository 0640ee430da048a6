"""Texturing masks (`--also masks`): values on analytic surfaces, PNGs, splat sums, world seams, CLI."""

import hashlib
import json

import imageio.v3 as iio
import numpy as np
import pytest

import exporters
from exporters import masks as M
from terrain_gan.cli import main

S = 33
NAMES = tuple(M.MASK_FILES)


def _masks(h, cell=30.0, height_range=None):
    rng = (float(h.min()), float(h.max())) if height_range is None else height_range
    return M.compute_masks(M.reflect_surround(h), M.MASK_HALO, cell, rng)


@pytest.mark.parametrize("deg, cell", [(0.0, 30.0), (10.0, 90.0), (35.0, 30.0), (60.0, 5.0)])
def test_plane_of_known_slope_gives_that_slope_in_degrees(deg, cell):
    rows, cols = np.mgrid[0:20, 0:30] * cell
    # Tilted along a diagonal, so both axes' differences count; the gradient's length is tan(deg).
    t = np.tan(np.radians(deg)) / np.sqrt(2)
    m = _masks(t * (rows + cols), cell, (0.0, 1.0))
    assert np.all(m["slope"] == round(deg * 255 / 90)), np.unique(m["slope"])
    assert np.all(m["curvature"] == 128)  # a plane is neither ridge nor valley, edges included


def test_ridge_is_positive_curvature_and_valley_negative():
    x = (np.arange(41) - 20) * 30.0
    ridge = np.repeat((-0.002 * x**2 / 2)[None], 25, 0)  # a parabolic ridge along column 20: k = +0.002 / m
    k = M.curvature_per_m(M.reflect_surround(ridge, 2), 30.0)
    assert np.allclose(k[:, 2:-2], 0.002)
    m = _masks(ridge)
    assert np.all(m["curvature"][:, 20] == 128 + round(127 * 0.002 / M.CURVATURE_REF_PER_M))
    valley = _masks(-ridge)
    assert np.all(valley["curvature"][:, 20] == 128 - round(127 * 0.002 / M.CURVATURE_REF_PER_M))
    # The sharp crest of an inverted V is a ridge, its flanks (planes) are not.
    vee = _masks(-np.abs(np.repeat(x[None], 25, 0)) * 0.3)
    assert vee["curvature"][5, 20] > 128 and vee["curvature"][5, 5] == 128


def test_v_valley_collects_wetness_at_its_floor():
    x = np.abs(np.arange(41) - 20) * 30.0 * 0.2  # sides at 11 degrees
    along = np.arange(60)[:, None] * 30.0 * 0.02  # the floor falls gently southwards
    h = x[None] - along
    m = _masks(h)
    wet = m["wetness"].astype(int)
    floor, side = wet[30:50, 20], wet[30:50, 10]
    assert np.all(floor > side + 40), (floor, side)
    assert np.all(wet[30:50].argmax(axis=1) == 20)
    # Point reflection continues the valley past the map's edges, so the floor is as wet all along it.
    assert len(np.unique(wet[:, 20])) == 1
    assert (m["splat"][40, 20, 2] > 0) and m["splat"][40, 10, 2] == 0  # wet layer only on the floor


def test_flow_accumulation_counts_cells_upstream_within_the_window():
    v = np.abs(np.arange(-5, 6.0))[None].repeat(15, 0)  # V valley, flat floor line along column 5
    acc = M.flow_accumulation(v, 3)
    # Every step brings water one column nearer the floor (straight or diagonally): a floor sample
    # gathers its own cell and those 1, 2 and 3 columns out on both sides, and nothing from further.
    assert acc[7, 4] == pytest.approx(7.0) and acc[7, 0] == 1.0
    assert M.flow_accumulation(v, 4)[7, 4] == pytest.approx(9.0)


def test_height_bands_split_the_given_range():
    h = np.linspace(0, 1000, 21)[None].repeat(4, 0)
    m = _masks(h, 30.0, (0.0, 1000.0))
    assert m["bands"][0].tolist() == [0] * 5 + [85] * 5 + [170] * 5 + [255] * 6
    w = m["splat_bands"].astype(int)
    assert w[0, 0].tolist() == [255, 0, 0, 0] and w[0, -1].tolist() == [0, 0, 0, 255]
    assert w[0, 5].tolist() == [128, 127, 0, 0] or w[0, 5].tolist() == [127, 128, 0, 0]  # on the low|mid edge


def test_splat_weights_sum_to_255_and_pngs_read_back(tmp_path):
    rng = np.random.default_rng(0)
    h = np.cumsum(np.cumsum(rng.normal(size=(37, 45)), 0), 1) * 0.3  # every layer present somewhere
    files = exporters.export_files(h, tmp_path / "t", "masks", cell_size_m=30.0)
    exporters.write_files(files)
    side = json.loads((tmp_path / "t.json").read_text())
    assert set(side["masks"]["files"]) == set(NAMES)
    assert side["masks"]["bands"]["edges_m"][1] == pytest.approx((h.min() + h.max()) / 2, abs=1e-3)
    for name, file in side["masks"]["files"].items():
        img = iio.imread(tmp_path / file)
        assert img.dtype == np.uint8 and img.shape[:2] == h.shape
        if name.startswith("splat"):
            assert img.shape[2] == 4 and np.all(img.astype(int).sum(-1) == 255)
        else:
            assert img.ndim == 2
    splat = iio.imread(tmp_path / "t_splat.png")
    assert all(splat[..., c].max() > 0 for c in range(4)), "every layer appears somewhere"


def test_masks_of_a_window_equal_those_of_a_bigger_map():
    """A tile's masks depend only on the samples within MASK_HALO of it: the basis of seamless worlds."""
    rng = np.random.default_rng(1)
    world = np.cumsum(np.cumsum(rng.normal(size=(160, 170)), 0), 1)
    m = M.MASK_HALO
    big = M.compute_masks(world, m, 20.0, (-50.0, 50.0))
    r0, c0, n = 40 - m, 55 - m, 30
    small = M.compute_masks(world[r0:r0 + n + 2 * m, c0:c0 + n + 2 * m], m, 20.0, (-50.0, 50.0))
    for name in NAMES:
        assert np.array_equal(small[name], big[name][40 - m:40 - m + n, 55 - m:55 - m + n]), name


def test_surround_must_be_real_heights():
    h = np.zeros((5, 5), np.float32)
    p = np.zeros((5 + 2 * M.MASK_HALO,) * 2, np.float32)
    p[0, 0] = np.nan
    with pytest.raises(exporters.ExportError, match="real heights"):
        exporters.export_files(h, "t", "masks", cell_size_m=10.0, padded=p)
    with pytest.raises(exporters.ExportError, match="need 26 samples of surround"):
        M.compute_masks(np.zeros((9, 9)), 2, 10.0, (0.0, 1.0))


# --- the CLI: generate, export, world ---

def _png_sha(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_generate_and_export_write_the_masks(smoke_weights, tmp_path, capsys):
    out = tmp_path / "t.png"
    assert main(["generate", "--seed", "4", "--size", "65", "--out", str(out), "--model", str(smoke_weights),
                 "--also", "masks"]) == 0
    side = json.loads((tmp_path / "t.json").read_text())
    for name, file in side["masks"]["files"].items():
        assert (tmp_path / file).is_file() and iio.imread(tmp_path / file).shape[:2] == (65, 65), name
    assert side["masks"]["bands"]["height_range_m"] == [side["min_height_m"], side["max_height_m"]]
    (tmp_path / "e").mkdir()
    assert main(["export", str(out), "--formats", "npy", "--also", "masks", "--out", str(tmp_path / "e")]) == 0
    names = {p.name for p in (tmp_path / "e").iterdir()}
    assert {"t.npy", "t.json", "t_splat.png", "t_slope.png", "t_wetness.png"} <= names
    assert "masks" in json.loads((tmp_path / "e" / "t.json").read_text())


@pytest.mark.parametrize("cmd", ["generate", "export", "world"])
def test_bad_also_is_one_line_exit_2_and_writes_nothing(cmd, smoke_weights, tmp_path, capsys):
    src = tmp_path / "src.npy"
    np.save(src, np.zeros((9, 9), np.float32))
    argv = {"generate": ["generate", "--size", "33", "--out", str(tmp_path / "o" / "t.png"), "--model",
                         str(smoke_weights), "--also", "masks,mask"],
            "export": ["export", str(src), "--cell-size", "10", "--out", str(tmp_path / "o" / "t"), "--also", "mask"],
            "world": ["world", "--tiles", "1x1", "--tile-size", "33", "--out", str(tmp_path / "o" / "w"),
                      "--model", str(smoke_weights), "--also", "splat"]}[cmd]
    (tmp_path / "o").mkdir()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("terrain-gan: error: ") and err.count("\n") == 1 and "mask" in err
    assert list((tmp_path / "o").iterdir()) == []


def _world(weights, out, *extra):
    return main(["world", "--seed", "7", "--tiles", "3x2", "--tile-size", str(S), "--out", str(out),
                 "--formats", "npy", "--model", str(weights), "--also", "masks", *extra])


@pytest.fixture(scope="module")
def world(smoke_weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("masks") / "w"
    assert _world(smoke_weights, out) == 0
    return out


def test_world_tiles_masks_agree_on_shared_edges(world):
    doc = json.loads((world / "manifest.json").read_text())
    assert "masks" in doc["formats"]
    for x in range(3):
        for z in range(2):
            side = json.loads((world / f"tile_{x}_{z}.json").read_text())
            assert side["masks"]["bands"]["height_range_m"] == doc["height_range_m"]  # the world's, not the tile's
            assert set(doc["tiles"][f"{x}_{z}"]["files"]) >= {f"tile_{x}_{z}{s}" for s, _ in M.MASK_FILES.values()}
    for suffix, _ in M.MASK_FILES.values():
        t = {(x, z): iio.imread(world / f"tile_{x}_{z}{suffix}") for x in range(3) for z in range(2)}
        for (x, z), img in t.items():
            if (x + 1, z) in t:
                assert np.array_equal(img[:, -1], t[(x + 1, z)][:, 0]), (suffix, x, z)
            if (x, z + 1) in t:
                assert np.array_equal(img[-1], t[(x, z + 1)][0]), (suffix, x, z)
        if suffix in ("_slope.png", "_curvature.png", "_wetness.png"):
            assert any(len(np.unique(img)) > 3 for img in t.values()), suffix  # not trivially constant


def test_world_masks_are_the_worlds_not_the_tiles(world):
    """Inside a tile the maths is the lone map's; near its edges the world's samples beyond it count."""
    doc = json.loads((world / "manifest.json").read_text())
    h = np.load(world / "tile_1_0.npy")
    lone = _masks(h, doc["world"]["cell_size_m"], tuple(doc["height_range_m"]))
    made = iio.imread(world / "tile_1_0_slope.png")
    assert np.array_equal(made[1:-1, 1:-1], lone["slope"][1:-1, 1:-1])
    assert not np.array_equal(made, lone["slope"])
    assert not np.array_equal(iio.imread(world / "tile_1_0_wetness.png"), lone["wetness"])


def test_world_masks_are_byte_identical_across_runs(world, smoke_weights, tmp_path):
    assert _world(smoke_weights, tmp_path / "again") == 0
    assert _png_sha(tmp_path / "again") == _png_sha(world)
