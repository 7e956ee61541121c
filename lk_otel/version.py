"""The package's version, at the bottom of the import order (``pyproject.toml`` reads it)."""

from __future__ import annotations

__version__ = "0.1.0"
