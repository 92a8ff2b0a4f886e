"""qproto.network: a time-varying multi-layer NTN network on networkx.

Nodes (ground stations, LAPS, HAPS, satellites from TLEs or a Walker constellation) move
over time; edges come from physics (line of sight, elevation masks, range, atmosphere, the
link's :class:`qproto.Channel`) with figures of merit from the protocols' closed forms;
snapshots are networkx graphs; routing serves trusted-relay keys, swapped entanglement and
MDI-QKD; a controller allocates demands over time; :func:`verify_path` checks a path's
graph-level figures against the circuit protocols. See ``docs/network.md``.
"""

from qproto.network._controller import Allocation, Demand, DemandReport, allocate
from qproto.network._links import EdgeModel, default_link_table, link_kind
from qproto.network._merit import (
    ServiceModel,
    channel_merits,
    dual_downlink,
    edge_merits,
    mdi_link,
    swapped_chain,
    werner_chain_fidelity,
)
from qproto.network._network import EdgeTable, Network
from qproto.network._nodes import HAPS, LAPS, GroundStation, Satellite, WalkerConstellation, node_positions
from qproto.network._scenario import (
    Scenario,
    ScenarioResult,
    available_scenarios,
    load_scenario,
    plot_accumulated,
    plot_snapshot,
    run_scenario,
)
from qproto.network._routing import (
    accumulated_key_graph,
    best_mdi_relay,
    entanglement_graph,
    entanglement_path,
    stored_key_flow,
    stored_key_series,
    widest_bottlenecks,
    widest_path,
)
from qproto.network._verify import PathVerification, demand_route, verify_demand, verify_path

__all__ = [
    "Allocation", "Demand", "DemandReport", "EdgeModel", "EdgeTable", "GroundStation", "HAPS", "LAPS", "Network",
    "PathVerification", "Satellite", "Scenario", "ScenarioResult", "ServiceModel", "WalkerConstellation",
    "accumulated_key_graph", "allocate", "available_scenarios", "load_scenario", "plot_accumulated", "plot_snapshot",
    "run_scenario",
    "best_mdi_relay", "channel_merits", "default_link_table", "dual_downlink", "edge_merits", "entanglement_graph",
    "entanglement_path", "link_kind", "mdi_link", "node_positions", "stored_key_flow", "stored_key_series", "swapped_chain",
    "demand_route", "verify_demand", "verify_path", "werner_chain_fidelity", "widest_bottlenecks", "widest_path",
]
