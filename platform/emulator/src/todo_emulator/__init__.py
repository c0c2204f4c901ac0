"""The local AWS emulator: moto's server, one request at a time, with named corrections."""

__version__ = "0.1.0"
