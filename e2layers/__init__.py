"""e2layers: e2cnn's public API on cached steerable kernel bases (not implemented yet)."""
