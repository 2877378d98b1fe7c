"""Shared pytest configuration."""

# the e2cnn fixture generator runs only in an e2cnn environment; never collect it
collect_ignore_glob = ["data/*"]
