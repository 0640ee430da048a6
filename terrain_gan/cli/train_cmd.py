"""`terrain-gan train --config C --workdir W`: train (or resume) a model."""

from terrain_gan.errors import TerrainGanError


def register(sub):
    p = sub.add_parser("train", help="train a GAN from a config; re-running resumes from the last checkpoint")
    p.add_argument("--config", required=True, help="TOML config, e.g. configs/default.toml")
    p.add_argument("--workdir", required=True, help="folder for checkpoints, samples, logs and weights.npz")
    p.add_argument("--steps", type=int, help="override train.steps")
    p.set_defaults(func=run)
    return p


def run(args):
    import dataclasses

    from terrain_gan import config
    from terrain_gan.train import loop as train_loop

    cfg = config.load(args.config)
    if args.steps is not None:
        if args.steps < 1:
            raise TerrainGanError(f"--steps must be >= 1, got {args.steps}")
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, steps=args.steps))
    if cfg.model.kind == "cascade":
        if args.steps is not None:
            raise TerrainGanError("--steps: a cascade's steps are set in each level's config")
        out = train_loop.run_cascade(cfg, args.config, args.workdir)
        print(f"trained the levels of {cfg.name}: {out}")
        return
    state = train_loop.run(cfg, args.workdir)
    print(f"trained {cfg.name} to step {state.step}: {args.workdir}/weights.npz")
