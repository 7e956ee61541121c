"""Enrich: livekit's spans gain the latency breakdown, usage, cost and backend mappings."""
