"""Shared pytest configuration: a hypothesis profile suited to Aer-backed tests."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "qproto",
    deadline=None,
    max_examples=25,
    derandomize=True,  # fixed examples: the statistical tolerances then never flake
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("qproto"), max_examples=200,
                          derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "qproto"))
