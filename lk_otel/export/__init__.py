"""Export: the official OTLP, file and console exporters, made safe for a live call."""
