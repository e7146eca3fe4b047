"""A faithful fake of the MyElectricalData gateway (v2 and legacy v1): the only fake in the test suite
and the `--demo` data source. See ../shared/gateway-api.md for the contract it follows."""

from app.gateway.simulator.app import create_simulator_app
from app.gateway.simulator.faults import ALL_FAULTS
from app.gateway.simulator.model import SimulatedData, SimulatedUsagePoint, default_usage_points
from app.gateway.simulator.state import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_V1_TOKENS,
    SIMULATOR_STATE,
    RequestLogEntry,
    SimulatorConfig,
    SimulatorState,
)

__all__ = [
    "ALL_FAULTS",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_V1_TOKENS",
    "SIMULATOR_STATE",
    "RequestLogEntry",
    "SimulatedData",
    "SimulatedUsagePoint",
    "SimulatorConfig",
    "SimulatorState",
    "create_simulator_app",
    "default_usage_points",
]
