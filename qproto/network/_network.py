"""The time-varying network: nodes, positions, edges from physics, snapshots as networkx graphs.

:class:`Network` computes, for every pair of nodes whose layers the link table connects and
for every time step, line of sight (Earth blockage, the lower end's elevation mask, a largest
range, flight windows, cloud at either end), the geometry (range, elevation at the lower
end, fraction of the path below 20 km) and the Channel of the link
(:class:`~qproto.noise_models._platform_link.PlatformLink`), vectorised over pairs and steps in
chunks of steps, so that memory stays bounded. Only existing edges are stored, as flat arrays
sorted by step (:class:`EdgeTable`); :meth:`Network.snapshot` builds the networkx graph of
one step with the figures of merit of :mod:`qproto.network._merit` as edge attributes.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from qproto._channel import Channel
from qproto._errors import InvalidParameter, InvalidType
from qproto._seeding import SeedLike, chunk_generator, root_seed
from qproto._validation import check_int, check_positive
from qproto.noise_models import platform_geometry

from ._links import EdgeModel, default_link_table, merge_link_table
from ._merit import ServiceModel, edge_merits
from ._nodes import LAYERS, WalkerConstellation, node_positions, sample_clouds, sun_direction_ecef

__all__ = ["Network", "EdgeTable"]

_CHUNK_PAIR_STEPS = 400_000  # pair-steps evaluated at once (bounded memory)


@dataclasses.dataclass(frozen=True, eq=False)
class EdgeTable:
    """Every edge at every step, as flat arrays of one length, sorted by (step, u, v).

    ``u`` is the upper (transmitting) node and ``v`` the lower (receiving) node, as indices
    into :attr:`Network.node_names`. ``kind`` indexes :attr:`kinds`.

    Attributes:
        step, u, v, kind: int arrays.
        range_m: link range [m]; elevation_deg: elevation at the lower end [deg];
        atmospheric_fraction: fraction of the path below 20 km;
        transmittance: Channel transmittance (detector excluded); noise_click: Y0;
        detector_efficiency, misalignment: of the receiving terminal.
        kinds: link-kind names.
        step_start: ``step_start[k]:step_start[k+1]`` are step k's rows.
    """

    step: np.ndarray
    u: np.ndarray
    v: np.ndarray
    kind: np.ndarray
    range_m: np.ndarray
    elevation_deg: np.ndarray
    atmospheric_fraction: np.ndarray
    transmittance: np.ndarray
    noise_click: np.ndarray
    detector_efficiency: np.ndarray
    misalignment: np.ndarray
    kinds: tuple[str, ...]
    step_start: np.ndarray

    def __len__(self) -> int:
        return int(self.step.size)

    def rows(self, step: int) -> slice:
        """The rows of one step."""
        return slice(int(self.step_start[step]), int(self.step_start[step + 1]))

    def channel(self, row: int) -> Channel:
        """The :class:`qproto.Channel` of one row."""
        return Channel(transmittance=float(self.transmittance[row]), misalignment=float(self.misalignment[row]),
                       noise_click=float(self.noise_click[row]),
                       detector_efficiency=float(self.detector_efficiency[row]))

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays [bytes]."""
        return sum(getattr(self, f.name).nbytes for f in dataclasses.fields(self)
                   if isinstance(getattr(self, f.name), np.ndarray))


def _expand_nodes(nodes: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for n in nodes:
        if isinstance(n, WalkerConstellation):
            out.extend(n.satellites())
        else:
            if not hasattr(n, "layer") or n.layer not in LAYERS:
                raise InvalidType("nodes", n, "GroundStation, LAPS, HAPS, Satellite or WalkerConstellation")
            out.append(n)
    names = [n.name for n in out]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise InvalidParameter("nodes", dup, "unique node names")
    if not out:
        raise InvalidParameter("nodes", [], "at least one node")
    return out


#: Most time steps of one network (positions and edges are held for every step).
MAX_STEPS = 10_000_000
#: Most node positions (nodes x time steps) of one network: measured peak memory is about 400 B
#: per node-step with the edges (100 satellites + 20 nodes over a day at 10 s: 1.04e6, 390 MB;
#: 200 + 20: 1.9e6, 831 MB), so this keeps a network under 1 GiB.
MAX_NODE_STEPS = 2_000_000


class Network:
    """A time-varying multi-layer network (see the module docstring).

    Args:
        nodes: ground stations, LAPS, HAPS, TLE satellites and Walker constellations.
        duration_s: time covered [s], >= 0; steps at ``0, step_s, ...`` up to ``duration_s``.
        step_s: time step [s], > 0.
        links: changes to :func:`~qproto.network.default_link_table` (``{kind: None | EdgeModel
            | {field: value}}``), or None.
        services: rates and protocol parameters of the figures of merit
            (:class:`~qproto.network.ServiceModel`).
        epoch: timezone-aware UTC start (TLE satellites, and day/night sky radiance when a link
            kind has ``day_sky_radiance_w_m2_sr_nm``).
        seed: seeds the cloud processes (the only randomness); int >= 0, SeedSequence,
            Generator or None (fresh entropy, recorded in :attr:`seed`).
        progress: optional callback ``progress(done, total)`` over chunks of edge physics.

    Raises:
        InvalidParameter, InvalidType: a bad argument (message names it).

    Examples:
        >>> from qproto.network import Network, GroundStation, HAPS
        >>> net = Network(nodes=[GroundStation(name="g", latitude_deg=35.7, longitude_deg=139.7),
        ...                      HAPS(name="h", latitude_deg=35.8, longitude_deg=139.8)],
        ...               duration_s=60, step_s=30, seed=1)
        >>> g = net.snapshot(0)
        >>> g.has_edge("h", "g"), g.edges["h", "g"]["kind"]
        (True, 'haps-ground')
    """

    def __init__(self, *, nodes: Sequence[Any], duration_s: float, step_s: float,
                 links: Mapping[str, Any] | None = None, services: ServiceModel | None = None,
                 epoch: _dt.datetime | None = None, seed: SeedLike = None, progress: Any = None):
        self.nodes = _expand_nodes(nodes)
        self.node_names = tuple(n.name for n in self.nodes)
        self.index = {n: i for i, n in enumerate(self.node_names)}
        self.step_s = check_positive("step_s", step_s)
        dur = check_positive("duration_s", duration_s) if duration_s != 0 else 0.0
        n_steps = int(math.floor(dur / self.step_s + 1e-9)) + 1
        if n_steps > MAX_STEPS:
            raise InvalidParameter("step_s", step_s, f"at least duration_s / {MAX_STEPS:,} = {dur / MAX_STEPS:g} s",
                                   f"step_s={step_s!r} over duration_s={duration_s!r} makes {n_steps:,} time steps; "
                                   f"at most {MAX_STEPS:,} are allowed (a longer step_s or a shorter duration_s)")
        node_steps = n_steps * len(self.nodes)
        if node_steps > MAX_NODE_STEPS:
            shortest = dur * len(self.nodes) / MAX_NODE_STEPS
            raise InvalidParameter("step_s", step_s, f"at least {shortest:.3g} s for {len(self.nodes)} nodes over "
                                   f"{dur:g} s", f"step_s={step_s!r} over duration_s={duration_s!r} with "
                                   f"{len(self.nodes)} nodes makes {node_steps:,} node positions; at most "
                                   f"{MAX_NODE_STEPS:,} fit in 1 GiB with their edges (step_s >= {shortest:.3g} s, or "
                                   "a shorter duration_s)")
        self.times_s = np.arange(n_steps) * self.step_s
        self.links = merge_link_table(default_link_table(), links or {})
        self.services = ServiceModel() if services is None else services
        if not isinstance(self.services, ServiceModel):
            raise InvalidType("services", services, "a qproto.network.ServiceModel")
        #: The root seed (an int; passed back as ``seed`` it reproduces the network).
        self.seed = root_seed(seed)
        self.epoch = epoch
        if progress is not None and not callable(progress):
            raise InvalidType("progress", progress, "a callable progress(done, total) or None")
        self.positions, self.available = node_positions(self.nodes, self.times_s, epoch=epoch)
        self.sunlit = np.zeros(self.available.shape, dtype=bool)
        if any(m.day_sky_radiance_w_m2_sr_nm is not None for m in self.links.values()):
            if epoch is None:
                raise InvalidParameter("epoch", None, "a timezone-aware datetime (a link kind has a day sky "
                                       "radiance, so the Sun's position is needed)")
            sun = sun_direction_ecef(epoch, self.times_s)
            up = self.positions / np.linalg.norm(self.positions, axis=-1, keepdims=True)
            self.sunlit = np.einsum("ntk,tk->nt", up, sun) > 0.0  # Sun above the local horizon
        self.layers = np.array([LAYERS.index(n.layer) for n in self.nodes])
        self.cloudy = sample_clouds(self.nodes, n_steps, self.step_s,
                                    chunk_generator(self.seed, 0))
        self.edges = self._compute_edges(progress)
        self._merits: dict[str, np.ndarray] | None = None

    # ------------------------------------------------------------------ basics
    @property
    def n_steps(self) -> int:
        """Number of time steps."""
        return int(self.times_s.size)

    @property
    def altitudes_m(self) -> np.ndarray:
        """Node altitudes over time [m], shape (n_nodes, n_steps)."""
        from qproto.noise_models import EARTH_RADIUS_M
        return np.linalg.norm(self.positions, axis=-1) - EARTH_RADIUS_M

    def node(self, name: str) -> Any:
        """The node object of a name."""
        if name not in self.index:
            raise InvalidParameter("node", name, f"one of {list(self.node_names)}")
        return self.nodes[self.index[name]]

    def _check_step(self, step: int) -> int:
        return check_int("step", step, minimum=0, maximum=self.n_steps - 1)

    # ------------------------------------------------------------------ edges
    def _compute_edges(self, progress: Any) -> EdgeTable:
        from qproto.noise_models import EARTH_RADIUS_M

        nodes, pos = self.nodes, self.positions
        alt = np.linalg.norm(pos, axis=-1) - EARTH_RADIUS_M
        mask = np.array([float(n.min_elevation_deg) for n in nodes])
        # Receiver overrides per node (aperture, detector): id 0 = the link table's terminals.
        keys: list[tuple[Any, ...]] = [()]
        override = np.zeros(len(nodes), dtype=int)
        for i, n in enumerate(nodes):
            key = tuple((k, v) for k, v in (("rx_aperture_m", n.rx_aperture_m), ("detector", n.detector))
                        if v is not None)
            if key:
                if key not in keys:
                    keys.append(key)
                override[i] = keys.index(key)
        aperture = (override, [dict(k) for k in keys])
        kinds = tuple(sorted(self.links))
        blocked = self.cloudy | ~self.available
        parts: list[dict[str, np.ndarray]] = []
        jobs = []
        for ki, kind in enumerate(kinds):
            hi, lo = kind.split("-")
            ia = [i for i, n in enumerate(nodes) if n.layer == hi]
            ib = [i for i, n in enumerate(nodes) if n.layer == lo]
            pairs = [(a, b) for a in ia for b in ib if (hi != lo or a < b)]
            if pairs:
                jobs.append((ki, kind, np.array(pairs)))
        total = sum(len(p) for _, _, p in jobs) * self.n_steps
        done = 0
        for ki, kind, pairs in jobs:
            model: EdgeModel = self.links[kind]
            chunk = max(1, _CHUNK_PAIR_STEPS // len(pairs))
            for s0 in range(0, self.n_steps, chunk):
                s1 = min(self.n_steps, s0 + chunk)
                parts.append(self._chunk(ki, model, pairs, s0, s1, pos, alt, mask, aperture, blocked, self.sunlit))
                done += len(pairs) * (s1 - s0)
                if progress is not None:
                    progress(done, total)
        names = ("step", "u", "v", "kind", "range_m", "elevation_deg", "atmospheric_fraction", "transmittance",
                 "noise_click", "detector_efficiency", "misalignment")
        cols = {n: (np.concatenate([p[n] for p in parts]) if parts else np.empty(0)) for n in names}
        for n in ("step", "u", "v"):
            cols[n] = cols[n].astype(np.int32)
        cols["kind"] = cols["kind"].astype(np.int16)
        order = np.lexsort((cols["v"], cols["u"], cols["step"]))
        cols = {n: c[order] for n, c in cols.items()}
        start = np.searchsorted(cols["step"], np.arange(self.n_steps + 1))
        return EdgeTable(**cols, kinds=kinds, step_start=start)

    def _chunk(self, ki, model, pairs, s0, s1, pos, alt, mask, aperture, blocked, sunlit) -> dict[str, np.ndarray]:
        a, b = pairs[:, 0], pairs[:, 1]
        pa, pb = pos[a, s0:s1], pos[b, s0:s1]
        d = pb - pa
        r2 = np.einsum("psk,psk->ps", d, d)
        # Cheap cuts first (range, clouds, flight windows); full geometry on what is left.
        # Co-located nodes (range 0) have no link between them.
        pi, si = np.nonzero((r2 <= model.max_range_m ** 2) & (r2 > 0.0) & ~blocked[a, s0:s1] & ~blocked[b, s0:s1])
        if pi.size == 0:
            return {k: np.empty(0) for k in ("step", "u", "v", "kind", "range_m", "elevation_deg",
                                             "atmospheric_fraction", "transmittance", "noise_click",
                                             "detector_efficiency", "misalignment")}
        geo = platform_geometry(pa[pi, si], pb[pi, si])
        ha, hb = alt[a[pi], si + s0], alt[b[pi], si + s0]
        a_upper = ha >= hb
        lower_elev = np.where(a_upper, geo.elevation_b_deg, geo.elevation_a_deg)
        lower_mask = np.where(a_upper, mask[b[pi]], mask[a[pi]])
        ok = (geo.min_ray_altitude_m >= model.min_ray_altitude_m - 1.0) & (lower_elev >= lower_mask)
        pi, si, a_upper, ha, hb, lower_elev = pi[ok], si[ok], a_upper[ok], ha[ok], hb[ok], lower_elev[ok]
        up = np.where(a_upper, a[pi], b[pi])
        low = np.where(a_upper, b[pi], a[pi])
        h_up, h_low = np.maximum(ha, hb), np.minimum(ha, hb)
        rng = geo.range_m[ok]
        min_ray = geo.min_ray_altitude_m[ok]
        eta = np.empty(pi.size)
        y0 = np.empty(pi.size)
        override, changes = aperture
        ov = override[low]
        det_eff = np.empty(pi.size)
        link = model.link
        for val in np.unique(ov).tolist():
            sel = ov == val
            lk = link.replace(**changes[val]) if val else link
            h1 = np.maximum(h_low[sel], 0.0)
            eta[sel] = lk.transmittance(range_m=rng[sel], lower_altitude_m=h1,
                                        upper_altitude_m=np.maximum(h_up[sel], h1),
                                        lower_elevation_deg=np.clip(lower_elev[sel], -90.0, 90.0),
                                        min_ray_altitude_m=min_ray[sel])["transmittance"]
            y0[sel] = lk.noise_click
            if model.day_sky_radiance_w_m2_sr_nm is not None:
                day = sel & sunlit[low, si + s0]
                y0[day] = lk.replace(sky_radiance_w_m2_sr_nm=model.day_sky_radiance_w_m2_sr_nm).noise_click
            det_eff[sel] = lk.detector.efficiency
        n = pi.size
        return {"step": si + s0, "u": up, "v": low, "kind": np.full(n, ki), "range_m": rng, "elevation_deg": lower_elev,
                "atmospheric_fraction": geo.atmospheric_fraction[ok], "transmittance": eta, "noise_click": y0,
                "detector_efficiency": det_eff,
                "misalignment": np.full(n, link.misalignment)}

    # ------------------------------------------------------------------ merits
    @property
    def merits(self) -> dict[str, np.ndarray]:
        """Figures of merit of every edge row (:func:`~qproto.network.edge_merits`), cached."""
        if self._merits is None:
            self._merits = edge_merits(self.edges, self.services)
        return self._merits

    def edge_row(self, step: int, a: str, b: str) -> int:
        """Row of the edge between two named nodes at a step.

        Raises:
            InvalidParameter: no such edge at that step.
        """
        step = self._check_step(step)
        ia, ib = self.index[self.node(a).name], self.index[self.node(b).name]
        sl = self.edges.rows(step)
        u, v = self.edges.u[sl], self.edges.v[sl]
        hit = np.nonzero(((u == ia) & (v == ib)) | ((u == ib) & (v == ia)))[0]
        if hit.size == 0:
            raise InvalidParameter("edge", (a, b), f"an edge that exists at step {step}",
                                   f"nodes {a!r} and {b!r} have no link at step {step}")
        return sl.start + int(hit[0])

    def channel(self, step: int, a: str, b: str) -> Channel:
        """The Channel of the link between two nodes at a step (the receiving end is the lower one)."""
        return self.edges.channel(self.edge_row(step, a, b))

    def snapshot(self, step: int) -> nx.Graph:
        """The network at one step as a networkx graph.

        Nodes carry ``layer``, ``position_m`` (ECEF), ``altitude_m``, ``trusted``,
        ``pair_source``, ``mdi_relay``, ``cloudy``, ``available``. Edges carry ``kind``,
        ``transmitter`` (the upper node), ``range_m``, ``elevation_deg``,
        ``atmospheric_fraction``, ``channel`` (:class:`qproto.Channel`), ``loss_db`` and every
        figure of merit of :func:`~qproto.network.edge_merits` (``key_rate_bps``,
        ``pair_rate_hz``, ``visibility``, ``fidelity``, ...).
        """
        step = self._check_step(step)
        g = nx.Graph(step=step, time_s=float(self.times_s[step]))
        alt = np.linalg.norm(self.positions[:, step], axis=-1)
        from qproto.noise_models import EARTH_RADIUS_M
        for i, n in enumerate(self.nodes):
            g.add_node(n.name, layer=n.layer, position_m=self.positions[i, step],
                       altitude_m=float(alt[i] - EARTH_RADIUS_M),
                       trusted=bool(n.trusted), pair_source=bool(n.pair_source), mdi_relay=bool(n.mdi_relay),
                       cloudy=bool(self.cloudy[i, step]), available=bool(self.available[i, step]))
        e, m = self.edges, self.merits
        for r in range(*self.edges.rows(step).indices(len(e))):
            ch = e.channel(r)
            attrs = {k: float(v[r]) for k, v in m.items()}
            g.add_edge(self.node_names[e.u[r]], self.node_names[e.v[r]], kind=e.kinds[e.kind[r]],
                       transmitter=self.node_names[e.u[r]], range_m=float(e.range_m[r]),
                       elevation_deg=float(e.elevation_deg[r]), atmospheric_fraction=float(e.atmospheric_fraction[r]),
                       channel=ch, loss_db=ch.loss_db, row=r, **attrs)
        return g

    def snapshots(self, steps: Sequence[int] | None = None) -> Iterator[nx.Graph]:
        """Yield :meth:`snapshot` for each step (default: all)."""
        for k in (range(self.n_steps) if steps is None else steps):
            yield self.snapshot(k)

    def __repr__(self) -> str:
        counts = {layer: sum(n.layer == layer for n in self.nodes) for layer in LAYERS}
        return (f"Network({counts}, steps={self.n_steps} x {self.step_s:g} s, edge-steps={len(self.edges)})")
