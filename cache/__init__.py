"""cache: a persistent, shared, crash-safe HDF5 store of sampled kernel bases (not implemented yet)."""
