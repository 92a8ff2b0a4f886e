"""LDPC syndrome reconciliation with rate adaptation (Elkouss, Martinez-Mateo & Martin 2011).

**Codes.** Quasi-cyclic LDPC codes, generated reproducibly from a seed: a base matrix of
``BASE_COLUMNS`` = 40 columns and m_b = round(40 (1 - R0)) rows for each mother rate R0 in
:data:`MOTHER_RATES`, lifted by Z x Z circulant permutations. The last m_b columns form a
dual-diagonal (staircase) parity part of degree 2 (identity circulants, as in IEEE 802.11n),
the information columns have degree 3 except one in three of degree 10 (capped at m_b; an
irregular distribution, which decoded closer to capacity than the others tried, see
``benchmarks/DISTILL.md``); rows are chosen to keep check degrees balanced and every other
circulant shift is drawn from ``SeedSequence(CODE_SEED, spawn_key=(rate index, Z))``,
redrawn while it would close a 4-cycle. So a (rate, frame length) pair is the same code on
every machine.

**Rate adaptation.** A frame of N = 40 Z bits holds n = N - d key bits plus d modulated
positions (d = round(delta N), default delta = 0.1), p punctured (Alice fills them with
private random bits; Bob knows nothing of them) and s = d - p shortened (bits known to both).
Alice discloses her frame's syndrome (m = N (1 - R0) bits); the leakage about the key is
m - p bits per frame, so p sets the efficiency: for a target f, m - p = f n h(Q), clipped to
0 <= p <= d. The positions of the modulated bits are drawn from the public seed.

**Interleaving.** The block is permuted with a public permutation before it is cut into frames
(and restored afterwards), so a QBER that drifts along the block, as across a satellite pass, is
spread evenly over the frames.

**Decoding** with the ``ldpc`` package's compiled belief-propagation decoder
(:class:`ldpc.BpDecoder`, sum-product by default: min-sum lost about 0.2 in f on these codes): Bob decodes the difference
syndrome H (x_A xor x_B) with per-bit error probabilities Q (key), 1/2 (punctured) and ~0
(shortened). A frame whose decoded pattern does not reproduce the syndrome is a detected
failure: both discard it (its syndrome still counts as leaked). A frame that converges to the
wrong pattern would be an undetected failure; a 32-bit hash of each frame's key bits (counted as
leaked) turns it into a detected one. Before giving a frame up, the
blind variant of Martinez-Mateo, Elkouss & Martin (QIC 2012) reveals punctured values step by
step (each revealed value is one more leaked bit) and decodes again. By default each step reveals
2 % of n h(Q) (so f rises by about 0.02 per step) and the frame starts from :func:`auto_f_start`,
an efficiency measured to sit just below where these codes decode most frames at the first attempt:
starting lower only buys failed decodes (each a full ``max_iter`` of BP), starting higher leaks more.
One decoder per (code, thread) is cached across calls; its channel is set afresh for every frame.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np
import scipy.sparse

from qproto._errors import InvalidParameter
from qproto._validation import check_in_range, check_int, check_one_of
from qproto.distill._bits import as_bits
from qproto.distill._hashing import seed_bits, toeplitz_seed_length, verification_tag
from qproto.distill._reconcile import Reconciliation
from qproto.security import binary_entropy

__all__ = ["MOTHER_RATES", "BASE_COLUMNS", "CODE_SEED", "AUTO_F_START", "auto_f_start", "qc_ldpc_matrix",
           "ldpc_reconcile", "choose_mother_rate"]

BASE_COLUMNS = 40
#: Mother-code rates; m_b = round(40 (1 - R0)) base rows each.
MOTHER_RATES = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
CODE_SEED = 20110501
_SHORTENED_P = 1e-12  # error probability given to shortened positions (known to both)


@functools.lru_cache(maxsize=32)
def qc_ldpc_matrix(rate: float, lift: int) -> scipy.sparse.csr_matrix:
    """The parity-check matrix (m_b Z x 40 Z, CSR, uint8) of the mother code of ``rate`` (module docs).

    Args:
        rate: one of :data:`MOTHER_RATES`.
        lift: circulant size Z >= 8.
    """
    if rate not in MOTHER_RATES:
        raise InvalidParameter("rate", rate, f"one of {list(MOTHER_RATES)}")
    z = check_int("lift", lift, minimum=8)
    nb = BASE_COLUMNS
    mb = int(round(nb * (1.0 - rate)))
    kb = nb - mb
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(CODE_SEED,
                                                                     spawn_key=(MOTHER_RATES.index(rate), z))))
    shifts = -np.ones((mb, nb), dtype=np.int64)  # base matrix: circulant shift, -1 = zero block
    for t in range(mb):  # staircase: parity column t meets rows t and t + 1 (identity circulants)
        shifts[t, kb + t] = 0
        if t + 1 < mb:
            shifts[t + 1, kb + t] = 0
    load = np.zeros(mb, dtype=np.int64)
    for j in range(kb):
        degree = min(10 if j % 3 == 0 else 3, mb)
        chosen = np.lexsort((rng.random(mb), load))[:degree]  # least-loaded rows, ties at random
        load[chosen] += 1
        for r in chosen:
            shifts[r, j] = _shift_without_4_cycles(shifts, r, j, z, rng)
    rows, cols = [], []
    base_row = np.arange(z)
    for r, j in zip(*np.nonzero(shifts >= 0)):
        rows.append(r * z + base_row)
        cols.append(j * z + (base_row + shifts[r, j]) % z)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    return scipy.sparse.csr_matrix((np.ones(r.size, dtype=np.uint8), (r, c)), shape=(mb * z, nb * z))


def _shift_without_4_cycles(shifts: np.ndarray, r: int, j: int, z: int, rng: np.random.Generator) -> int:
    """A random shift for base entry (r, j) that closes no 4-cycle in the lifted graph (up to 200 draws).

    With another row r2 of column j and a column j2 holding both rows, a 4-cycle exists iff
    s(r, j) - s(r2, j) + s(r2, j2) - s(r, j2) = 0 (mod Z).
    """
    others = np.flatnonzero(shifts[:, j] >= 0)
    s = int(rng.integers(0, z))
    for _ in range(200):
        clash = False
        for r2 in others:
            both = np.flatnonzero((shifts[r] >= 0) & (shifts[r2] >= 0))
            both = both[both != j]
            if both.size and np.any((s - shifts[r2, j] + shifts[r2, both] - shifts[r, both]) % z == 0):
                clash = True
                break
        if not clash:
            return s
        s = int(rng.integers(0, z))
    return s


def choose_mother_rate(qber: float, f_target: float, delta: float, *, position: float = 0.5) -> float:
    """The mother rate whose adaptation range [1 - m/(N - d), 1 - (m - d)/(N - d)] (per N) holds the
    target rate 1 - f h(Q), closest to ``position`` of the way from its low end (0.5: the middle; near
    1: the target needs almost every modulated bit punctured, which leaves the most room for blind
    reveals); the nearest end when no range holds it."""
    target = 1.0 - f_target * float(binary_entropy(qber))
    best, best_cost = MOTHER_RATES[0], math.inf
    for r0 in MOTHER_RATES:
        m = 1.0 - r0
        lo, hi = 1.0 - m / (1.0 - delta), 1.0 - (m - delta) / (1.0 - delta)
        aim = lo + position * (hi - lo)
        cost = abs(target - aim) if lo <= target <= hi else 10.0 + min(abs(target - lo), abs(target - hi))
        if cost < best_cost:
            best, best_cost = r0, cost
    return best


@functools.lru_cache(maxsize=16)
def _decoder(rate: float, lift: int, max_iter: int, bp_method: str, msf: float, thread: int):
    """A cached :class:`ldpc.BpDecoder` for one mother code (one per thread: it holds channel state)."""
    from ldpc import BpDecoder

    n = BASE_COLUMNS * lift
    return BpDecoder(qc_ldpc_matrix(rate, lift), error_channel=np.full(n, 0.1), max_iter=max_iter,
                     bp_method=bp_method, ms_scaling_factor=msf, schedule="parallel",
                     input_vector_type="syndrome")


#: Starting efficiency by QBER when ``f_target`` is None: just below where these codes decode most frames
#: at the first attempt with 100 sum-product iterations (measured, benchmarks/DISTILL.md); the blind
#: steps reveal the rest frame by frame. Linear in between, constant outside.
AUTO_F_START = ((0.01, 1.45), (0.02, 1.25), (0.05, 1.15), (0.08, 1.09))


def auto_f_start(qber: float) -> float:
    """The starting efficiency :func:`ldpc_reconcile` aims at for ``qber`` when ``f_target`` is None."""
    qs, fs = zip(*AUTO_F_START)
    return float(np.interp(qber, qs, fs))


def ldpc_reconcile(alice: np.ndarray, bob: np.ndarray, *, qber: float, seed: int, f_target: float | None = None,
                   frame_bits: int = 16_000, delta: float = 0.1, max_iter: int = 100,
                   bp_method: str = "product_sum", ms_scaling_factor: float = 0.75,
                   blind_steps: int = 8, frame_check_bits: int = 32, blind_step: float = 0.02,
                   range_position: float = 0.5) -> Reconciliation:
    """Reconcile by LDPC syndromes with rate adaptation (module docs).

    Args:
        alice, bob: 1-D 0/1 arrays of equal length.
        qber: estimated QBER in (0, 0.5) that sets the code and the puncturing.
        seed: int >= 0 of the public randomness (modulated positions, shortened values).
        f_target: efficiency the frames start from, >= 1 (higher: fewer frame errors and blind
            steps, more leakage); None (default): :func:`auto_f_start` of ``qber``.
        frame_bits: key bits per frame (n = N - d), >= 64; the lift Z is ceil(n / (40 (1 - delta))).
        delta: share of modulated (punctured + shortened) positions per frame, in [0, 0.5).
        max_iter: BP iterations, >= 1.
        bp_method: ``"product_sum"`` or ``"minimum_sum"``.
        ms_scaling_factor: min-sum scaling in (0, 1].
        blind_steps: after a detected failure Alice reveals some of the frame's punctured values
            (they become shortened, each one more leaked bit) and Bob decodes again, up to
            ``blind_steps`` times (the last time every punctured value left) or until none is left (blind reconciliation,
            Martinez-Mateo, Elkouss & Martin, QIC 12 (2012)); 0 disables it.
        frame_check_bits: Alice also discloses a Toeplitz hash of this many bits of each frame's key
            bits (counted as leaked); a decoded frame whose hash differs is a detected failure, so a
            decoder that converges to the wrong word no longer fails the whole block's verification
            (0 disables it).
        blind_step: bits revealed per blind step as a share of n h(Q), in [0, 1] (0.02: f rises
            by about 0.02 per step); 0: ceil(p / blind_steps) bits per step.
        range_position: where in a mother code's adaptation range the target rate should sit,
            in [0, 1] (0.5: the middle; see :func:`choose_mother_rate`).

    Returns:
        :class:`~qproto.distill.Reconciliation`; ``kept`` marks the bits of frames that decoded.
    """
    a = as_bits("alice", alice)
    b = as_bits("bob", bob)
    if a.size != b.size:
        raise InvalidParameter("bob", f"{b.size} bits", f"as many bits as alice ({a.size})")
    q = check_in_range("qber", qber, 0.0, 0.5, lo_open=True, hi_open=True)
    seed = check_int("seed", seed, minimum=0)
    f_t = auto_f_start(q) if f_target is None else check_in_range("f_target", f_target, 1.0, 10.0)
    frame_bits = check_int("frame_bits", frame_bits, minimum=64)
    delta = check_in_range("delta", delta, 0.0, 0.5, hi_open=True)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    msf = check_in_range("ms_scaling_factor", ms_scaling_factor, 0.0, 1.0, lo_open=True)
    check_one_of("bp_method", bp_method, ("product_sum", "minimum_sum"))
    blind_steps = check_int("blind_steps", blind_steps, minimum=0)
    frame_check_bits = check_int("frame_check_bits", frame_check_bits, minimum=0, maximum=256)
    blind_step = check_in_range("blind_step", blind_step, 0.0, 1.0)
    range_position = check_in_range("range_position", range_position, 0.0, 1.0)

    n_total = a.size
    # Public interleaving: frames then hold bits from the whole block, so a QBER that drifts along the
    # block (the edges of a satellite pass) is spread evenly over the frames.
    shuffle = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1,)))).permutation(n_total)
    a, b = a[shuffle], b[shuffle]
    frame_bits = min(frame_bits, max(n_total, 64))
    frame_bits = max(64, -(-n_total // -(-n_total // frame_bits)))  # equal frames: no nearly empty last one
    z = max(8, math.ceil(frame_bits / (BASE_COLUMNS * (1.0 - delta))))
    big_n = BASE_COLUMNS * z
    d = big_n - frame_bits
    r0 = choose_mother_rate(q, f_t, d / big_n, position=range_position)
    h = qc_ldpc_matrix(r0, z)
    m = h.shape[0]
    p = int(np.clip(round(m - f_t * frame_bits * float(binary_entropy(q))), 0, d))
    s = d - p
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    positions = rng.permutation(big_n)
    key_pos, punct_pos, short_pos = positions[:frame_bits], positions[frame_bits:frame_bits + p], positions[
        frame_bits + p:]
    probs = np.full(big_n, q)
    probs[punct_pos] = 0.5
    probs[short_pos] = _SHORTENED_P
    decoder = _decoder(r0, z, max_iter, bp_method, float(msf), threading.get_ident())
    decoder.update_channel_probs(probs)

    n_frames = -(-n_total // frame_bits)
    corrected = b.copy()
    kept = np.ones(n_total, dtype=bool)
    leaked = 0
    rounds = 0
    detected_fail = undetected_fail = 0
    step = 0
    if blind_steps and p:  # bits revealed per blind step: a share of p, or of n h(Q) when blind_step > 0
        step = max(1, -(-p // blind_steps))
        if blind_step:
            step = max(1, math.ceil(blind_step * frame_bits * float(binary_entropy(q))))
    for f in range(n_frames):
        lo, hi = f * frame_bits, min((f + 1) * frame_bits, n_total)
        width = hi - lo
        word_a = np.zeros(big_n, dtype=np.uint8)
        word_b = np.zeros(big_n, dtype=np.uint8)
        word_a[key_pos[:width]] = a[lo:hi]
        word_b[key_pos[:width]] = b[lo:hi]
        word_a[punct_pos] = rng.integers(0, 2, p, dtype=np.uint8)   # Alice's private padding
        shortened = rng.integers(0, 2, s, dtype=np.uint8)         # public values
        word_a[short_pos] = shortened
        word_b[short_pos] = shortened
        frame_probs = probs
        if width < frame_bits:  # a short last frame: the unused key positions are shortened (zeros)
            frame_probs = probs.copy()
            frame_probs[key_pos[width:]] = _SHORTENED_P
            decoder.update_channel_probs(frame_probs)
        syn_a = (h @ word_a) % 2
        leaked += m - p
        rounds += 1
        check_a = None
        if frame_check_bits:  # Alice's short hash of the frame's key bits (disclosed once, counted)
            check_seed = seed_bits(int(rng.integers(0, 2**62)), toeplitz_seed_length(max(width, frame_check_bits),
                                                                                    frame_check_bits))
            check_a = verification_tag(a[lo:hi], check_seed, frame_check_bits)
            leaked += frame_check_bits
        revealed = steps_done = 0
        while True:
            syndrome = (syn_a ^ (h @ word_b) % 2).astype(np.uint8)
            err = np.asarray(decoder.decode(syndrome), dtype=np.uint8)
            ok = bool(np.array_equal((h @ err) % 2, syndrome))
            if ok and check_a is not None:  # a decoded word that is not Alice's is a detected failure too
                ok = bool(np.array_equal(verification_tag(b[lo:hi] ^ err[key_pos[:width]], check_seed,
                                                          frame_check_bits), check_a))
            if ok or revealed >= p or not step or steps_done >= blind_steps:
                break
            # blind step: Alice reveals the values of some punctured bits, which become shortened
            steps_done += 1  # the last step reveals every punctured value left: one last chance
            idx = punct_pos[revealed:revealed + step] if steps_done < blind_steps else punct_pos[revealed:]
            revealed += idx.size
            word_b[idx] = word_a[idx]
            if frame_probs is probs:
                frame_probs = probs.copy()
            frame_probs[idx] = _SHORTENED_P
            decoder.update_channel_probs(frame_probs)
            leaked += int(idx.size)
            rounds += 1
        if frame_probs is not probs:
            decoder.update_channel_probs(probs)
        if not ok:
            detected_fail += 1
            kept[lo:hi] = False
            continue
        corrected[lo:hi] = b[lo:hi] ^ err[key_pos[:width]]
        if not np.array_equal(corrected[lo:hi], a[lo:hi]):  # simulation-side: an undetected failure
            undetected_fail += 1
    flipped = int(np.count_nonzero(corrected != b))
    unshuffled, kept_out = np.empty_like(corrected), np.empty_like(kept)
    unshuffled[shuffle], kept_out[shuffle] = corrected, kept
    corrected, kept = unshuffled, kept_out
    return Reconciliation(method="ldpc", corrected=corrected, leaked_bits=int(leaked), rounds=rounds,
                          frames=n_frames, frame_errors=detected_fail + undetected_fail, errors_corrected=flipped,
                          kept=kept, mother_rate=r0, punctured=p, shortened=s)
