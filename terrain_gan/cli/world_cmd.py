"""`terrain-gan world --seed 7 --tiles 16x16 --tile-size 513 --out world/`: a seamless tiled world.

Parses arguments and calls `world_batch.plan` / `world_batch.run`; see docs/WORLDS.md.
"""

from __future__ import annotations

import argparse


def _grid(text: str) -> tuple[int, int]:
    """'NXxNZ' tiles (argparse type)."""
    try:
        nx, nz = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NXxNZ tiles such as 16x16, got {text!r}") from None
    return nx, nz


def _span(text: str) -> range:
    """'A:B' tile indices, B excluded (argparse type)."""
    try:
        a, b = (int(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:STOP tile indices such as 4:8, got {text!r}") from None
    return range(a, b)


def _range(text: str):
    """'auto', 'exact' or 'LO,HI' metres (argparse type)."""
    if text in ("auto", "exact"):
        return text
    try:
        lo, hi = (float(v) for v in text.replace(":", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto, exact or LO,HI metres, got {text!r}") from None
    return lo, hi


def register(sub):
    from exporters import FORMAT_NAMES
    from exporters.colors import COLOR_KINDS

    p = sub.add_parser("world", help="generate a seamless world of tiles (resumable, in-process or on Dask)",
                       description="Writes every tile of a world as engine-ready files (names ending _X_Z), "
                                   "manifest.json and overview.png. Re-running resumes. See docs/WORLDS.md.")
    p.add_argument("--seed", type=int, default=0, help="world seed, 0..2^32-1 (default 0)")
    p.add_argument("--tiles", type=_grid, required=True, metavar="NXxNZ", help="the world's grid, e.g. 16x16")
    p.add_argument("--tile-size", type=int, default=513, help="samples per tile side, k*16+1, e.g. 257, 513, 1025")
    p.add_argument("--out", required=True, help="the world's folder (created; its parent must exist)")
    p.add_argument("--formats", default="png16,npy", help=f"comma-separated: {','.join(FORMAT_NAMES)}")
    p.add_argument("--x", type=_span, metavar="A:B", help="make only tile columns A..B-1 (split a world into jobs)")
    p.add_argument("--z", type=_span, metavar="A:B", help="make only tile rows A..B-1")
    p.add_argument("--model", default="default", help="shipped model name or weights .npz (default: default)")
    p.add_argument("--periodic", action="store_true", help="the world wraps around its grid (a torus)")
    g = p.add_argument_group("layout")
    g.add_argument("--relief", type=float, default=1.0, help="overall relief multiplier (default 1)")
    g.add_argument("--relief-variation", type=float, default=0.3,
                   help="how much relief varies across the world, std of log-relief (default 0.3; 0 = uniform)")
    g.add_argument("--relief-scale", type=int, default=2048, help="samples between relief-field nodes (default 2048)")
    g.add_argument("--guide", help="coarse elevation sketch over the whole grid: PNG (grey), .npy or DEM file")
    g.add_argument("--guide-range", type=_range, metavar="LO,HI",
                   help="metres for a PNG guide's black and white (default: 0 and the model's mean + 2 std)")
    g.add_argument("--relief-map", help="relief multipliers over the grid: PNG (mid-grey = 1x, white = 2x) or .npy")
    e = p.add_argument_group("export")
    e.add_argument("--height-range", type=_range, default="auto", metavar="auto|exact|LO,HI",
                   help="metres for 16-bit codes 0..65535, one range for the whole world (default auto; "
                        "write negative values as --height-range=-100,2000)")
    e.add_argument("--height-scale", type=float, default=1.0, help="vertical exaggeration of meshes (default 1)")
    e.add_argument("--scale", type=float, default=1.0, help="uniform scale of meshes and engine files (default 1)")
    e.add_argument("--lod", type=int, default=1, help="meshes keep every LOD-th sample (default 1)")
    e.add_argument("--skirt", type=float, default=0.0, metavar="METRES", help="skirt depth below mesh borders")
    e.add_argument("--colors", choices=COLOR_KINDS, help="mesh vertex colours")
    e.add_argument("--texture", choices=COLOR_KINDS, help="baked texture for meshes")
    d = p.add_argument_group("engine")
    d.add_argument("--engine", choices=("local", "dask"), default="local", help="where tiles are made")
    d.add_argument("--scheduler", help="Dask scheduler address tcp://host:port (default: a LocalCluster)")
    d.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    p.set_defaults(func=run)
    return p


def run(args):
    from exporters import ExportOptions
    from terrain_gan.world import batch as world_batch

    options = ExportOptions(height_scale=args.height_scale, scale=args.scale, lod=args.lod, skirt_m=args.skirt,
                            colors=args.colors, texture=args.texture)
    plan = world_batch.plan(args.seed, args.model, tiles=args.tiles, tile_size=args.tile_size, out=args.out,
                            formats=args.formats, xs=args.x, zs=args.z,
                            layout=world_batch.grid_layout(
                                args.model, tiles=args.tiles, tile_size=args.tile_size, relief=args.relief,
                                relief_variation=args.relief_variation, relief_scale=args.relief_scale,
                                guide=args.guide, guide_range=args.guide_range, relief_map=args.relief_map),
                            periodic=args.periodic,
                            height_range=args.height_range, options=options)
    summary = world_batch.run(plan, engine=args.engine, scheduler=args.scheduler, workers=args.workers)
    lo, hi = summary["height_range"]
    print(f"{summary['out']}: {summary['made']} tiles made, {summary['skipped']} already finished, "
          f"{summary['msamples_per_s']:.2f} Msamples/s, heights {lo:.1f}..{hi:.1f} m")
    if summary["clipped"]:
        print(f"warning: {summary['clipped']} samples fell outside the height range and were clipped "
              "(see 'clipped' in manifest.json; use --height-range exact or LO,HI in a new folder)")
