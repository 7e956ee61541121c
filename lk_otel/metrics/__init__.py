"""Metrics: live per-turn latency histograms and usage counters over OTLP."""
