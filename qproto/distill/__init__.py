"""qproto.distill (under construction)."""
