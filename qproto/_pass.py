"""Former home of the pass API; kept so that existing imports work. Use :mod:`qproto.passes`."""

from qproto.passes import (  # noqa: F401
    DecoyPassResult,
    LinkPass,
    PassKeyCurve,
    PassKeyRow,
    PassProgress,
    expected_pass_counts,
    link_pass,
    link_pass_channels,
    pass_key_curve,
    simulate_pass,
    slot_arrays,
)

__all__ = ["DecoyPassResult", "LinkPass", "PassKeyRow", "PassKeyCurve", "simulate_pass", "expected_pass_counts",
           "pass_key_curve", "link_pass", "link_pass_channels", "slot_arrays"]
