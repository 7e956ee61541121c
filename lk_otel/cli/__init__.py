"""The ``lk-otel`` command line: ``demo``, ``check`` and ``report``."""
