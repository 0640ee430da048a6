"""`terrain-gan eval`: compare generated terrain with real windows; print (and optionally save) a table."""

from terrain_gan.errors import TerrainGanError


def register(sub):
    p = sub.add_parser("eval", help="compare models with real terrain (spectra, slopes, relief, SWD, pits, C2ST)")
    p.add_argument("models", nargs="*", default=["default", "dcgan_seed"],
                   help="shipped model names or weights .npz (default: default dcgan_seed)")
    p.add_argument("--dataset", default="builtin", help="dataset .npz of real windows (default: the shipped one)")
    p.add_argument("--n", type=int, default=2000, help="windows per set (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    p.add_argument("--c2st-steps", type=int, default=300, help="training steps of the two-sample classifier")
    p.add_argument("--no-baselines", action="store_true", help="skip the real-vs-real and fBm rows")
    p.add_argument("--out", help="also write the table as Markdown and the rows as JSON beside it (.md)")
    p.set_defaults(func=run)
    return p


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
    rows = evaluate.evaluate(args.models, dataset=args.dataset, n=args.n, seed=args.seed,
                             c2st_steps=args.c2st_steps, baselines=not args.no_baselines,
                             progress=lambda name: print(f"evaluating {name} ...", file=sys.stderr))
    table = evaluate.format_table(rows)
    print(table)
    if out is not None:
        fileio.write_bytes(out.with_suffix(".md"), (table + "\n").encode())
        fileio.write_json(out.with_suffix(".json"), [dataclasses.asdict(r) for r in rows])
