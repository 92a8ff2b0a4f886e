"""qproto's public verification harness.

Property-test your own protocol designs the way qproto tests its own:

* hypothesis strategies for channels, protocol parameters, eavesdroppers and seeds
  (need the ``testing`` extra: ``pip install qproto[testing]``);
* invariant checkers that apply docs/conventions.md's statistical tolerance (5 sigma + 1/N
  for proportions, 5 sigma for CHSH) and raise :class:`InvariantViolation`.

``qproto verify PROTOCOL`` (and :func:`verify_protocol`) runs the invariants a protocol
declares (``Protocol.INVARIANTS``) and prints a report.

Example::

    from hypothesis import given, settings
    from qproto import get_protocol
    from qproto.testing import noisy_channels, seeds, assert_matches_expected

    @settings(max_examples=10, deadline=None)
    @given(channel=noisy_channels(), seed=seeds())
    def test_my_bb84_variant_matches_theory(channel, seed):
        bb84 = get_protocol("bb84")
        result = bb84.run(channel, rounds=50_000, seed=seed)
        assert_matches_expected(result, bb84.expected(channel))
"""

from qproto.testing._checkers import (
    SIGMAS,
    Comparison,
    InvariantViolation,
    assert_chsh,
    assert_keys_equal,
    assert_matches_expected,
    assert_proportion,
    assert_reproducible,
    assert_round_trip,
    assert_same_proportion,
    compare_to_expected,
    proportion_tolerance,
    required_trials,
)
from qproto.testing._independence import (
    INDEPENDENCE_ALPHA,
    IndependenceTest,
    assert_independent,
    assert_independent_of_sender,
    assert_same_distribution,
    assert_subsets_learn_nothing,
    independence_test,
)

__all__ = [
    "SIGMAS", "Comparison", "InvariantViolation", "assert_chsh", "assert_keys_equal", "assert_matches_expected",
    "compare_to_expected",
    "assert_proportion", "assert_reproducible", "assert_round_trip", "assert_same_proportion", "proportion_tolerance", "required_trials",
]
__all__ += ["INDEPENDENCE_ALPHA", "IndependenceTest", "assert_independent", "assert_independent_of_sender",
            "assert_same_distribution", "assert_subsets_learn_nothing", "independence_test"]

from qproto.testing._verify import (
    STANDARD_INVARIANTS,
    InvariantReport,
    VerificationReport,
    verify_protocol,
)

__all__ += ["STANDARD_INVARIANTS", "InvariantReport", "VerificationReport", "verify_protocol"]

try:  # strategies need hypothesis (the 'testing' extra)
    from qproto.testing._strategies import (
        asymmetric_channels,
        bb84_params,
        bbm92_params,
        biased_bases,
        channel_tuples,
        channels,
        intercept_resend,
        noisy_channels,
        probabilities,
        protocol_params,
        rotated_channels,
        rotation_axes,
        seeds,
    )

    __all__ += ["asymmetric_channels", "bb84_params", "bbm92_params", "biased_bases", "channel_tuples",
                "channels", "intercept_resend", "noisy_channels", "probabilities", "protocol_params",
                "rotated_channels", "rotation_axes", "seeds"]
except ImportError:  # pragma: no cover - hypothesis missing
    pass
