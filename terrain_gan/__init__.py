"""terrain_gan: terrain in metres from a GAN trained on real DEMs.

Public surface (imported lazily, so `import terrain_gan` stays light):
  generate, load_model, World, Layout, read_dem, load_config, TerrainGanError.
"""

from terrain_gan import runtime
from terrain_gan.errors import TerrainGanError

runtime.configure()

__all__ = ["Layout", "TerrainGanError", "World", "generate", "load_config", "load_model", "read_dem"]

_LAZY = {
    "generate": ("terrain_gan.generation", "generate"),
    "load_model": ("terrain_gan.pretrained", "load_model"),
    "World": ("terrain_gan.world.core", "World"),
    "Layout": ("terrain_gan.world.layout", "Layout"),
    "read_dem": ("terrain_gan.dem.core", "read_dem"),
    "load_config": ("terrain_gan.config", "load"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'terrain_gan' has no attribute {name!r}")
