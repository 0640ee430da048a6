"""The mesh and engine-file options that `export` and `world` both take, declared once."""

from __future__ import annotations

import argparse

# (flag, ExportOptions field, argparse keywords): one row per option.
_EXPORT_OPTIONS = (
    ("--height-scale", "height_scale", dict(type=float, default=1.0, help="vertical exaggeration (default 1)")),
    ("--scale", "scale", dict(type=float, default=1.0,
                              help="uniform scale on all axes, e.g. 0.01 for 1 unit = 100 m (default 1 = metres)")),
    ("--lod", "lod", dict(type=int, default=1, help="meshes keep every LOD-th sample, borders kept (default 1)")),
    ("--skirt", "skirt_m", dict(type=float, default=0.0, metavar="METRES", help="skirt depth below mesh borders")),
    ("--colors", "colors", dict(help="mesh vertex colours")),
    ("--texture", "texture", dict(help="baked texture PNG (embedded in GLB / glTF, beside OBJ)")),
)


def add_export_arguments(group, *, defaults: bool = True) -> None:
    """Adds --height-scale, --scale, --lod, --skirt, --colors, --texture to a parser or argument group.

    `defaults=False` leaves unset options None, so that a recipe file's values show through.
    """
    from exporters.colors import COLOR_KINDS

    for flag, _, kwargs in _EXPORT_OPTIONS:
        kwargs = dict(kwargs)
        if flag in ("--colors", "--texture"):
            kwargs["choices"] = COLOR_KINDS
        if not defaults:
            kwargs["default"] = None
        group.add_argument(flag, **kwargs)


def export_options(args: argparse.Namespace, **extra):
    """`exporters.ExportOptions` from the parsed flags (plus `extra` fields such as resample)."""
    from exporters import ExportOptions

    return ExportOptions(**{field: getattr(args, flag[2:].replace("-", "_")) for flag, field, _ in _EXPORT_OPTIONS},
                         **extra)


def export_flags(args: argparse.Namespace) -> dict:
    """The export options given on the command line, by ExportOptions field (unset ones left out)."""
    values = {field: getattr(args, flag[2:].replace("-", "_")) for flag, field, _ in _EXPORT_OPTIONS}
    return {k: v for k, v in values.items() if v is not None}


# `--also` of export and world: outputs beside --formats (each is also an `exporters` format name).
ALSO_OUTPUTS = ("masks",)
ALSO_HELP = ("comma-separated extra outputs: masks (slope, height-band, curvature and wetness masks as 8-bit "
             "PNGs, and RGBA splat maps; see README, Texturing masks)")


def also_formats(formats: str, also: str | None) -> str:
    """`formats` with the `--also` outputs added, checked (one-line error naming the bad one).

    >>> also_formats("png16", "masks")
    'png16,masks'
    """
    from terrain_gan.errors import TerrainGanError

    names = [a.strip() for a in (also or "").split(",") if a.strip()]
    for name in names:
        if name not in ALSO_OUTPUTS:
            raise TerrainGanError(f"--also: unknown output {name!r}; choose from {', '.join(ALSO_OUTPUTS)}")
    return ",".join([formats, *names]) if names else formats
