"""The examples in docstrings run and give what they show: every exporters module has some; terrain_gan's too."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import exporters
import terrain_gan

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted(m.name for m in pkgutil.iter_modules(exporters.__path__, "exporters."))
TG_MODULES = sorted(m.name for m in pkgutil.walk_packages(terrain_gan.__path__, "terrain_gan.")
                    if not m.name.endswith("__main__"))


def test_every_module_is_covered():
    assert {"exporters.export", "exporters.world", "exporters.gltf", "exporters.unity"} <= set(MODULES)
    assert {"terrain_gan.generation", "terrain_gan.world.core", "terrain_gan.config"} <= set(TG_MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that name relative paths write nothing, but stay in a sandbox
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_terrain_gan_docstring_examples(monkeypatch):
    monkeypatch.chdir(REPO)  # examples name the repository's configs/ (they write only to temporary folders)
    attempted = 0
    for name in TG_MODULES:
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, name
        attempted += result.attempted
    assert attempted >= 20  # most public functions show an example


def test_exporters_never_import_jax():
    import subprocess
    import sys

    code = ("import sys, exporters, exporters.from_file; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'flax', 'optax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
