"""MyElectricalData gateway access: the v2 client, the legacy v1 adapter, typed errors, parsing."""

from app.gateway.base import CallListener, Gateway
from app.gateway.client import DEFAULT_BASE_URL, GatewayClient
from app.gateway.retry import RetryPolicy, TooManyRequestsError
from app.gateway.v1 import DEFAULT_V1_BASE_URL, LegacyGatewayClient

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_V1_BASE_URL",
    "CallListener",
    "Gateway",
    "GatewayClient",
    "LegacyGatewayClient",
    "RetryPolicy",
    "TooManyRequestsError",
]
