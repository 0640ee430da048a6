import dataclasses

import pytest
from conftest import REPO

from terrain_gan import config
from terrain_gan.errors import TerrainGanError


def test_shipped_configs_load_and_differ_where_declared():
    default = config.load(f"{REPO}/configs/default.toml")
    dcgan = config.load(f"{REPO}/configs/dcgan_seed.toml")
    assert default == config.Config()  # default.toml restates the schema's defaults only
    assert (dcgan.model.kind, dcgan.model.z_dim, dcgan.train.batch_size) == ("dcgan", 100, 16)
    assert (dcgan.train.lr_g, dcgan.train.lr_d, dcgan.train.beta1, dcgan.train.loss) == (2e-4, 2e-4, 0.5, "bce")


@pytest.mark.parametrize("text, message", [
    ("bogus = 1", "unknown config key 'bogus'"),
    ("[train]\nstepz = 3", "unknown config key 'stepz'"),
    ("[train]\nsteps = 'many'", "train.steps: expected int"),
    ("[model]\ng_widths = 3", "expected a list"),
    ("[model]\nkind = 'vae'", "model.kind must be"),
    ("[train]\nloss = 'wgan'", "train.loss must be"),
    ("cell_size_m = -1", "cell_size_m must be positive"),
    ("[model]\nnoise_min_stride = 3", "model.noise_min_stride must be"),
    ("[model]\ndrain_block = 64", "model.drain_block is for a cascade"),
    ("levels = ['a.toml', 'b.toml']\n[model]\nkind = 'cascade'\ndrain_block = 48", "model.drain_block must be 0"),
    ("[model]\ndetail_drain_block = 64", "model.detail_drain_block is for a cascade"),
    ("levels = ['a.toml', 'b.toml']\n[model]\nkind = 'cascade'\ndetail_drain_block = 8", "model.detail_drain_block must be 0"),
    ("[model]\nerosion_steps = 10", "model.erosion_steps is for a cascade"),
    ("levels = ['a.toml', 'b.toml']\n[model]\nkind = 'cascade'\nerosion_steps = 10\nerosion_k = 0.1",
     "model.erosion_steps needs model.drain_block"),
    ("levels = ['a.toml', 'b.toml']\n[model]\nkind = 'cascade'\ndrain_block = 64\nerosion_steps = -1",
     "model.erosion_steps must be 0"),
    ("levels = ['a.toml', 'b.toml']\n[model]\nkind = 'cascade'\ndrain_block = 64\nerosion_steps = 10",
     "model.erosion_k must be positive"),
    ("levels = ['a.toml', 'b.toml']\n[model]\nkind = 'cascade'\ndrain_block = 64\nerosion_steps = 10\n"
     "erosion_k = 0.1\nerosion_m = 1.5", "model.erosion_m must be above 0"),
    ("levels = ['a.toml', 'b.toml']\n[model]\nkind = 'cascade'\ndetail_drain_block = 64\ndetail_drain_keep = -1.0",
     "model.detail_drain_keep must be 0"),
    ("levels = ['a.toml', 'b.toml']\n[model]\nkind = 'cascade'\ndetail_drain_block = 64\ndetail_drain_keep = nan",
     "model.detail_drain_keep must be 0"),
    ("train = 3", "expected a table"),
    ("[model\n", "not valid TOML"),
])
def test_bad_configs_name_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(TerrainGanError, match=message) as info:
        config.load(path)
    assert str(path) in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(TerrainGanError, match="config file not found"):
        config.load(tmp_path / "nope.toml")


def test_int_accepted_for_float_and_round_trip():
    cfg = config.from_dict({"cell_size_m": 90, "train": {"lr_g": 1}})
    assert cfg.cell_size_m == 90.0 and isinstance(cfg.train.lr_g, float)
    assert config.from_dict(config.to_dict(cfg)) == cfg
    assert dataclasses.is_dataclass(cfg) and hash(cfg)  # frozen: usable as a static jit argument
