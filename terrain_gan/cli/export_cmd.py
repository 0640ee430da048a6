"""`terrain-gan export t.png --formats glb,unity,godot`: a heightmap file as engine-ready files."""

from __future__ import annotations

_EPILOG = """formats:
{formats}

Files are named after --out (default: the input's name, beside it), e.g. t.glb, t.obj + t.mtl +
t_texture.png, t_unity.raw + t_unity.json, t.tscn; heightmap formats share the sidecar t.json.
All files appear together or none do."""


def _pair(text: str) -> tuple[float, float]:
    """'LO,HI' metres as two floats (argparse type)."""
    import argparse

    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI metres, got {text!r}") from None
    return lo, hi


def register(sub):
    import argparse

    from exporters import FORMATS
    from terrain_gan.cli.options import ALSO_HELP, add_export_arguments

    listing = "\n".join(f"  {name:7} {f.help}" for name, f in FORMATS.items())
    p = sub.add_parser("export", help="turn a heightmap file into meshes and engine terrain files",
                       description="Export a heightmap written by terrain-gan (t.png + t.json, .npy, .tif, .exr, "
                                   ".r16, .raw) as meshes (GLB, glTF, OBJ) and Unity / Godot / GIS files.",
                       epilog=_EPILOG.format(formats=listing), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="heightmap file (16-bit ones need their .json sidecar beside them)")
    p.add_argument("--formats", default="glb", help="comma-separated formats (default: glb); see below")
    p.add_argument("--also", default="", help=ALSO_HELP)
    p.add_argument("--out", help="output path without suffix, or an existing folder (default: beside the input)")
    p.add_argument("--cell-size", type=float, help="metres between samples (default: from the sidecar)")
    add_export_arguments(p)
    p.add_argument("--resample", action="store_true", help="Unity: resample to the next 2^n+1 size")
    p.add_argument("--height-range", type=_pair, metavar="LO,HI",
                   help="metres for 16-bit codes 0 and 65535 (default: the input's own range)")
    p.set_defaults(func=run)
    return p


def run(args):
    from exporters import write_files
    from exporters.from_file import export_from_file
    from terrain_gan.cli.options import also_formats, export_options

    options = export_options(args, resample=args.resample)
    files = export_from_file(args.input, also_formats(args.formats, args.also), out=args.out, cell_size_m=args.cell_size,
                             height_range=args.height_range, options=options)
    for path in write_files(files):
        print(path)
