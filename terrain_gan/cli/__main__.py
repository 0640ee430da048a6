"""`python -m terrain_gan.cli ...`: the same as the `terrain-gan` console script."""

from terrain_gan.cli import entry

entry()
