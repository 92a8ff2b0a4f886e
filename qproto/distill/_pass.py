"""Distillation of a whole (or windowed) decoy-state BB84 satellite pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from qproto._channel import Channel
from qproto._engine import Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto._seeding import SeedLike, root_seed
from qproto._validation import check_bool, check_in_range, check_positive
from qproto.distill._chain import DecoySettings, DistillResult, distill
from qproto.distill._material import pass_key_material

__all__ = ["pass_channels", "optimise_for_pass", "distill_pass"]


def pass_channels(link: Any, *, pointing: str | None = "weak", slot_s: float = 1.0,
                  half_window_s: float | None = None) -> tuple[tuple[Channel, ...], np.ndarray]:
    """(channels, slot times [s]) of a link preset's pass, optionally cut to |t| <= half_window_s."""
    try:
        from qproto.passes import link_pass_channels
    except ImportError:  # before qproto.passes existed
        from qproto._pass import link_pass_channels
    kw = {} if half_window_s is None else {"max_half_window_s": check_positive("half_window_s", half_window_s)}
    chans, times = link_pass_channels(link, pointing=pointing, slot_s=check_positive("slot_s", slot_s), **kw)
    return tuple(chans), np.asarray(times, dtype=float)


def optimise_for_pass(channels: Sequence[Channel], *, source_rate_hz: float, slot_s: float = 1.0,
                      protocol: Any = None, f_ec: float = 1.1, n_starts: int = 2) -> Any:
    """A DecoyBB84 whose intensities, probabilities and p_Z maximise the expected finite key of the
    slots (:func:`qproto.security.optimise_decoy_parameters` on docs/conventions.md A2 expected counts).

    Args:
        channels: one Channel per slot.
        source_rate_hz: pulse rate [Hz], > 0.
        slot_s: slot duration [s], > 0.
        protocol: the DecoyBB84 whose other parameters (eps, tails, ...) are kept (default DecoyBB84()).
        f_ec: the error-correction efficiency the optimiser assumes, >= 1 (the chain itself uses
            the measured leakage).
        n_starts: optimiser starts, >= 1.
    """
    from qproto.protocols import DecoyBB84
    from qproto.security import optimise_decoy_parameters

    protocol = DecoyBB84() if protocol is None else protocol
    if not isinstance(protocol, DecoyBB84):
        raise InvalidType("protocol", protocol, "a qproto.protocols.DecoyBB84")
    chans = tuple(channels)
    pulses = float(round(check_positive("source_rate_hz", source_rate_hz) * check_positive("slot_s", slot_s)))
    eta = np.array([c.total_transmittance for c in chans])
    y0 = np.array([c.noise_click for c in chans])
    keep = np.array([1.0 - c.qubit_depolarisation for c in chans])
    rot = np.array([np.diag(c.rotation_matrix) for c in chans]).reshape(len(chans), 3)
    e_d_z = np.clip((1.0 - keep * rot[:, 2]) / 2.0, 0.0, 0.5)
    e_d_x = np.clip((1.0 - keep * rot[:, 0]) / 2.0, 0.0, 0.5)
    opt = optimise_decoy_parameters(n_pulses=pulses, eta=eta, y0=y0, e_d=e_d_z, e_d_x=e_d_x,
                                    eps_sec=protocol.eps_sec, eps_cor=protocol.eps_cor,
                                    f_ec=check_in_range("f_ec", f_ec, 1.0, math.inf, hi_open=True),
                                    mu3=protocol.intensities[2], n_starts=n_starts, seed=0)
    return protocol.replace(**opt.parameters.as_kwargs())


def distill_pass(link: Any = "leo-haps", *, pointing: str | None = "weak", half_window_s: float | None = None,
                 source_rate_hz: float = 2e8, slot_s: float = 1.0, channels: Sequence[Channel] | None = None,
                 protocol: Any = None, optimise: bool = True, method: str = "cascade", seed: SeedLike = None,
                 test_fraction: float = 0.05, engine: Engine | None = None, ec_options: dict | None = None
                 ) -> tuple[DistillResult, Any]:
    """Simulate a decoy-state BB84 pass (or the slots with |t| <= half_window_s) and distill its key.

    Args:
        link: a link preset name (e.g. ``"leo-haps"``) or a Link; ignored when ``channels`` is given.
        pointing: pointing-error level of the preset (``"weak"``, ``"moderate"``, ``"strong"``).
        half_window_s: keep the slots with |t| <= this [s] (None: the whole pass).
        source_rate_hz: pulse rate [Hz].
        slot_s: slot duration [s].
        channels: explicit per-slot channels instead of a link.
        protocol: a DecoyBB84 (default DecoyBB84(); its parameters are optimised when ``optimise``).
        optimise: optimise intensities, probabilities and p_Z for these slots first.
        method: error correction (``"cascade"`` or ``"ldpc"``).
        seed: root seed: the pass is simulated with it and the chain's public randomness derives from it.
        test_fraction: share of the sifted Z bits disclosed for parameter estimation.
        engine: execution settings.
        ec_options: options of the error-correction method.

    Returns:
        ``(result, protocol)``: the :class:`DistillResult` and the DecoyBB84 that was simulated.
    """
    from qproto.protocols import DecoyBB84

    if channels is None:
        chans, _ = pass_channels(link, pointing=pointing, slot_s=slot_s, half_window_s=half_window_s)
    else:
        chans = tuple(channels)
        if not chans:
            raise InvalidParameter("channels", chans, "at least one slot")
    protocol = DecoyBB84() if protocol is None else protocol
    if not isinstance(protocol, DecoyBB84):
        raise InvalidType("protocol", protocol, "a qproto.protocols.DecoyBB84")
    if check_bool("optimise", optimise):
        protocol = optimise_for_pass(chans, source_rate_hz=source_rate_hz, slot_s=slot_s, protocol=protocol)
    root = root_seed(seed)
    material = pass_key_material(protocol, chans, source_rate_hz=source_rate_hz, slot_s=slot_s, seed=root,
                                 engine=engine)
    result = distill(material, protocol="decoy-bb84", method=method, seed=root, test_fraction=test_fraction,
                     eps_sec=protocol.eps_sec, eps_cor=protocol.eps_cor, decoy=DecoySettings.of(protocol),
                     ec_options=ec_options)
    return result, protocol
