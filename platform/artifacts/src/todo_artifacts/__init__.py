"""The deployable artifacts: deterministic Lambda zips and Glue Python-shell bundles."""

__version__ = "0.1.0"
