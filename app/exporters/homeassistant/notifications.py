"""Health in Home Assistant itself: a persistent notification per problem the user must fix.

Problems (one stable `notification_id` each): the gateway refused the credentials, Enedis consent
has expired, or no new data for 3 days. Created with `persistent_notification.create` over the Core
websocket when a problem appears, dismissed with `persistent_notification.dismiss` when it clears.
The ids shown are kept in the store, so a problem fixed across a restart is still dismissed.
A healthy meter never gets a notification.

`health_problems` reads each usage point's health through `app.health.health_of`, the one definition
the web UI and the HA entities share (a usage point is in "error" only when the user must act).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from app import timeline
from app.domain import DataKind, Direction
from app.exporters.base import CoreApi, ExporterError
from app.exporters.homeassistant.websocket import HomeAssistantWebSocket
from app.health import HealthState, health_of
from app.store import Store

log = logging.getLogger(__name__)

NOTIFICATION_PREFIX = "myelectricaldata_"
STALE_AFTER_DAYS = 3


@dataclass(frozen=True, slots=True)
class HealthProblem:
    key: str  # "credentials" | "consent" | "stale_data"
    title: str
    message: str

    @property
    def notification_id(self) -> str:
        return NOTIFICATION_PREFIX + self.key


async def health_problems(store: Store, now: dt.datetime) -> list[HealthProblem]:
    """What the user must act on, read from the sync's bookkeeping (progress rows and coverage)."""
    problems: list[HealthProblem] = []
    progress = await store.progress()
    states = {p.usage_point_id: health_of(p, now).state for p in progress}
    if HealthState.CREDENTIALS_INVALID in states.values():
        problems.append(
            HealthProblem(
                "credentials",
                "MyElectricalData: identifiants refusés / credentials refused",
                "La passerelle MyElectricalData refuse le client_id / client_secret : recopiez-les depuis "
                "votre compte myelectricaldata.fr dans les options de l'add-on, puis redémarrez-le.\n\n"
                "The MyElectricalData gateway refuses the client_id / client_secret: copy them again from "
                "your myelectricaldata.fr account into the add-on options, then restart it.",
            )
        )
    refused = sorted(pdl for pdl, state in states.items() if state is HealthState.CONSENT_MISSING and pdl)
    if refused:
        points = ", ".join(refused)
        problems.append(
            HealthProblem(
                "consent",
                "MyElectricalData: consentement Enedis expiré / Enedis consent expired",
                f"Enedis ne transmet plus les données de {points} : renouvelez votre consentement sur "
                "myelectricaldata.fr.\n\n"
                f"Enedis no longer sends the data of {points}: renew your consent on myelectricaldata.fr.",
            )
        )
    newest = await _newest_day(store)
    today = timeline.paris_today(now)
    # J+1: yesterday is the newest day a healthy meter has; 3 days without any new day is a problem.
    if newest is not None and (today - newest).days > STALE_AFTER_DAYS:
        problems.append(
            HealthProblem(
                "stale_data",
                "MyElectricalData: pas de nouvelles données / no new data",
                f"Aucune nouvelle donnée depuis le {newest:%d/%m/%Y} : ouvrez le tableau de bord de "
                "l'add-on pour voir pourquoi.\n\n"
                f"No new data since {newest:%Y-%m-%d}: open the add-on's dashboard to see why.",
            )
        )
    return problems


async def _newest_day(store: Store) -> dt.date | None:
    coverage = await store.all_coverage()
    kinds = {DataKind.daily(d) for d in Direction} | {DataKind.curve(d) for d in Direction}
    lasts = [r.last for (_, kind), ranges in coverage.items() if kind in kinds for r in ranges]
    return max(lasts) if lasts else None


class HealthNotifier:
    """Keeps HA's persistent notifications in line with `health_problems` (run after each sync)."""

    def __init__(self, store: Store, core: CoreApi | None) -> None:
        self.store = store
        self.core = core

    async def shown(self) -> set[str]:
        return await self.store.settings.notifications_shown()

    async def update(self, now: dt.datetime) -> None:
        if self.core is None:
            return
        problems = {p.key: p for p in await health_problems(self.store, now)}
        shown = await self.shown()
        if not problems and not shown:
            return
        try:
            async with HomeAssistantWebSocket(self.core.websocket_url, self.core.token) as ws:
                for key, problem in problems.items():
                    if key in shown:
                        continue
                    await ws.command(
                        "call_service",
                        domain="persistent_notification",
                        service="create",
                        service_data={
                            "notification_id": problem.notification_id,
                            "title": problem.title,
                            "message": problem.message,
                        },
                    )
                    shown.add(key)
                    await self.store.settings.set_notifications_shown(shown)
                    log.info("Home Assistant: notification %s created", problem.notification_id)
                for key in sorted(shown - set(problems)):
                    await ws.command(
                        "call_service",
                        domain="persistent_notification",
                        service="dismiss",
                        service_data={"notification_id": NOTIFICATION_PREFIX + key},
                    )
                    shown.discard(key)
                    await self.store.settings.set_notifications_shown(shown)
                    log.info("Home Assistant: notification %s%s dismissed", NOTIFICATION_PREFIX, key)
        except ExporterError as exc:
            log.warning("Home Assistant notifications: %s", exc)
