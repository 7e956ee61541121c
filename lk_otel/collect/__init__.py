"""Collect: what livekit reports outside its spans (session events), joined to the spans."""
