"""qproto.bench (under construction)."""
