"""Training: the jitted step, the resumable loop, checkpoints."""
