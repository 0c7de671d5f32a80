"""The package version: one low module, so nothing imports the package ``__init__`` for it."""

__version__ = "0.1.0"
