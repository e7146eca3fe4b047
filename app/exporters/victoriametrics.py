"""VictoriaMetrics: the whole history with timestamps through `/api/v1/import` (JSON lines).

Series (prefix `myelectricaldata`, label `usage_point_id` plus the user's extra labels):
`{p}_{consumption|production}_power_w` (average power of each load-curve slot, at the slot start),
`{p}_{..}_interval_energy_wh` (energy of each slot), `{p}_{..}_daily_wh` (at 00:00 Paris),
`{p}_consumption_daily_hp_wh` / `_hc_wh` (HP/HC split), `{p}_consumption_daily_cost_euros` (label
`offer`, when costs are known) and `{p}_max_power_va` (at the instant of the maximum).

First run: everything stored. Then, from a cursor kept in the store, only new days, and the
correction window (the last `correction_days` days already sent) is compared, day by day, with a
digest of what was sent. VictoriaMetrics cannot overwrite a sample (with deduplication on, equal
timestamps keep the biggest value, so a corrected lower value would lose), so when a day differs the
usage point's series are deleted (`/api/v1/admin/tsdb/delete_series`) and its history is pushed
again, then the rollup cache is reset: the documented way to replace data in VictoriaMetrics
("guide: delete or replace metrics").
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any, ClassVar

import aiohttp
import voluptuous as vol

from app import contracts, tariff_rules, timeline
from app.domain import DataKind, Direction, UsagePoint
from app.exporters.base import BaseExporter, ExporterError, ExportResult
from app.pricing.costs import contract_timeline

log = logging.getLogger(__name__)

CHUNK_DAYS = 62
Labels = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, Labels]
Sample = tuple[SeriesKey, int, float | int]
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def parse_labels(value: Any) -> str:
    """`k=v, k2=v2` (or one per line): extra labels added to every series."""
    text = str(value or "")
    for part in re.split(r"[,\n]", text):
        part = part.strip()
        if not part:
            continue
        key, sep, label_value = part.partition("=")
        if not sep or not _LABEL.match(key.strip()) or not label_value.strip():
            raise vol.Invalid(f"extra label {part!r}: write name=value (name: letters, digits, _)")
        if key.strip() in ("usage_point_id", "offer", "__name__"):
            raise vol.Invalid(f"extra label {key.strip()!r} is reserved")
    return text


def labels_of(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in re.split(r"[,\n]", text):
        if part.strip():
            key, _, value = part.partition("=")
            out[key.strip()] = value.strip()
    return out


def _url(value: Any) -> str:
    text = str(value).strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", text):
        raise vol.Invalid("the URL must look like http://host:8428")
    return text


SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=False): bool,
        vol.Optional("url", default="http://127.0.0.1:8428"): _url,
        vol.Optional("username", default="", description="Basic auth user (empty: none)"): str,
        vol.Optional("password", default=""): str,
        vol.Optional("bearer_token", default="", description="Bearer token (instead of basic auth)"): str,
        vol.Optional("extra_labels", default="", description="Added to every series: name=value, ..."): (
            parse_labels
        ),
        vol.Optional("correction_days", default=7, description="Days re-checked for corrections"): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=60)
        ),
        vol.Optional("prefix", default="myelectricaldata"): vol.All(
            str, vol.Match(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
        ),
    }
)

_RETENTION = re.compile(r"^(\d+(?:\.\d+)?)([hdwy]?)$")


def retention_days(flag: str) -> float | None:
    """VictoriaMetrics' -retentionPeriod: a bare number is months; h, d, w, y suffixes."""
    match = _RETENTION.match(flag.strip())
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2)
    return number * {"": 31, "h": 1 / 24, "d": 1, "w": 7, "y": 365}[unit]


class VictoriaMetricsExporter(BaseExporter):
    name: ClassVar[str] = "victoriametrics"
    title: ClassVar[str] = "VictoriaMetrics"
    description: ClassVar[str] = (
        "Pushes the whole history (load curve, daily energy, HP/HC, costs) with timestamps, then what is new."
    )
    config_schema: ClassVar[vol.Schema] = SCHEMA
    secret_fields: ClassVar[frozenset[str]] = frozenset({"password", "bearer_token"})
    texts: ClassVar[dict[str, dict[str, str]]] = {
        "fr": {
            "description": (
                "Envoie tout l'historique horodaté (courbe de charge, énergie journalière, HP/HC, coûts), "
                "puis ce qui est nouveau."
            ),
            "url": "Adresse de VictoriaMetrics",
            "username": "Utilisateur (authentification basique)",
            "username.help": "Vide : pas d'authentification basique",
            "password": "Mot de passe",
            "bearer_token": "Jeton (bearer)",
            "bearer_token.help": "À la place de l'authentification basique",
            "extra_labels": "Labels ajoutés",
            "extra_labels.help": "Ajoutés à chaque série : nom=valeur, ...",
            "correction_days": "Jours revérifiés (corrections)",
            "correction_days.help": "",
            "prefix": "Préfixe des métriques",
        }
    }

    def __init__(self, config: Any, context: Any) -> None:
        super().__init__(config, context)
        self._session: aiohttp.ClientSession | None = None
        self.warning: str | None = None

    # ------------------------------------------------------------------ HTTP

    def _new_session(self) -> aiohttp.ClientSession:
        cfg = self.config
        headers: dict[str, str] = {}
        if cfg["bearer_token"]:
            headers["Authorization"] = f"Bearer {cfg['bearer_token']}"
        elif cfg["username"]:
            token = base64.b64encode(f"{cfg['username']}:{cfg['password']}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=120))

    async def _request(self, method: str, path: str, **kwargs: Any) -> str:
        session = self._session
        if session is None:
            raise ExporterError("not connected")
        url = self.config["url"] + path
        try:
            async with session.request(method, url, **kwargs) as response:
                text = await response.text()
                if response.status >= 400:
                    raise ExporterError(f"{method} {path}: HTTP {response.status} {text.strip()[:200]}")
                return text
        except aiohttp.ClientError as exc:
            raise ExporterError(f"{self.config['url']}: {exc or type(exc).__name__}") from None

    async def connect(self) -> None:
        if self._session is None:
            self._session = self._new_session()

    async def disconnect(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def test_connection(self) -> str:
        await self.connect()
        await self._request("GET", "/health")
        await self._request("GET", "/api/v1/labels")  # goes through auth when a proxy asks for it
        retention = await self.retention()
        text = f"VictoriaMetrics at {self.config['url']} answers"
        return text + (f" (retention {retention})" if retention else "")

    async def retention(self) -> str | None:
        """The server's -retentionPeriod flag, read from its own /metrics (None if hidden)."""
        try:
            text = await self._request("GET", "/metrics")
        except ExporterError:
            return None
        match = re.search(r'flag\{name="retentionPeriod",\s*value="([^"]+)"', text)
        return match.group(1) if match else None

    # ------------------------------------------------------------------ building samples

    def _labels(self, pdl: str, **more: str) -> Labels:
        extra = labels_of(self.config["extra_labels"])
        return tuple(sorted({**extra, "usage_point_id": pdl, **more}.items()))

    async def samples(self, point: UsagePoint, first: dt.date, last: dt.date) -> dict[dt.date, list[Sample]]:
        """Every sample of one usage point for the Paris days [first, last], grouped by day."""
        out: dict[dt.date, list[Sample]] = defaultdict(list)
        start = first
        while start <= last:
            end = min(last, start + dt.timedelta(days=CHUNK_DAYS - 1))
            await self._chunk(point, start, end, out)
            start = end + dt.timedelta(days=1)
        return out

    async def _chunk(
        self, point: UsagePoint, first: dt.date, last: dt.date, out: dict[dt.date, list[Sample]]
    ) -> None:
        store = self.context.store
        pdl = point.usage_point_id
        p = self.config["prefix"]
        labels = self._labels(pdl)
        periods = await contract_timeline(store, pdl)
        start, _ = timeline.day_bounds_utc(first)
        _, end = timeline.day_bounds_utc(last)
        directions = [d for d, on in ((Direction.CONSUMPTION, point.has_consumption),
                                      (Direction.PRODUCTION, point.has_production)) if on]  # fmt: skip
        for direction in directions:
            kind = direction.value
            split: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
            slots: list[tuple[dt.datetime, int]] = []
            for reading in await store.completed_intervals(pdl, direction, start, end):
                if reading.average_w is None:
                    continue
                ms = int(reading.start.timestamp()) * 1000
                local = timeline.to_paris(reading.start)
                day = local.date()
                out[day].append(((f"{p}_{kind}_power_w", labels), ms, reading.average_w))
                energy = reading.average_w * reading.minutes / 60
                out[day].append(((f"{p}_{kind}_interval_energy_wh", labels), ms, _num(energy)))
                if direction is Direction.CONSUMPTION:
                    slots.append((reading.start, reading.average_w * reading.minutes))
            for day, (peak_wm, offpeak_wm) in tariff_rules.peak_offpeak_by_day(periods, slots).items():
                split[day] = [peak_wm, offpeak_wm]
            for daily in await store.daily(pdl, direction, first, last):
                ms = _day_ms(daily.day)
                out[daily.day].append(((f"{p}_{kind}_daily_wh", labels), ms, daily.wh))
            if direction is not Direction.CONSUMPTION:
                continue
            costs = await self.context.costs.daily(pdl, first, last) if self.context.costs else []
            if costs:
                hp: dict[dt.date, int] = defaultdict(int)
                hc: dict[dt.date, int] = defaultdict(int)
                euros: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
                for cost in costs:
                    day = timeline.paris_date(cost.start)
                    side = tariff_rules.peak_or_offpeak(cost.bucket)
                    if side == "hp":
                        hp[day] += cost.wh
                    elif side == "hc":
                        hc[day] += cost.wh
                    euros[(day, cost.offer_id)] += cost.euros
                for (day, offer), amount in sorted(euros.items()):
                    key = (f"{p}_consumption_daily_cost_euros", self._labels(pdl, offer=offer))
                    out[day].append((key, _day_ms(day), float(amount)))
                split = defaultdict(lambda: [0, 0])
                for day in set(hp) | set(hc):
                    split[day] = [hp[day] * 60, hc[day] * 60]
            for day, (peak, offpeak) in sorted(split.items()):
                out[day].append(((f"{p}_consumption_daily_hp_wh", labels), _day_ms(day), _num(peak / 60)))
                out[day].append(((f"{p}_consumption_daily_hc_wh", labels), _day_ms(day), _num(offpeak / 60)))
        if point.has_consumption:
            for mp in await store.max_power(pdl, first, last):
                at = mp.at or timeline.day_start_utc(mp.day)
                out[mp.day].append(((f"{p}_max_power_va", labels), int(at.timestamp()) * 1000, mp.va))

    @staticmethod
    def digest(samples: list[Sample]) -> str:
        h = hashlib.sha1(usedforsecurity=False)
        for (name, labels), ms, value in sorted(samples, key=lambda s: (s[0], s[1])):
            h.update(f"{name}{labels}{ms}={value};".encode())
        return h.hexdigest()

    @staticmethod
    def lines(samples: list[Sample]) -> str:
        series: dict[SeriesKey, tuple[list[float | int], list[int]]] = {}
        for key, ms, value in samples:
            values, stamps = series.setdefault(key, ([], []))
            values.append(value)
            stamps.append(ms)
        out = []
        for (name, labels), (values, stamps) in series.items():
            metric = {"__name__": name, **dict(labels)}
            out.append(
                json.dumps({"metric": metric, "values": values, "timestamps": stamps}, separators=(",", ":"))
            )
        return "\n".join(out) + "\n"

    async def push(self, samples: list[Sample]) -> None:
        for i in range(0, len(samples), 50_000):
            await self._request("POST", "/api/v1/import", data=self.lines(samples[i : i + 50_000]).encode())

    async def delete_point(self, pdl: str) -> None:
        selector = f'{{__name__=~"{self.config["prefix"]}_.*",usage_point_id="{pdl}"}}'
        await self._request("POST", "/api/v1/admin/tsdb/delete_series", params={"match[]": selector})
        await self._request("GET", "/internal/resetRollupResultCache")

    # ------------------------------------------------------------------ export

    def _target(self) -> str:
        return json.dumps([self.config["url"], self.config["prefix"], self.config["extra_labels"]])

    async def export(self) -> ExportResult:
        store = self.context.store
        state = await store.settings.exporter_state("victoriametrics")
        if not isinstance(state, dict) or state.get("target") != self._target():
            state = {"target": self._target(), "points": {}}
        today = timeline.paris_today(self.context.clock())
        last = today - dt.timedelta(days=1)
        window = int(self.config["correction_days"])
        coverage = await store.all_coverage()
        sent = 0
        replaced: list[str] = []
        oldest: dt.date | None = None
        for point in await store.usage_points():
            pdl = point.usage_point_id
            firsts = [
                r[0].first for (up, kind), r in coverage.items() if up == pdl and r and kind in _HISTORY
            ]
            if not firsts:
                continue
            first = min(firsts)
            oldest = first if oldest is None else min(oldest, first)
            pstate = state["points"].get(pdl)
            resplit = await contracts.pending_resplit(store, self.name, pdl)  # contract timeline changed
            if pstate is None:
                by_day = await self.samples(point, first, last)
                to_send = [s for day in sorted(by_day) for s in by_day[day]]
            else:
                cursor = dt.date.fromisoformat(pstate["last_day"])
                sent_first = dt.date.fromisoformat(pstate["first_day"])
                check_from = max(first, cursor - dt.timedelta(days=window - 1))
                by_day = await self.samples(point, check_from, last)
                digests = pstate.get("digests", {})
                changed = [
                    d
                    for d in sorted(by_day)
                    if d <= cursor and digests.get(d.isoformat()) != self.digest(by_day[d])
                ]
                if resplit is not None:
                    changed = [max(first, resplit[0])]
                if changed:
                    log.info("VictoriaMetrics: %s corrected on %s: replacing its series", pdl, changed[0])
                    await self.delete_point(pdl)
                    replaced.append(pdl)
                    by_day = {**await self.samples(point, first, check_from - dt.timedelta(days=1)), **by_day}
                    to_send = [s for day in sorted(by_day) for s in by_day[day]]
                else:
                    to_send = [s for day in sorted(by_day) if day > cursor for s in by_day[day]]
                    if first < sent_first:  # older history arrived since (a later sync filled it)
                        older = await self.samples(point, first, sent_first - dt.timedelta(days=1))
                        to_send += [s for day in sorted(older) for s in older[day]]
            await self.push(to_send)
            if resplit is not None:
                await contracts.resplit_done(store, self.name, pdl, resplit[1])
            sent += len(to_send)
            keep_from = last - dt.timedelta(days=window - 1)
            state["points"][pdl] = {
                "first_day": first.isoformat(),
                "last_day": last.isoformat(),
                "digests": {d.isoformat(): self.digest(s) for d, s in by_day.items() if d >= keep_from},
            }
            await store.settings.set_exporter_state("victoriametrics", state)
        self.warning = await self._retention_warning(oldest, today)
        detail = f"{sent} samples up to {last.isoformat()}"
        if replaced:
            detail += f"; corrected series replaced for {', '.join(replaced)}"
        if self.warning:
            detail += f"; warning: {self.warning}"
        return ExportResult(sent, detail)

    async def _retention_warning(self, oldest: dt.date | None, today: dt.date) -> str | None:
        if oldest is None:
            return None
        flag = await self.retention()
        days = retention_days(flag) if flag else None
        if days is None or days >= (today - oldest).days + 1:
            return None
        text = (
            f"the server keeps {flag} of data (-retentionPeriod) but the history goes back to "
            f"{oldest.isoformat()}: older samples are dropped; start VictoriaMetrics with a longer "
            "-retentionPeriod, e.g. 5y"
        )
        log.warning("VictoriaMetrics: %s", text)
        return text


_HISTORY = {DataKind.DAILY_CONSUMPTION, DataKind.DAILY_PRODUCTION, DataKind.CURVE_CONSUMPTION,
            DataKind.CURVE_PRODUCTION, DataKind.MAX_POWER}  # fmt: skip


def _day_ms(day: dt.date) -> int:
    return int(timeline.day_start_utc(day).timestamp()) * 1000


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value
