"""qproto.network (under construction)."""
