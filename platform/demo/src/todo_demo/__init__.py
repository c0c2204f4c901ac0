"""The demo: the whole product on the local stack, end to end, verified."""

__version__ = "0.1.0"
