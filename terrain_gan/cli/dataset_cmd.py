"""`terrain-gan dataset build|info`: turn real DEM files into a training dataset, or describe one."""

from __future__ import annotations

from pathlib import Path


def register(sub):
    """Adds `dataset build` and `dataset info`."""
    p = sub.add_parser("dataset", help="build or inspect a training dataset of real DEM windows")
    cmds = p.add_subparsers(dest="dataset_command", required=True)
    b = cmds.add_parser("build", help="resample DEM files into one compact .npz")
    b.add_argument("inputs", nargs="+", metavar="DEM_FOLDER_OR_FILE", help="DEM files or folders of them")
    b.add_argument("--out", required=True, metavar="FILE.npz", help="dataset file to write")
    b.add_argument("--cell-size", type=float, default=90.0, metavar="M", help="target cell size in metres")
    b.add_argument("--window", type=int, default=64, metavar="N", help="training window side in cells")
    b.add_argument("--max-upsample", type=float, default=1.25, metavar="X",
                   help="skip DEMs that would need more upsampling than this")
    b.add_argument("--keep-sea", action="store_true",
                   help="keep flats at or below 0 m touching the map edge (default: they are sea, made void)")
    b.set_defaults(func=run)
    c = cmds.add_parser("coarsen", help="a dataset seen at coarser cells (block means): a cascade's coarse level")
    c.add_argument("dataset", metavar="IN.npz", help="dataset to coarsen")
    c.add_argument("--out", required=True, metavar="FILE.npz", help="dataset file to write")
    c.add_argument("--factor", type=int, default=4, metavar="K", help="cells per coarse cell along each axis")
    c.add_argument("--window", type=int, default=64, metavar="N", help="training window side in coarse cells")
    c.set_defaults(func=run)
    i = cmds.add_parser("info", help="print a dataset's regions and statistics")
    i.add_argument("file", nargs="?", default="builtin", help="dataset .npz (default: the shipped one)")
    i.set_defaults(func=run)
    return p


def run(args):
    """Dispatches to build or info."""
    if args.dataset_command == "build":
        _build(args)
    elif args.dataset_command == "coarsen":
        from terrain_gan.dataset.build import coarsen

        s = coarsen(args.dataset, args.out, factor=args.factor, window=args.window)
        print(f"wrote {s['out']} ({s['bytes'] / 1e6:.1f} MB): {s['regions']} regions, {s['valid_windows']} windows; "
              f"height mean {s['height_mean_m']:.1f} m, std {s['height_std_m']:.1f} m")
    else:
        _info(args)


def _build(args):
    from terrain_gan.dataset.build import build

    s = build(args.inputs, args.out, cell_size_m=args.cell_size, window=args.window,
              max_upsample=args.max_upsample, keep_sea=args.keep_sea)
    rows = [(Path(r.path).name, r.status + (f": {r.reason}" if r.reason else ""),
             f"{r.shape[0]}x{r.shape[1]}" if r.shape else "-", str(r.windows) if r.status == "used" else "-")
            for r in s["files"] if r.status != "ignored"]
    _table(("file", "status", f"size@{args.cell_size:g}m", "windows"), rows)
    ignored = [Path(r.path).name for r in s["files"] if r.status == "ignored"]
    if ignored:
        print(f"ignored {len(ignored)} non-DEM file(s): {', '.join(ignored)}")
    print(f"wrote {s['out']} ({s['bytes'] / 1e6:.1f} MB): {s['regions']} regions, {s['valid_windows']} windows; "
          f"height mean {s['height_mean_m']:.1f} m, std {s['height_std_m']:.1f} m, grad_std {s['grad_std']:.2f} m")
    print(f"sources listed in {s['attribution']}")


def _info(args):
    from terrain_gan.dataset.core import load_dataset

    s = load_dataset(args.file).summary()
    rows = [(r["name"], r["source"], f"{r['shape'][0]}x{r['shape'][1]}", f"{100 * r['void_fraction']:.1f}%",
             str(r["valid_windows"])) for r in s["regions"]]
    _table(("region", "source", "size", "void", "windows"), rows)
    print(f"{s['path']}: {len(rows)} regions at {s['cell_size_m']:g} m, window {s['window']}, "
          f"{s['valid_windows']} usable windows (relief >= {s['flat_relief_m']:g} m, no void)")
    print(f"height mean {s['height_mean_m']:.2f} m, std {s['height_std_m']:.2f} m, grad_std {s['grad_std']:.3f} m")


def _table(header, rows):
    """Prints left-aligned columns."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
