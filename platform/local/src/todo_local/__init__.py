"""The local stack: emulator, provisioning, fixtures."""

__version__ = "0.1.0"
