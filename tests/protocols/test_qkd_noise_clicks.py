"""Noise-only clicks carry a uniformly random bit, independent of everything (docs/conventions.md section 0, C.7).

A QBER check cannot see a noise bit forced to a constant: Alice's bit is uniform, so a constant
bit is still wrong half the time. These tests check the per-round marginals exactly where they
hold: P(Bob's bit = 1 | noise-only click) = 1/2 in every configuration (Alice's basis and bit,
Bob's basis), Bob's raw bit uniform, and the bits a noise click must NOT touch (Eve's record, the
other party's bit) unchanged. All expected values are written here from docs/conventions.md, not taken
from the code.
"""

from __future__ import annotations

import numpy as np
import pytest

from qproto import Channel, InterceptResend
from qproto.protocols import BB84, BBM92, DecoyBB84
from qproto.testing import assert_proportion


def _per_config_half(setting_a, bit_a, setting_b, bits, mask, what):
    """P(bits = 1 | mask, configuration) = 1/2 for every (Alice setting, Alice's prepared bit, Bob setting);
    ``bit_a=None`` when there is no prepared bit (entanglement-based protocols)."""
    for sa in np.unique(setting_a[mask]):
        for ba in (0, 1) if bit_a is not None else (None,):
            for sb in np.unique(setting_b[mask]):
                sel = mask & (setting_a == sa) & (setting_b == sb)
                if ba is not None:
                    sel &= bit_a == ba
                assert_proportion(int(bits[sel].sum()), int(sel.sum()), 0.5,
                                  what=f"{what} | a_set={sa}, a_bit={ba}, b_set={sb}")


@pytest.mark.parametrize("p_z", [0.5, 0.8])
def test_bb84_noise_only_clicks_give_a_uniform_bit_in_every_configuration(p_z):
    """docs/conventions.md 0 (squashing): transmittance 0, every click is noise: P(b = 1) = 1/2 per configuration,
    and Eve's record (she measures before the loss, Z always) still equals Alice's Z bit exactly.

    catches: noise bit forced to 0 or 1, set to Alice's bit or to a basis label, drawn with p_z instead of
    1/2, or randomising the whole outcome code (Eve's bit too).
    """
    ch = Channel(transmittance=0.0, noise_click=0.4)
    rec = BB84(p_z=p_z).sample(ch, rounds=60_000, seed=11, eavesdropper=InterceptResend(fraction=1.0, p_z=1.0))
    det = rec.detected_mask
    assert_proportion(int(det.sum()), len(rec), 0.4, what="noise-click rate")
    _per_config_half(rec.alice_setting, rec.alice_bit, rec.bob_setting, rec.bob_bit, det, "P(b=1 | noise)")
    z = det & (rec.alice_setting == 0)
    assert_proportion(int((rec.eve_bit[z] == rec.alice_bit[z]).sum()), int(z.sum()), 1.0, what="Eve = Alice (Z)")


def test_bb84_mixed_signal_and_noise_clicks_have_the_exact_marginals():
    """C.8 with a weak signal and strong noise: s = eta / (eta + (1-eta) Y0). Given a click:
    Bob's raw bit is uniform (Alice's bit is); for Alice's bit 0 in Z/Z, P(b = 1) = s p/2 + (1 - s)/2,
    in X/X (z-axis rotation theta) P(b = 1) = s (1 - (1-p) cos theta)/2 + (1 - s)/2.

    catches: a constant noise bit (P(b=1 | a=0) = s p/2 only; raw marginal s/2 + ...), noise bits that
    follow Alice's bit (P(b=1 | a=0) too small), the rotation applied to Z.
    """
    eta, y0, p, theta = 0.05, 0.5, 0.1, 0.9
    ch = Channel(transmittance=eta, noise_click=y0, depolarisation=p, rotation_rad=theta)
    rec = BB84().sample(ch, rounds=200_000, seed=12)
    det = rec.detected_mask
    s = eta / (eta + (1 - eta) * y0)
    assert_proportion(int(det.sum()), len(rec), eta + (1 - eta) * y0, what="click rate")
    assert_proportion(int(rec.bob_bit[det].sum()), int(det.sum()), 0.5, what="Bob's raw bit")
    for basis, flip in ((0, p / 2), (1, (1 - (1 - p) * np.cos(theta)) / 2)):
        sel = det & (rec.alice_bit == 0) & (rec.alice_setting == basis) & (rec.bob_setting == basis)
        assert_proportion(int(rec.bob_bit[sel].sum()), int(sel.sum()), s * flip + (1 - s) / 2,
                          what=f"P(b=1 | a=0, basis {basis})")


@pytest.mark.parametrize("noisy_arm", [0, 1])
def test_bbm92_noise_clicks_randomise_only_their_own_arm(noisy_arm):
    """A3: one arm clicks on noise only (transmittance 0, Y0 = 0.5), the other is perfect. That arm's bit is
    uniform in every configuration; the perfect arm's bit is untouched: with Eve measuring Bob's qubit in
    Z at the source, P(perfect arm's Z bit = Eve's bit) = 1 exactly, P(noisy arm's bit = Eve's) = 1/2.

    catches: a constant noise bit, the noise bit written to the other party's clbit (then the perfect arm
    loses its correlation with Eve while the noisy arm keeps it), channel[0]/channel[1] swapped.
    """
    arms = [Channel(), Channel()]
    arms[noisy_arm] = Channel(transmittance=0.0, noise_click=0.5)
    eve = InterceptResend(fraction=1.0, p_z=1.0)
    rec = BBM92(p_z=0.6, chsh_fraction=0.2).sample(tuple(arms), rounds=40_000, seed=13, eavesdropper=eve)
    det = rec.detected_mask
    assert_proportion(int(det.sum()), len(rec), 0.5, what="coincidences")
    noisy_bit, clean_bit = (rec.alice_bit, rec.bob_bit) if noisy_arm == 0 else (rec.bob_bit, rec.alice_bit)
    clean_setting = rec.bob_setting if noisy_arm == 0 else rec.alice_setting
    _per_config_half(rec.alice_setting, None, rec.bob_setting, noisy_bit, det, "P(noisy bit = 1)")
    z = det & (clean_setting == 0)
    assert_proportion(int((clean_bit[z] == rec.eve_bit[z]).sum()), int(z.sum()), 1.0, what="clean arm = Eve")
    assert_proportion(int((noisy_bit[det] == rec.eve_bit[det]).sum()), int(det.sum()), 0.5, what="noisy = Eve")


def test_bbm92_raw_bits_uniform_with_weak_signal_and_strong_noise():
    """A3 with s_A, s_B < 1: each party's raw bit is uniform given a coincidence; sifted Z agreement is
    (1 + s_A s_B)/2 (noise on either side: random); per-arm asymmetric rates.

    catches: a constant noise bit (raw marginal != 1/2), the genuine fraction w computed from one arm only
    (agreement (1 + s_A)/2 or (1 + s_B)/2), coincidences as a sum instead of a product.
    """
    ch_a = Channel(transmittance=0.1, noise_click=0.3)
    ch_b = Channel(transmittance=0.6, noise_click=0.2)
    rec = BBM92(p_z=0.5, chsh_fraction=0.0).sample((ch_a, ch_b), rounds=200_000, seed=14)
    det = rec.detected_mask
    pa, pb = 0.1 + 0.9 * 0.3, 0.6 + 0.4 * 0.2
    assert_proportion(int(det.sum()), len(rec), pa * pb, what="coincidences")
    assert_proportion(int(rec.alice_bit[det].sum()), int(det.sum()), 0.5, what="Alice's raw bit")
    assert_proportion(int(rec.bob_bit[det].sum()), int(det.sum()), 0.5, what="Bob's raw bit")
    z = det & (rec.alice_setting == 0) & (rec.bob_setting == 0)
    s_ab = (0.1 / pa) * (0.6 / pb)
    assert_proportion(int((rec.alice_bit[z] == rec.bob_bit[z]).sum()), int(z.sum()), (1 + s_ab) / 2,
                      what="Z agreement")


def test_decoy_per_pulse_noise_clicks_are_uniform_in_every_cell():
    """A2 (squashing): in the per-pulse record, P(Bob's bit = 1 | noise-only click) = 1/2 for every
    (Alice basis, Alice bit, Bob basis), and noise-only clicks occur with probability Y0 among pulses
    without a detected photon.

    catches: noise bits forced to a constant or copied from Alice's bit, noise drawn with the wrong Y0.
    """
    ch = Channel(transmittance=0.02, noise_click=0.3, depolarisation=0.05)
    rec = DecoyBB84(p_z=0.7).sample(ch, rounds=200_000, seed=15)
    cfg = rec.cell & 7
    a_basis, a_bit, b_basis = (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
    noise = rec.noise_only.astype(bool)
    _per_config_half(a_basis, a_bit, b_basis, rec.bob_bit, noise, "P(b=1 | noise)")
    signal = rec.detected.astype(bool) & ~noise
    assert_proportion(int(noise.sum()), int((~signal).sum()), 0.3, what="Y0 among non-signal pulses")


def test_decoy_counts_sampler_noise_bits_are_uniform_in_every_vacuum_cell():
    """A2, counts-first sampler: vacuum-class pulses (mu3 = 0) click on noise only; in every one of their
    8 cells the clicks whose bit is 1 are half of the clicks, including cells with Alice's bit 0 and 1
    separately (the tallies alone cannot see a constant noise bit, since Alice's bit is uniform).

    catches: ``ones`` of noise clicks drawn with p != 1/2 (or 0), noise bits following Alice's bit.
    """
    proto = DecoyBB84(intensities=(0.5, 0.1, 0.0), probabilities=(0.3, 0.3, 0.4), p_z=0.6)
    ch = Channel(transmittance=0.01, noise_click=0.2)
    compiled = proto.prepare(ch)[2]
    sent, clicked, ones = proto.sample_cell_counts(compiled, ch, 400_000, np.random.default_rng(16))
    for cell in range(16, 24):
        assert_proportion(int(ones[cell]), int(clicked[cell]), 0.5, what=f"vacuum cell {cell}")
        assert_proportion(int(clicked[cell]), int(sent[cell]), 0.2, what=f"Y0 of vacuum cell {cell}")
