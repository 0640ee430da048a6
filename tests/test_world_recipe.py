"""A world as a recipe file: strict loading, flags over the file, the manifest records the resolved recipe."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from terrain_gan.cli import main
from terrain_gan.errors import TerrainGanError
from terrain_gan.world import recipe

RECIPES = sorted((Path(REPO) / "configs" / "worlds").glob("*.toml"))


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "r.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_shipped_recipes_load(path):
    cfg = recipe.load(path)
    assert cfg.name == path.stem and len(cfg.tiles) == 2
    if cfg.layout.guide:
        assert Path(cfg.layout.guide).is_file()  # relative to the recipe file


def test_the_alpine_recipe_makes_high_rugged_ground_and_the_plains_recipe_low_gentle_ground(tmp_path):
    """The two recipes as the default model (v2) draws them, over their whole 4 x 4 tiles: their
    `roughness` moves its coarse level towards ranges or plains (the model's own mix lies between)."""
    made = {}
    for name in ("alpine", "plains"):
        plan = recipe.plan(recipe.load(Path(REPO) / "configs" / "worlds" / f"{name}.toml"), tmp_path / name)
        h = plan.world.region(0, 0, 1024, 1024)
        made[name] = np.median(h), np.hypot(*np.gradient(h, 90.0)).mean()  # metres, mean slope (m/m)
    (alpine_m, alpine_s), (plains_m, plains_s) = made["alpine"], made["plains"]
    assert alpine_m > 800 and plains_m < 300 and alpine_s > 3 * plains_s, made
    assert not (tmp_path / "alpine").exists()  # planning writes nothing


@pytest.mark.parametrize("text, message", [
    ('tiles = [2, 2]\nsize = 3\n', r"r\.toml: unknown config key 'size'"),
    ('tiles = [2, 2]\n[layout]\nrelif = 1.0\n', r"r\.toml\.layout: unknown config key 'relif'"),
    ('tiles = [2, 2]\nseed = "7"\n', r"r\.toml\.seed: expected int, got '7'"),
    ('tiles = [2, 2]\n[layout]\nrelief = "high"\n', r"r\.toml\.layout\.relief: expected float, got 'high'"),
    ('tiles = [2, 2]\nlayout = 3\n', r"r\.toml\.layout: expected a table, got 3"),
    ('tiles = [2, 2, 2]\n', r"r\.toml: tiles must be \[NX, NZ\]"),
    ('seed = 1\n', r"r\.toml: the world's grid is not given"),
    ('tiles = [2, 2]\n[export]\nheight_range = "tall"\n', r"r\.toml\.export\.height_range: expected auto, exact or LO,HI"),
    ('tiles = [2, 2\n', r"r\.toml: not valid TOML"),
])
def test_bad_recipes_name_file_and_key(tmp_path, text, message):
    with pytest.raises(TerrainGanError, match=message):
        recipe.load(_write(tmp_path, text))


def test_bad_recipe_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    path = _write(tmp_path, "tiles = [2, 2]\ncolour = 1\n")
    assert main(["world", "--config", str(path), "--out", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown config key 'colour'" in err and str(path) in err
    assert not (tmp_path / "w").exists()


def test_flags_override_the_recipe(tmp_path, smoke_weights):
    path = _write(tmp_path, 'seed = 3\ntiles = [3, 3]\ntile_size = 65\n[layout]\nrelief = 2.0\nguide = "g.png"\n'
                            '[export]\nformats = "npy"\nlod = 2\n')
    args = ["world", "--config", str(path), "--out", str(tmp_path / "w"), "--seed", "9", "--tiles", "2x1",
            "--relief", "0.5", "--lod", "4", "--height-range=-10,20"]
    from terrain_gan.cli import build_parser
    from terrain_gan.cli.world_cmd import recipe_of

    cfg = recipe_of(build_parser().parse_args(args))
    assert (cfg.seed, cfg.tiles, cfg.tile_size) == (9, (2, 1), 65)  # given flags win; the rest is the file's
    assert (cfg.layout.relief, cfg.layout.guide) == (0.5, str(tmp_path / "g.png"))
    assert (cfg.export.formats, cfg.export.lod, cfg.export.height_range) == ("npy", 4, "-10.0,20.0")
    assert recipe.height_range(cfg.export.height_range) == (-10.0, 20.0)


def _sha(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("tile_*"))}


def test_manifest_records_the_resolved_recipe_and_remakes_the_world(tmp_path, smoke_weights):
    path = _write(tmp_path, f'seed = 4\ntiles = [2, 1]\ntile_size = 33\nmodel = "{smoke_weights}"\n'
                            '[layout]\nrelief_variation = 0.0\n[export]\nformats = "npy,png16"\n')
    a = tmp_path / "a"
    assert main(["world", "--config", str(path), "--out", str(a), "--seed", "5"]) == 0
    doc = json.loads((a / "manifest.json").read_text())
    resolved = recipe.from_dict(doc["recipe"])
    assert resolved == recipe.with_flags(recipe.load(path), dict(seed=5), {}, {})
    assert doc["world"]["seed"] == 5
    # The recorded recipe alone remakes the same files; flags alone make the same tiles too.
    b = tmp_path / "b"
    recipe_file = tmp_path / "again.toml"
    recipe_file.write_text(_toml(doc["recipe"]))
    assert main(["world", "--config", str(recipe_file), "--out", str(b)]) == 0
    assert _sha(b) == _sha(a)
    c = tmp_path / "c"
    assert main(["world", "--seed", "5", "--tiles", "2x1", "--tile-size", "33", "--model", str(smoke_weights),
                 "--relief-variation", "0", "--formats", "npy,png16", "--out", str(c)]) == 0
    assert _sha(c) == _sha(a) and "recipe" not in json.loads((c / "manifest.json").read_text())


def _toml(table: dict, prefix: str = "") -> str:
    """A small TOML writer for the test: scalars, lists and one level of tables."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for k, v in table.items():
        if isinstance(v, dict):
            lines += [f"[{k}]"] + [f"{kk} = {json.dumps(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"
