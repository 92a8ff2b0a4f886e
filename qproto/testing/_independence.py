"""Statistical independence checkers for anonymity and secret-sharing designs.

docs/conventions.md section B: sampled distribution equality fails at a chi-square / G-test
p-value below 1e-6. These checkers build a contingency table of a label (who sent,
the dealer's secret bit, ...) against an observation (the public broadcasts, a
coalition's data, ...), test independence with :func:`scipy.stats.chi2_contingency`
(G-test by default) and raise :class:`~qproto.testing.InvariantViolation` when the
p-value falls below ``alpha``.

Observations may be integer codes (1-D) or rows of values (2-D, one row per round);
rows are mapped to categories. Categories seen fewer than ``min_expected`` times per
label on average are pooled into one category (pooling by the label-independent
column totals keeps the test valid), so sparse tables do not inflate the statistic.

Example::

    from qproto import Channel, get_protocol
    from qproto.testing import assert_independent_of_sender

    records = {s: get_protocol("anonymous-bit", parties=4, sender=s)
                  .sample(Channel(), rounds=20_000, seed=s).broadcasts for s in range(4)}
    assert_independent_of_sender(records)
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from scipy import stats

from qproto._errors import InvalidParameter
from qproto._validation import check_in_range, check_one_of, check_positive
from qproto.testing._checkers import InvariantViolation

__all__ = [
    "INDEPENDENCE_ALPHA", "IndependenceTest", "independence_test", "assert_independent",
    "assert_same_distribution", "assert_independent_of_sender", "assert_subsets_learn_nothing",
]

#: Fail when the p-value is below this (docs/conventions.md section B).
INDEPENDENCE_ALPHA = 1e-6


@dataclasses.dataclass(frozen=True)
class IndependenceTest:
    """Outcome of a test of independence between labels and observations.

    Attributes:
        statistic: the G (or chi-square) statistic.
        dof: degrees of freedom.
        p_value: probability of a statistic at least this large under independence.
        n: number of rounds.
        n_labels, n_categories: table shape after pooling rare categories.
        method: ``"g-test"`` or ``"chi-square"``.
    """

    statistic: float
    dof: int
    p_value: float
    n: int
    n_labels: int
    n_categories: int
    method: str


def _codes(observations: Any) -> np.ndarray:
    obs = np.asarray(observations)
    if obs.ndim == 1:
        return np.unique(obs, return_inverse=True)[1].ravel()
    if obs.ndim == 2:
        if obs.shape[1] == 0:
            return np.zeros(obs.shape[0], dtype=np.int64)
        return np.unique(obs, axis=0, return_inverse=True)[1].ravel()
    raise InvalidParameter("observations", obs.shape, "a 1-D array of codes or a 2-D array of rows")


def independence_test(labels: Any, observations: Any, *, method: Literal["g-test", "chi-square"] = "g-test",
                      min_expected: float = 5.0) -> IndependenceTest:
    """Test whether ``observations`` are independent of ``labels``.

    Args:
        labels: one label per round (any hashable values; 1-D).
        observations: one observation per round: integer codes (1-D) or rows (2-D).
        method: ``"g-test"`` (log-likelihood ratio) or ``"chi-square"`` (Pearson).
        min_expected: categories whose total count is below ``min_expected`` times the
            number of labels are pooled into one.

    Returns:
        An :class:`IndependenceTest`; ``p_value`` is 1 when the table has a single row or column.

    Raises:
        InvalidParameter: lengths differ, fewer than 2 rounds, bad method.
    """
    check_one_of("method", method, ("g-test", "chi-square"))
    check_positive("min_expected", min_expected)
    lab = np.unique(np.asarray(labels), return_inverse=True)[1].ravel()
    obs = _codes(observations)
    if lab.shape[0] != obs.shape[0]:
        raise InvalidParameter("observations", obs.shape[0], f"one per label ({lab.shape[0]})")
    if lab.shape[0] < 2:
        raise InvalidParameter("labels", lab.shape[0], "at least 2 rounds")
    n_lab, n_obs = int(lab.max()) + 1, int(obs.max()) + 1
    table = np.zeros((n_lab, n_obs), dtype=np.int64)
    np.add.at(table, (lab, obs), 1)
    col = table.sum(axis=0)
    rare = col < min_expected * n_lab
    if rare.any() and (~rare).any():
        table = np.concatenate([table[:, ~rare], table[:, rare].sum(axis=1, keepdims=True)], axis=1)
    elif rare.all():
        table = table.sum(axis=1, keepdims=True)
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return IndependenceTest(0.0, 0, 1.0, int(lab.shape[0]), table.shape[0], table.shape[1], method)
    res = stats.chi2_contingency(table, correction=False,
                                 lambda_="log-likelihood" if method == "g-test" else "pearson")
    return IndependenceTest(float(res.statistic), int(res.dof), float(res.pvalue), int(lab.shape[0]),
                            table.shape[0], table.shape[1], method)


def assert_independent(labels: Any, observations: Any, *, alpha: float = INDEPENDENCE_ALPHA,
                       what: str = "observations", method: Literal["g-test", "chi-square"] = "g-test") -> IndependenceTest:
    """Raise :class:`InvariantViolation` if ``observations`` depend on ``labels`` (p < ``alpha``).

    Returns the :class:`IndependenceTest` when it passes.
    """
    alpha = check_in_range("alpha", alpha, 0.0, 1.0, lo_open=True, hi_open=True)
    t = independence_test(labels, observations, method=method)
    if t.p_value < alpha:
        raise InvariantViolation(f"{what} depend on the label: {t.method} statistic {t.statistic:.1f} on {t.dof} "
                                 f"dof, p = {t.p_value:.3g} < alpha = {alpha:g} (n = {t.n}, "
                                 f"{t.n_labels} labels x {t.n_categories} categories)")
    return t


def assert_same_distribution(*samples: Any, alpha: float = INDEPENDENCE_ALPHA,
                             what: str = "samples") -> IndependenceTest:
    """Raise :class:`InvariantViolation` unless all ``samples`` (arrays of codes or rows) come from
    one distribution (homogeneity test: the sample index is the label)."""
    if len(samples) < 2:
        raise InvalidParameter("samples", len(samples), "at least 2 samples")
    arrays = [np.asarray(s) for s in samples]
    if len({a.ndim for a in arrays}) != 1 or (arrays[0].ndim == 2 and len({a.shape[1] for a in arrays}) != 1):
        raise InvalidParameter("samples", [a.shape for a in arrays], "arrays of the same width")
    labels = np.concatenate([np.full(len(a), i) for i, a in enumerate(arrays)])
    return assert_independent(labels, np.concatenate(arrays), alpha=alpha, what=what)


def assert_independent_of_sender(broadcasts_by_sender: Mapping[Any, Any], *,
                                 alpha: float = INDEPENDENCE_ALPHA) -> IndependenceTest:
    """The public broadcasts of an anonymous protocol must not depend on who sent.

    Args:
        broadcasts_by_sender: sender (or (sender, receiver)) -> broadcasts of its runs,
            shape ``(rounds, N)`` (or 1-D codes).
    """
    if len(broadcasts_by_sender) < 2:
        raise InvalidParameter("broadcasts_by_sender", list(broadcasts_by_sender), "at least 2 senders")
    return assert_same_distribution(*broadcasts_by_sender.values(), alpha=alpha,
                                    what=f"broadcasts of senders {list(broadcasts_by_sender)}")


def assert_subsets_learn_nothing(secret: Any, private: Any, public: Any | None = None, *,
                                 subsets: Iterable[Sequence[int]] | None = None,
                                 alpha: float = INDEPENDENCE_ALPHA) -> list[IndependenceTest]:
    """No strict subset of the players may learn the secret from its data and the public data.

    Args:
        secret: the secret per round (e.g. the dealer's bit), 1-D.
        private: ``(rounds, n_players)``: each player's private data per round.
        public: ``(rounds, k)`` data everyone sees (e.g. announced bases), or ``None``.
        subsets: column sets to test (default: every non-empty strict subset of the players).
        alpha: significance level. With many subsets, each is tested at ``alpha``.

    Returns:
        The tests, one per subset.
    """
    private = np.asarray(private)
    if private.ndim != 2:
        raise InvalidParameter("private", private.shape, "a 2-D array (rounds, players)")
    m = private.shape[1]
    if subsets is None:
        subsets = [s for r in range(1, m) for s in itertools.combinations(range(m), r)]
    pub = None if public is None else np.asarray(public).reshape(private.shape[0], -1)
    out = []
    for s in subsets:
        data = private[:, list(s)]
        if pub is not None:
            data = np.concatenate([data, pub], axis=1)
        out.append(assert_independent(secret, data, alpha=alpha, what=f"data of players {tuple(s)}"))
    return out
