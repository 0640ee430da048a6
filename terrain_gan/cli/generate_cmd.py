"""`terrain-gan generate --seed 42 --size 1025 --out t.png`: one heightmap from a trained model."""

from pathlib import Path

from terrain_gan.errors import TerrainGanError


def register(sub):
    p = sub.add_parser("generate", help="generate a heightmap (16-bit PNG + JSON sidecar) with a trained model")
    p.add_argument("--seed", type=int, default=0, help="world seed, 0..2^32-1 (default 0)")
    p.add_argument("--size", type=int, default=1025, help="samples per side, any size >= 2 (default 1025)")
    p.add_argument("--out", required=True, help="output .png (16-bit); a .json sidecar is written beside it")
    p.add_argument("--model", default="default", help="shipped model name or weights .npz (default: default)")
    p.add_argument("--also", default="", help="comma-separated extra outputs: npy,tif,exr,r16,raw16,preview, "
                   "and meshes / engine files glb,gltf,obj,unity,godot (see `terrain-gan export`)")
    p.set_defaults(func=run)
    return p


def run(args):
    import numpy as np

    from exporters import write_files
    from terrain_gan import generation

    also = tuple(a for a in args.also.split(",") if a)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise TerrainGanError(f"{out}: output folder {out.parent} does not exist")
    if out.is_dir():
        raise TerrainGanError(f"{out}: is a folder, expected a .png file path")
    # Check the options on a tiny map first, so a bad option costs no generation time.
    dry = tuple(a for a in also if a != "unity")  # Unity's size rule is checked against --size below
    generation.output_files(generation.Heightmap(np.zeros((2, 2), np.float32), 1.0, 0, "-"), out, dry)
    if "unity" in also:
        from exporters.unity import UNITY_RESOLUTIONS

        if args.size not in UNITY_RESOLUTIONS:
            raise TerrainGanError(f"--also unity needs --size 2^n+1 (33, 65, ..., 4097), got {args.size}; "
                                  "or export the PNG later with `terrain-gan export --formats unity --resample`")
    hm = generation.generate(seed=args.seed, size=args.size, model=args.model)
    for path in write_files(generation.output_files(hm, out, also)):
        print(path)
