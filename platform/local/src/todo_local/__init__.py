"""The local stack for tests: emulator launcher, provisioning, fixtures, stream runner."""

__version__ = "0.1.0"
