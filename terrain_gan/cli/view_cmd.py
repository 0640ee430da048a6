"""`terrain-gan view t.png` or `terrain-gan view world/`: the map in 3D in the browser, served on 127.0.0.1."""


def register(sub):
    p = sub.add_parser("view", help="show a heightmap or a world folder in 3D in the browser (local server)",
                       description="Serve a 3D view of a heightmap (t.png + t.json, .npy, .tif, .exr) or a world "
                                   "folder (manifest.json, tiles, overview) on 127.0.0.1 until Ctrl-C.")
    p.add_argument("path", help="heightmap file, or world folder")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="print the URL only; do not open a browser")
    p.set_defaults(func=run)
    return p


def run(args):
    import signal
    import sys
    import webbrowser

    from terrain_gan.cli import view_server
    from terrain_gan.errors import TerrainGanError

    if not 0 <= args.port <= 65535:
        raise TerrainGanError(f"--port must be 0..65535, got {args.port}")
    server, thread = view_server.start(view_server.open_source(args.path), args.port)
    url = view_server.url_of(server)
    # Ctrl-C or SIGTERM stops the server, even when started where SIGINT is ignored (a script's background job)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    print(f"terrain-gan view: serving {args.path} at {url} (Ctrl-C to stop)", flush=True)
    if not args.no_browser and not webbrowser.open(url):
        print("terrain-gan view: no browser found; open the URL above in one", flush=True)
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        print("terrain-gan view: stopped", file=sys.stderr)
    finally:
        server.shutdown()
        server.server_close()
