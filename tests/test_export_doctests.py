"""The examples in the exporters' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import exporters

MODULES = sorted(m.name for m in pkgutil.iter_modules(exporters.__path__, "exporters."))


def test_every_module_is_covered():
    assert {"exporters.export", "exporters.world", "exporters.gltf", "exporters.unity"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that name relative paths write nothing, but stay in a sandbox
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_exporters_never_import_jax():
    import subprocess
    import sys

    code = ("import sys, exporters, exporters.from_file; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'flax', 'optax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
