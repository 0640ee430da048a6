"""World layout: relief field and guide map are the documented pointwise functions, keep seams and periodicity."""

import json

import imageio.v3 as iio
import numpy as np
import pytest

from terrain_gan import pretrained
from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import latents
from terrain_gan.world.core import World
from terrain_gan.world.layout import Layout, load_map, make_layout, np_bspline, relief_noise_bounds

R0, C0, N = 200, -300, 160  # a region crossing chunk borders in both axes


@pytest.fixture(scope="module")
def model(smoke_weights):
    return pretrained.load_model(smoke_weights)


@pytest.fixture(scope="module")
def plain(model):
    return World(7, model, layout=Layout(relief_variation=0.0)).region(R0, C0, N, N).astype(np.float64)


def _relief_noise(seed: int, scale: int, rows, cols) -> np.ndarray:
    """n on world samples rows x cols, evaluated on the host from the same lattice controls."""
    i0, j0 = int(np.floor(rows[0] / scale)) - 2, int(np.floor(cols[0] / scale)) - 2
    ctrl = np.asarray(latents.relief_controls(latents.world_key(seed), i0, j0, 8, 8), np.float64)
    return 2.0 * np_bspline(ctrl, rows / scale - i0, cols / scale - j0, False)


def test_relief_field_scales_heights_above_sea_level(model, plain):
    layout = Layout(relief=1.5, relief_variation=0.8, relief_scale=256)
    h = World(7, model, layout=layout).region(R0, C0, N, N)
    n = _relief_noise(7, 256, np.arange(R0, R0 + N), np.arange(C0, C0 + N))
    np.testing.assert_allclose(h, 1.5 * np.exp(0.8 * n) * plain, rtol=2e-5, atol=1e-3)
    assert np.ptp(n) > 0.5  # the field does vary over this region


def test_guide_sets_large_scale_elevation_and_gan_adds_detail(model, plain):
    guide = np.array([[0.0, 3000.0], [500.0, -200.0]], np.float32)
    layout = make_layout((512, 512), guide_top_m=1.0, relief=0.5, relief_variation=0.0, guide=guide)
    h = World(7, model, layout=layout).region(R0, C0, N, N)
    # The guide's B-spline on pixel centres, edge values continued outside the map.
    u, v = (np.arange(R0, R0 + N) + 0.5) * 2 / 512 - 0.5, (np.arange(C0, C0 + N) + 0.5) * 2 / 512 - 0.5
    e = np_bspline(guide.astype(np.float64), u, v, False)
    np.testing.assert_allclose(h, e + 0.5 * (plain - model.height_mean_m), rtol=2e-5, atol=2e-2)


def test_guide_steers_where_high_and_low_ground_go(model):
    guide = np.zeros((8, 8), np.float32)
    guide[:, 4:] = 4000.0  # east half high
    layout = make_layout((2048, 2048), guide_top_m=1.0, guide=guide)
    h = World(3, model, layout=layout).region(0, 0, 2048, 2048)[::8, ::8]
    west, east = h[:, :100].mean(), h[:, 156:].mean()
    assert east - west > 3000.0


def test_layout_keeps_seams_and_one_piece_equality(model):
    layout = make_layout((256, 256), guide_top_m=1.0, relief_variation=0.5, relief_scale=256,
                         guide=np.arange(16, dtype=np.float32).reshape(4, 4) * 100)
    w = World(9, model, layout=layout)
    tiles = {(x, z): h for x, z, h in w.tiles(65, range(3), range(3))}
    piece = World(9, model, layout=layout).region(0, 0, 193, 193)
    for (x, z), h in tiles.items():
        assert h.tobytes() == piece[z * 64:z * 64 + 65, x * 64:x * 64 + 65].tobytes()


def test_periodic_layout_repeats_exactly(model):
    layout = make_layout((256, 256), guide_top_m=1.0, relief_variation=1.0, relief_scale=256,
                         guide=np.array([[0, 900], [300, 100]], np.float32))
    torus = World(5, model, layout=layout, period=(256, 256))
    region = torus.region(-100, -100, 513, 513)
    assert region[:257].tobytes() == region[256:].tobytes()
    assert region[:, :257].tobytes() == region[:, 256:].tobytes()


def test_height_envelope_holds_and_noise_bounds_contain_the_field(model):
    layout = Layout(relief_variation=1.0, relief_scale=256)
    w = World(2, model, layout=layout)
    h = w.region(0, 0, 600, 700)
    lo, hi = w.height_envelope((0, 600), (0, 700))
    assert lo <= h.min() and h.max() <= hi
    n = _relief_noise(2, 256, np.arange(0, 600), np.arange(0, 700))
    n_lo, n_hi = relief_noise_bounds(latents.world_key(2), (0, 600), (0, 700), layout, None)
    assert n_lo <= n.min() and n.max() <= n_hi and n_hi - n_lo < 1.5 * np.ptp(n) + 1.0


def test_default_relief_varies_across_a_16x16_world():
    """Relief multipliers over a 16x16 world of 513: plains and mountains, not one uniform texture."""
    rows = cols = np.arange(0, 16 * 512 + 1, 64)
    n = _relief_noise(7, Layout().relief_scale, rows, cols)
    r = np.exp(Layout().relief_variation * n)
    assert r.max() / r.min() > 2.0


def test_load_map_reads_png_npy_and_scales_png_codes(tmp_path):
    grey16 = np.array([[0, 65535], [32768, 0]], np.uint16)
    iio.imwrite(tmp_path / "g16.png", grey16)
    rgb8 = np.zeros((2, 3, 3), np.uint8)
    rgb8[0, 0] = 255
    iio.imwrite(tmp_path / "rgb.png", rgb8)
    np.save(tmp_path / "m.npy", np.array([[1.0, 2.0], [3.0, 4.0]]))
    g = load_map(tmp_path / "g16.png", extent=(64, 64), png_range=(100.0, 200.0)).values
    assert g[0, 0] == 100.0 and g[0, 1] == 200.0 and abs(g[1, 0] - 150.0) < 0.01
    assert load_map(tmp_path / "rgb.png", extent=(64, 64)).values[0, 0] == pytest.approx(1.0)
    assert load_map(tmp_path / "m.npy", extent=(64, 64)).values.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("content, message", [(b"\x89PNG\r\n\x1a\nnot really", "unreadable"),
                                              (None, "not found")])
def test_unreadable_guide_is_one_line(tmp_path, content, message):
    path = tmp_path / "guide.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TerrainGanError, match=message) as e:
        load_map(path, extent=(64, 64))
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("values, message", [(np.zeros(5), "2-D"), (np.zeros((3000, 4)), "2-D"),
                                             (np.array([[0, np.nan], [1, 2]]), "NaN")])
def test_bad_maps_are_refused(values, message):
    with pytest.raises(TerrainGanError, match=message):
        load_map(values, extent=(64, 64))


@pytest.mark.parametrize("kwargs, message", [(dict(relief=0.0), "relief must"),
                                             (dict(relief_variation=5.0), "variation"),
                                             (dict(relief_scale=100), "relief scale")])
def test_layout_checks_its_numbers(kwargs, message):
    with pytest.raises(TerrainGanError, match=message):
        Layout(**kwargs)


def test_negative_relief_map_is_refused():
    with pytest.raises(TerrainGanError, match=">= 0"):
        make_layout((64, 64), guide_top_m=1.0, relief_map=-np.ones((2, 2)))


def test_layout_json_names_maps_by_content():
    a = make_layout((64, 64), guide_top_m=1.0, guide=np.ones((2, 2))).as_json()
    b = make_layout((64, 64), guide_top_m=1.0, guide=np.ones((2, 2)) * 2).as_json()
    assert a["guide"]["sha256"] != b["guide"]["sha256"] and a["relief_map"] is None
    assert json.loads(json.dumps(a)) == a  # JSON-ready: no arrays inside
