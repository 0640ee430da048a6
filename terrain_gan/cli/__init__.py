"""`terrain-gan` entry point: parses arguments and calls the library; one module per command.

Every user-facing failure is a TerrainGanError or an exporters.ExportError (its base), printed as one
line with exit code 2.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys

from exporters.errors import ExportError
from exporters.files import full_message
from terrain_gan.errors import TerrainGanError

# Each command module has `register(subparsers)`, which adds its parser with `func=run`.
_COMMANDS = ("generate", "world", "export", "view", "train", "eval", "dataset")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message):
        # an argument may hold a newline or other control character: shown escaped, the error stays one line
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        raise TerrainGanError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The full `terrain-gan` argument parser."""
    import importlib

    parser = _Parser(prog="terrain-gan", description="Terrain from a GAN trained on real elevation data.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _COMMANDS:
        importlib.import_module(f"terrain_gan.cli.{name}_cmd").register(sub)
    return parser


def _attach_negative_values(argv: list[str]) -> list[str]:
    """`--tiles -1x2` -> `--tiles=-1x2`: argparse takes '-1x2' for an option and hides the real problem."""
    out = []
    for token in argv:
        if out and re.match(r"-\.?\d", token) and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(_attach_negative_values(argv))
        args.func(args)
    except ExportError as e:  # TerrainGanError included
        print(f"terrain-gan: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a full disk outside the atomic writes (a folder, a lock file): still one line
        message = full_message(e.filename or "?", e)
        if message is None:
            raise
        print(f"terrain-gan: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # errors.Interrupted: stopped cleanly by a signal, says what it saved
        print(f"terrain-gan: interrupted{f': {e}' if str(e) else ''}", file=sys.stderr)
        return 128 + getattr(e, "signum", signal.SIGINT)
    return 0


def entry() -> None:
    """Console-script wrapper."""
    sys.exit(main())
