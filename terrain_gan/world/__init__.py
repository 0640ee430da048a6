"""Worlds: seamless tiles from the chunk lattice, layout and guide maps, batch and Dask runs, manifests."""
