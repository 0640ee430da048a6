"""The networks (JAX only, no files): generator, discriminator, latent lattice, losses."""
