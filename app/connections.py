"""The add-on's neighbours: the MQTT broker and Home Assistant Core's API, as connection data.

The add-on runtime (app/addon.py) finds them (the MQTT_* / HA_* settings or the supervisor) and hands
them to the exporters; an exporter whose own host/URL fields are filled builds the same objects.
"""

from __future__ import annotations

import secrets
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.settings import Secret

if TYPE_CHECKING:
    import aiomqtt


@dataclass(frozen=True, slots=True, init=False)
class MqttBroker:
    """A broker found by the supervisor (services/mqtt), given by the MQTT_* settings, or typed into
    an exporter's own fields. The password stays a Secret until the client is built."""

    host: str
    port: int
    username: str
    password: Secret
    tls: bool

    def __init__(
        self, host: str, port: int = 1883, username: str = "", password: Secret | str = "", tls: bool = False
    ) -> None:
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "port", port)
        object.__setattr__(self, "username", username)
        object.__setattr__(self, "password", password if isinstance(password, Secret) else Secret(password))
        object.__setattr__(self, "tls", tls)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def client(
        self,
        purpose: str,
        *,
        tls_context: ssl.SSLContext | None = None,
        will: aiomqtt.Will | None = None,
        timeout: float = 10,
    ) -> aiomqtt.Client:
        """An MQTT client for this broker, not yet connected; `purpose` names it in the broker's log.
        A TLS broker is verified against the system's CAs unless `tls_context` says otherwise."""
        import aiomqtt  # only when MQTT is used (it loads paho)

        if self.tls and tls_context is None:
            tls_context = ssl.create_default_context()
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.username or None,
            password=self.password.reveal() or None,
            identifier=f"myelectricaldata-{purpose}-{secrets.token_hex(4)}",
            tls_context=tls_context if self.tls else None,
            will=will,
            timeout=timeout,
        )


@dataclass(frozen=True, slots=True)
class CoreApi:
    """Where Home Assistant Core's websocket is and the token it takes: the supervisor's proxy with
    SUPERVISOR_TOKEN (add-on) or HA_URL + HA_TOKEN (plain Docker). Found by app/addon.py."""

    websocket_url: str
    token: str = field(repr=False)
    via_supervisor: bool = False
