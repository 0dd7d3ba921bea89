"""`python -m translator` is the same program as `registries-translator`."""

from .cli import entry

entry()
