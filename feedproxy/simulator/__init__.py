"""The election-night simulator: an upstream that behaves like the office's XML server, for the proxy's tests.

- ``Simulation(election, duration, batches, seed, start, repeats, layout, runoff_start)``: every document as a
  pure function of (path, query, elapsed seconds), on the office's 2025+ ``/appdata/`` paths, the old ``/pls/``
  ones or both; prez2023 and senat2028 with a run-off of their own, ps2021, ps2017, kz2028; see ``simulation``.
- ``SimulatorServer(simulation, host, port, clock)``: the same over HTTP, with fault injection and upstream
  hit counts under ``/_control/``; see ``server`` for the control API.
- ``feedproxy simulate`` / ``python -m feedproxy.simulator``: ``cli.main``.
"""

from feedproxy.simulator.clock import Clock
from feedproxy.simulator.faults import FaultBook, FaultRule
from feedproxy.simulator.server import SimulatorServer
from feedproxy.simulator.simulation import ELECTIONS, Rendered, Reply, Simulation

__all__ = ["ELECTIONS", "Clock", "FaultBook", "FaultRule", "Rendered", "Reply", "Simulation", "SimulatorServer"]
