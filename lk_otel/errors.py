"""The one exception type misconfiguration raises."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad configuration, raised by ``setup_tracing()``; the message names the argument or
    environment variable at fault and never contains a secret."""
