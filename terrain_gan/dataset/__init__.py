"""Training windows from DEMs: build a dataset file, load it, draw normalised windows."""
