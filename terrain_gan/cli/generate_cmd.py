"""`terrain-gan generate --seed 42 --size 1025 --out t.png`: one heightmap from a trained model."""


def register(sub):
    p = sub.add_parser("generate", help="generate a heightmap (16-bit PNG + JSON sidecar) with a trained model",
                       epilog="--also html writes t.html beside t.png: the map in a self-contained 3D viewer "
                              "(three.js inlined; opens from file://). `terrain-gan view t.png` serves the same.")
    p.add_argument("--seed", type=int, default=0, help="world seed, 0..2^32-1 (default 0)")
    p.add_argument("--size", type=int, default=1025, help="samples per side, any size >= 2 (default 1025)")
    p.add_argument("--out", required=True, help="output .png (16-bit); a .json sidecar is written beside it")
    p.add_argument("--model", default="default", help="shipped model name (v2, v1, dcgan_seed) or weights .npz (default: v2)")
    p.add_argument("--also", default="", help="comma-separated extra outputs: npy,tif,exr,r16,raw16,preview, "
                   "and meshes / engine files glb,gltf,obj,unity,godot (see `terrain-gan export`), "
                   "masks (texturing masks and splat maps)")
    p.set_defaults(func=run)
    return p


def run(args):
    from terrain_gan import generation

    p = generation.plan(args.seed, args.size, args.model, out=args.out, also=args.also)
    for path in generation.run(p):
        print(path)
