"""`terrain-gan export`: (stub, being built)."""


def register(sub):
    p = sub.add_parser("export", help="(not yet available)")
    p.set_defaults(func=run)
    return p


def run(args):
    from terrain_gan.errors import TerrainGanError

    raise TerrainGanError("export: not implemented yet")
