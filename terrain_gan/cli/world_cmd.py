"""`terrain-gan world --seed 7 --tiles 16x16 --tile-size 513 --out world/`: a seamless tiled world.

Parses arguments into a `world.recipe.WorldConfig` (a --config recipe file, flags on top) and calls
`recipe.plan` / `world.batch.run`; see docs/WORLDS.md.
"""

from __future__ import annotations

import argparse

from terrain_gan.errors import TerrainGanError


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
    from terrain_gan.cli.options import ALSO_HELP, add_export_arguments

    p = sub.add_parser("world", help="generate a seamless world of tiles (resumable, in-process or on Dask)",
                       description="Writes every tile of a world as engine-ready files (names ending _X_Z), "
                                   "manifest.json and overview.png. Re-running resumes. See docs/WORLDS.md.")
    # Defaults live in world.recipe.WorldConfig: an option not given leaves the recipe's value (--config).
    p.add_argument("--config", metavar="RECIPE.toml",
                   help="a world recipe (e.g. configs/worlds/archipelago.toml); options given here override it")
    p.add_argument("--seed", type=int, help="world seed, 0..2^32-1 (default 0)")
    p.add_argument("--tiles", type=_grid, metavar="NXxNZ", help="the world's grid, e.g. 16x16 (required without --config)")
    p.add_argument("--tile-size", type=int, help="samples per tile side, k*16+1, e.g. 257, 513, 1025 (default 513)")
    p.add_argument("--out", required=True, help="the world's folder (created; its parent must exist)")
    p.add_argument("--formats", help=f"comma-separated: {','.join(FORMAT_NAMES)} (default png16,npy)")
    p.add_argument("--also", help=ALSO_HELP + "; masks of neighbouring tiles agree on their shared edge")
    p.add_argument("--x", type=_span, metavar="A:B", help="make only tile columns A..B-1 (split a world into jobs)")
    p.add_argument("--z", type=_span, metavar="A:B", help="make only tile rows A..B-1")
    p.add_argument("--model", help="shipped model name (v2, v1, dcgan_seed) or weights .npz (default: v2)")
    p.add_argument("--periodic", action="store_true", default=None, help="the world wraps around its grid (a torus)")
    g = p.add_argument_group("layout")
    g.add_argument("--relief", type=float, help="overall relief multiplier (default 1)")
    g.add_argument("--relief-variation", type=float,
                   help="how much relief varies across the world, std of log-relief (default 0.3; 0 = uniform)")
    g.add_argument("--relief-scale", type=int, help="samples between relief-field nodes (default 2048)")
    g.add_argument("--guide", help="coarse elevation sketch over the whole grid: PNG (grey), .npy or DEM file")
    g.add_argument("--guide-range", type=_range, metavar="LO,HI",
                   help="metres for a PNG guide's black and white (default: 0 and the model's mean + 2 std)")
    g.add_argument("--relief-map", help="relief multipliers over the grid: PNG (mid-grey = 1x, white = 2x) or .npy")
    g.add_argument("--roughness", type=float,
                   help="model v2: -2..2, below 0 more plains, above 0 more mountains (default 0: the model's own mix)")
    e = p.add_argument_group("export")
    e.add_argument("--height-range", type=_range, metavar="auto|exact|LO,HI",
                   help="metres for 16-bit codes 0..65535, one range for the whole world (default auto; "
                        "write negative values as --height-range=-100,2000)")
    add_export_arguments(e, defaults=False)
    d = p.add_argument_group("engine")
    d.add_argument("--engine", choices=("local", "dask"), default="local", help="where tiles are made")
    d.add_argument("--scheduler", help="Dask scheduler address tcp://host:port (default: a LocalCluster)")
    d.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    p.set_defaults(func=run)
    return p


def recipe_of(args):
    """The world's recipe: the --config file (or the defaults) with the options given on top."""
    from terrain_gan.cli.options import also_formats, export_flags
    from terrain_gan.world import recipe

    if args.config is None and args.tiles is None:
        raise TerrainGanError("terrain-gan world: the following arguments are required: --tiles")
    cfg = recipe.load(args.config) if args.config else recipe.WorldConfig()
    gr, hr = args.guide_range, args.height_range
    if isinstance(gr, str):
        raise TerrainGanError(f"--guide-range: expected LO,HI metres, got {gr!r}")
    cfg = recipe.with_flags(
        cfg, dict(seed=args.seed, model=args.model, tiles=args.tiles, tile_size=args.tile_size, periodic=args.periodic),
        dict(relief=args.relief, relief_variation=args.relief_variation, relief_scale=args.relief_scale,
             guide=args.guide, relief_map=args.relief_map, guide_range=None if gr is None else tuple(gr),
             roughness=args.roughness),
        dict(formats=args.formats, height_range=None if hr is None else recipe.range_text(hr), **export_flags(args)))
    if args.also:
        cfg = recipe.with_flags(cfg, {}, {}, dict(formats=also_formats(cfg.export.formats, args.also)))
    return recipe.check(cfg, args.config or "--tiles")


def run(args):
    from terrain_gan.world import batch as world_batch
    from terrain_gan.world import recipe

    plan = recipe.plan(recipe_of(args), args.out, xs=args.x, zs=args.z, recorded=args.config is not None)
    summary = world_batch.run(plan, engine=args.engine, scheduler=args.scheduler, workers=args.workers)
    lo, hi = summary["height_range"]
    print(f"{summary['out']}: {summary['made']} tiles made, {summary['skipped']} already finished, "
          f"{summary['msamples_per_s']:.2f} Msamples/s, height range {lo:.1f}..{hi:.1f} m (the scale every tile's "
          "16-bit files share; --height-range exact gives the heights made)")
    if summary["clipped"]:
        print(f"warning: {summary['clipped']} samples fell outside the height range and were clipped "
              "(see 'clipped' in manifest.json; use --height-range exact or LO,HI in a new folder)")
