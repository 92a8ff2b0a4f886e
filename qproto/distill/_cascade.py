"""Cascade (Brassard & Salvail 1993), block sizes of Martinez-Mateo et al. 2015.

The protocol (Bob corrects his string towards Alice's over an authenticated public channel):
pass p shuffles the positions with a public permutation and cuts them into blocks of
k_p bits; Alice discloses the parity of every block; in each block whose parities
differ Bob runs a binary search (Alice discloses the parity of the left half at each
step: ceil(log2 size) parities) and flips the one bit it finds. A flip changes the
parity of the block containing that bit in every earlier pass, so those blocks now
show an odd difference and are searched too (the cascade), until no block of any pass
so far differs.

Block sizes: the "modified Cascade" recommended by Martinez-Mateo, Pacher, Peev,
Ciurana & Martin, "Demystifying the information reconciliation protocol Cascade",
QIC 15 (2015): with alpha = log2(1/Q) - 1/2, k_1 = min(2**ceil(alpha), n/2),
k_2 = min(2**ceil((alpha + 12)/2), n/2), k_p = n/2 for p >= 3, 16 passes.

Leakage: every parity Alice discloses is one bit (block parities and every
binary-search step); Bob's parities reveal nothing more about Alice's string, since
they equal Alice's parity xor the error parity, which is independent of her bits.

Implementation (vectorised with numpy): Bob's decisions depend only on whether his
parity differs from Alice's, i.e. on the parity of the error pattern e = a xor b
within a range. The simulation therefore keeps the sorted positions (in each pass's
order) of the bits where the strings still differ and answers every parity comparison
with ``searchsorted`` counts; this gives exactly the messages and corrections the
two-party protocol produces, all blocks of a pass searched at once. What Bob ends up
with is returned (his string with the found bits flipped); residual errors are possible
(even error counts in every block) and are what verification catches.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from qproto._errors import InvalidParameter
from qproto._validation import check_in_range, check_int
from qproto.distill._bits import as_bits

__all__ = ["CascadeResult", "cascade", "cascade_block_sizes"]


@dataclasses.dataclass(frozen=True, eq=False)
class CascadeResult:
    """Outcome of :func:`cascade`.

    Attributes:
        corrected: Bob's string after Cascade (uint8 0/1).
        leaked_bits: parities Alice disclosed (bits).
        rounds: rounds of communication (one message each way counts as one round:
            one per pass for the block parities, one per binary-search step).
        flipped: number of bits Bob flipped (his estimate of the errors corrected).
        block_sizes: k_p of each pass.
    """

    corrected: np.ndarray
    leaked_bits: int
    rounds: int
    flipped: int
    block_sizes: tuple[int, ...]


def cascade_block_sizes(n: int, qber: float, passes: int = 16) -> tuple[int, ...]:
    """Block sizes of the modified Cascade (module docs) for n bits at QBER ``qber``.

    Args:
        n: key length in bits, >= 2.
        qber: the estimated error rate, in (0, 0.5); values below 1e-6 are treated as 1e-6.
        passes: number of passes, >= 1.
    """
    n = check_int("n", n, minimum=2)
    q = check_in_range("qber", qber, 0.0, 0.5, hi_open=True)
    passes = check_int("passes", passes, minimum=1)
    alpha = math.log2(1.0 / max(q, 1e-6)) - 0.5
    half = max(1, n // 2)
    k1 = min(2 ** math.ceil(alpha), half)
    k2 = min(2 ** math.ceil((alpha + 12.0) / 2.0), half)
    return tuple([k1, k2][:passes] + [half] * max(0, passes - 2))


def _search(sorted_err: np.ndarray, lo: np.ndarray, hi: np.ndarray, node: np.ndarray, known: np.ndarray,
            tree: int) -> tuple[np.ndarray, int, int]:
    """Binary search in every range [lo, hi) holding an odd number of the sorted positions.

    ``node`` is each range's global node id in its pass's search trees (block * tree + heap
    index, root 1, children 2h and 2h + 1) and ``known`` the
    pass's flags of the sub-block parities already disclosed (or implied by disclosed
    ones); they are not disclosed again, and the flags are updated in place.
    Returns (found positions, parities disclosed, rounds of communication).
    """
    lo, hi, node = lo.copy(), hi.copy(), node.copy()
    leaked = steps = 0
    while True:
        active = np.flatnonzero(hi - lo > 1)
        if not active.size:
            return lo, leaked, steps
        l, h, nd = lo[active], hi[active], node[active]
        mid = l + (h - l) // 2
        left = np.searchsorted(sorted_err, mid) - np.searchsorted(sorted_err, l)
        odd = (left & 1).astype(bool)
        left_node = nd + nd % tree  # block * tree + 2h
        fresh = ~known[left_node]
        leaked += int(fresh.sum())
        steps += int(fresh.any())  # a message only when some parity had to be disclosed
        known[left_node] = True
        known[left_node + 1] = True  # the right half's parity follows from the parent's
        hi[active] = np.where(odd, mid, h)
        lo[active] = np.where(odd, l, mid)
        node[active] = np.where(odd, left_node, left_node + 1)


def cascade(alice: np.ndarray, bob: np.ndarray, *, qber: float, seed: int, passes: int = 16,
            block_sizes: tuple[int, ...] | None = None) -> CascadeResult:
    """Reconcile Bob's bits with Alice's by Cascade (module docs).

    Args:
        alice, bob: the two strings, 1-D 0/1 arrays of equal length n >= 2.
        qber: the estimated QBER in [0, 0.5) that sets the block sizes.
        seed: int >= 0, seed of the public permutations (pass p uses
            ``SeedSequence(seed, spawn_key=(p,))``).
        passes: number of passes, >= 1 (default 16).
        block_sizes: explicit k_p per pass (each >= 1), overriding ``qber``.

    Returns:
        :class:`CascadeResult`.
    """
    a = as_bits("alice", alice)
    b = as_bits("bob", bob)
    if a.size != b.size:
        raise InvalidParameter("bob", f"{b.size} bits", f"as many bits as alice ({a.size})")
    n = a.size
    seed = check_int("seed", seed, minimum=0)
    if block_sizes is None:
        ks = cascade_block_sizes(n, qber, passes)
    else:
        ks = tuple(check_int(f"block_sizes[{i}]", k, minimum=1) for i, k in enumerate(block_sizes))
        if not ks:
            raise InvalidParameter("block_sizes", block_sizes, "at least one block size")
    diff = np.flatnonzero(a != b)  # bit indices where the strings still differ
    pos: list[np.ndarray] = []     # pos[p][j] = index of bit j in pass p's order
    perm: list[np.ndarray] = []
    parity: list[np.ndarray] = []  # per pass and block: parity of the remaining errors (Bob's != Alice's)
    known: list[np.ndarray] = []   # per pass: flags of the sub-block parities already disclosed
    trees: list[int] = []
    leaked = rounds = 0
    for p, k in enumerate(ks):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(p,))))
        order = rng.permutation(n).astype(np.int64)
        inv = np.empty(n, dtype=np.int64)
        inv[order] = np.arange(n, dtype=np.int64)
        perm.append(order)
        pos.append(inv)
        n_blocks = -(-n // k)
        tree = 2 << max(0, math.ceil(math.log2(k)))
        trees.append(tree)
        flags = np.zeros(n_blocks * tree, dtype=bool)
        flags[np.arange(n_blocks) * tree + 1] = True  # Alice discloses every block's parity
        known.append(flags)
        parity.append((np.bincount(inv[diff] // k, minlength=n_blocks) & 1).astype(np.uint8))
        leaked += n_blocks
        rounds += 1
        # Search odd blocks, lowest pass first, until every pass so far is even everywhere.
        while diff.size:
            q = next((q for q in range(p + 1) if parity[q].any()), None)
            if q is None:
                break
            odd = np.flatnonzero(parity[q])
            sorted_err = np.sort(pos[q][diff])
            lo = odd * ks[q]
            hi = np.minimum(lo + ks[q], n)
            found, disclosed, steps = _search(sorted_err, lo, hi, odd * trees[q] + 1, known[q], trees[q])
            leaked += disclosed
            rounds += steps
            fixed = perm[q][found]
            diff = np.setdiff1d(diff, fixed, assume_unique=True)
            for r in range(p + 1):  # each fixed bit flips its block's error parity in every pass
                np.bitwise_xor.at(parity[r], pos[r][fixed] // ks[r], np.uint8(1))
    corrected = a.copy()
    corrected[diff] ^= 1  # Bob's string: Alice's except where errors remain
    flipped = int(np.count_nonzero(corrected != b))
    return CascadeResult(corrected=corrected, leaked_bits=int(leaked), rounds=int(rounds), flipped=flipped,
                         block_sizes=ks)
