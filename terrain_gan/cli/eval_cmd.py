"""`terrain-gan eval`: compare generated terrain with real windows; print (and optionally save) a table.

With `--large`, a second table follows: drainage and a 23 km two-sample test on real regions and
generated maps (`evaluate_large`); with `--figure`, a PNG of real regions beside generated maps.
"""

from terrain_gan.errors import TerrainGanError


def _seed_list(text: str) -> tuple[int, ...]:
    """Parses "0,1,2" into (0, 1, 2)."""
    try:
        return tuple(int(s) for s in text.split(","))
    except ValueError:
        raise TerrainGanError(f"--map-seeds must be comma-separated integers, e.g. 0,1,2; got {text!r}") from None


def register(sub):
    p = sub.add_parser("eval", help="compare models with real terrain (spectra, slopes, relief, SWD, pits, C2ST)")
    p.add_argument("models", nargs="*", default=["v2", "v1", "dcgan_seed"],
                   help="shipped model names or weights .npz (default: v2 v1 dcgan_seed)")
    p.add_argument("--dataset", default="builtin", help="dataset .npz of real windows (default: the shipped one)")
    p.add_argument("--n", type=int, default=2000, help="windows per set (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--c2st-steps", type=int, default=300, help="training steps of the two-sample classifier")
    p.add_argument("--no-baselines", action="store_true", help="skip the real-vs-real and fBm rows")
    p.add_argument("--out", help="also write the table as Markdown and the rows as JSON beside it (.md)")
    g = p.add_argument_group("large scale (needs the eval extra: pip install 'terrain-gan[eval]')")
    g.add_argument("--large", action="store_true",
                   help="also measure drainage and C2ST on 256x256 windows (with --out: NAME_large.md/.json)")
    g.add_argument("--large-dataset", default="data/dem90v2.npz", help="training regions (default data/dem90v2.npz)")
    g.add_argument("--holdout", default="data/holdout90.npz",
                   help="regions never trained on (default data/holdout90.npz)")
    g.add_argument("--map-seeds", type=_seed_list, default=(0, 1, 2),
                   help="seeds of the generated (and fBm) maps, comma-separated (default 0,1,2)")
    g.add_argument("--map-size", type=int, default=1025, help="side of those maps in samples (default 1025)")
    g.add_argument("--large-n", type=int, default=1000, help="256x256 windows per set for the classifier")
    g.add_argument("--figure", help="also draw real regions beside generated maps as shaded relief (.png)")
    p.set_defaults(func=run)
    return p


def _check_large(args):
    """Every --large / --figure option, checked before any work."""
    from pathlib import Path

    from terrain_gan.world import synth

    if args.map_size < 256:
        raise TerrainGanError(f"--map-size must be at least 256 samples (one 256x256 window), got {args.map_size}")
    synth.check_size(args.map_size, args.map_size, what="--map-size")
    if args.large_n < 20:
        raise TerrainGanError(f"--large-n must be at least 20 windows, got {args.large_n}")
    for s in args.map_seeds:
        synth.check_seed(s)
    if args.figure is not None:
        fig = Path(args.figure)
        if fig.suffix.lower() != ".png":
            raise TerrainGanError(f"{fig}: --figure must be a .png file")
        if not fig.parent.is_dir():
            raise TerrainGanError(f"{fig}: output folder {fig.parent} does not exist")
    for path in (args.large_dataset, args.holdout):
        if not Path(path).is_file():
            raise TerrainGanError(f"{path}: dataset file not found")
    if args.large:
        from terrain_gan.eval import large as evaluate_large

        evaluate_large.require_extra()


def run(args):
    import dataclasses
    import sys
    from pathlib import Path

    from terrain_gan import fileio
    from terrain_gan.eval import evaluate

    if args.n < 20:
        raise TerrainGanError(f"--n must be at least 20 windows, got {args.n}")
    if args.c2st_steps < 1:
        raise TerrainGanError(f"--c2st-steps must be >= 1, got {args.c2st_steps}")
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        raise TerrainGanError(f"{out}: output folder {out.parent} does not exist")
    if args.large or args.figure is not None:
        _check_large(args)
    rows = evaluate.evaluate(args.models, dataset=args.dataset, n=args.n, seed=args.seed,
                             c2st_steps=args.c2st_steps, baselines=not args.no_baselines,
                             progress=lambda name: print(f"evaluating {name} ...", file=sys.stderr))
    table = evaluate.format_table(rows)
    print(table)
    if out is not None:
        fileio.write_bytes(out.with_suffix(".md"), (table + "\n").encode())
        fileio.write_json(out.with_suffix(".json"), [dataclasses.asdict(r) for r in rows])
    if args.large:
        _run_large(args, out)
    if args.figure is not None:
        _run_figure(args)


def _run_large(args, out):
    """Prints (and with --out writes) the large-scale table."""
    import dataclasses
    import sys

    from terrain_gan import fileio
    from terrain_gan.eval import large as evaluate_large

    rows = evaluate_large.evaluate_large(
        args.models, dataset=args.large_dataset, holdout=args.holdout, map_seeds=args.map_seeds,
        map_size=args.map_size, n=args.large_n, seed=args.seed, c2st_steps=args.c2st_steps,
        baselines=not args.no_baselines, progress=lambda name: print(f"evaluating {name} ...", file=sys.stderr))
    table = evaluate_large.format_table(rows)
    print()
    print(table)
    if out is not None:
        large = out.with_name(out.with_suffix("").name + "_large")
        fileio.write_bytes(large.with_suffix(".md"), (table + "\n").encode())
        fileio.write_json(large.with_suffix(".json"), [dataclasses.asdict(r) for r in rows])


def _run_figure(args):
    """Draws real regions beside every map-making model's maps and writes the PNG."""
    import sys

    from terrain_gan import fileio, pretrained
    from terrain_gan.dataset import core as dataset
    from terrain_gan.eval import evaluate, figures

    data = [dataset.load_dataset(p) for p in (args.large_dataset, args.holdout)]
    rows = [("real", figures.real_panels(data, args.map_size))]
    for name in args.models:
        model = pretrained.load_model(name)
        label = evaluate.model_label(name)
        if not model.spatial:
            print(f"{label}: makes only 64x64 windows, left out of the figure", file=sys.stderr)
        else:
            print(f"drawing {label} ...", file=sys.stderr)
            rows.append((label, figures.model_panels(model, label, args.map_seeds, args.map_size)))
    png = figures.relief_figure(rows, cell_size_m=data[0].cell_size_m, panel_cells=args.map_size)
    fileio.write_bytes(args.figure, png)
