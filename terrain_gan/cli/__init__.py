"""`terrain-gan` entry point: parses arguments and calls the library; one module per command.

Every user-facing failure is a TerrainGanError, printed as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from terrain_gan.errors import TerrainGanError

# Each command module has `register(subparsers)`, which adds its parser with `func=run`.
_COMMANDS = ("generate", "world", "export", "train", "eval", "dataset")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message):
        raise TerrainGanError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The full `terrain-gan` argument parser."""
    import importlib

    parser = _Parser(prog="terrain-gan", description="Terrain from a GAN trained on real elevation data.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _COMMANDS:
        importlib.import_module(f"terrain_gan.cli.{name}_cmd").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns the process exit code."""
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
    except TerrainGanError as e:
        print(f"terrain-gan: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("terrain-gan: interrupted", file=sys.stderr)
        return 130
    return 0


def entry() -> None:
    """Console-script wrapper."""
    sys.exit(main())
