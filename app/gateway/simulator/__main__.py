"""Run the simulated gateway: `python -m app.gateway.simulator --port 8800`."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from aiohttp import web

from app.gateway.simulator.app import create_simulator_app
from app.gateway.simulator.model import default_usage_points
from app.gateway.simulator.state import SimulatorConfig
from app.timeline import UTC


def _clock_from(start: str | None) -> Callable[[], dt.datetime]:
    """The real clock, or one that starts at `start` and then runs at real speed."""
    if start is None:
        return lambda: dt.datetime.now(UTC)
    origin = dt.datetime.fromisoformat(start)
    if origin.tzinfo is None:
        raise SystemExit("--now needs an offset, e.g. 2026-11-28T10:00:00+00:00")
    origin = origin.astimezone(UTC)
    started = time.monotonic()
    return lambda: origin + dt.timedelta(seconds=time.monotonic() - started)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.gateway.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--seed", type=int, default=42, help="data seed")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument("--quota-cached", type=int, default=1000)
    parser.add_argument("--quota-no-cache", type=int, default=50)
    parser.add_argument("--now", default=None, help="start the clock at this ISO instant (with offset)")
    parser.add_argument(
        "--null-slot-day",
        action="append",
        default=[],
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="a day whose load curve misses slots while the meter's daily value counts them (every point; "
        "repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    null_slot_days = frozenset(args.null_slot_day)
    config = SimulatorConfig(
        usage_points=[replace(p, null_slot_days=null_slot_days) for p in default_usage_points()],
        clock=_clock_from(args.now),
        seed=args.seed,
        quota_cached=args.quota_cached,
        quota_no_cache=args.quota_no_cache,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
    )
    web.run_app(create_simulator_app(config), host=args.host, port=args.port, access_log=None)


if __name__ == "__main__":
    main()
