"""Command line: `myelectricaldata [--demo] [--port N]` runs everything; `myelectricaldata sync --once`
runs one sync and exits (0 done, 75 quota reached, 1 failure); `backup-pre` / `backup-post` (the
add-on's backup hooks) hold and release the running program's database writes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from app import __version__, memory
from app.domain import SyncPhase
from app.service import Service
from app.settings import Settings, configure_logging, load_settings
from app.store import migrate

log = logging.getLogger("app")

EXIT_QUOTA = 75  # EX_TEMPFAIL: try again later


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="myelectricaldata", description="MyElectricalData local client " + __version__
    )
    commands = ["run", "sync", "backup-pre", "backup-post"]
    parser.add_argument("command", nargs="?", choices=commands, default="run")
    parser.add_argument("--once", action="store_true", help="with 'sync': run one sync and exit")
    parser.add_argument("--demo", action="store_true", help="use the built-in gateway simulator")
    parser.add_argument("--port", type=int, help="web UI port (default 8080)")
    parser.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--data-dir", help="where the SQLite database lives (default /data, ./data in demo)")
    parser.add_argument("--version", action="version", version=__version__)
    args = parser.parse_args(argv)
    if args.command == "sync" and not args.once:
        parser.error("'sync' needs --once (the scheduler runs syncs when the program runs normally)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    memory.one_malloc_arena()  # before aiosqlite and the executors start their threads
    overrides: dict[str, Any] = {"port": args.port, "host": args.host, "data_dir": args.data_dir}
    if args.demo and args.data_dir is None and not os.environ.get("DATA_DIR"):
        overrides["data_dir"] = str(Path("data").resolve())
    settings, errors = load_settings(overrides=overrides)
    if args.command in ("backup-pre", "backup-post"):
        from app.backup import run_command

        return run_command(settings.data_dir, args.command.removeprefix("backup-"))
    configure_logging(settings)
    migrate.upgrade_apart()  # Alembic's memory leaves with the child that runs it
    try:
        return asyncio.run(_amain(args, settings, errors))
    except KeyboardInterrupt:
        return 130


async def _amain(args: argparse.Namespace, settings: Settings, errors: list[str]) -> int:
    simulator: web.AppRunner | None = None
    if args.demo:
        simulator, settings = await _start_demo_gateway(settings)
    service = Service(settings, config_errors=errors)
    try:
        if args.command == "sync":
            return await _sync_once(service)
        return await _serve(service)
    finally:
        if simulator is not None:
            await simulator.cleanup()


async def _start_demo_gateway(settings: Settings) -> tuple[web.AppRunner, Settings]:
    from dataclasses import replace

    from app.gateway.simulator import (
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        SimulatorConfig,
        create_simulator_app,
    )
    from app.settings import Secret

    fixed = settings.fixed_now
    config = SimulatorConfig() if fixed is None else SimulatorConfig(clock=lambda: fixed)
    runner = web.AppRunner(create_simulator_app(config), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    log.info("demo mode: built-in gateway simulator on http://%s:%s", host, port)
    demo = replace(
        settings,
        demo=True,
        api_version="v2",
        gateway_url=f"http://{host}:{port}",
        client_id=Secret(DEMO_CLIENT_ID),
        client_secret=Secret(DEMO_CLIENT_SECRET),
    )
    return runner, demo


async def _sync_once(service: Service) -> int:
    await service.start(schedule=False)
    try:
        if service.store is None or not service.configured:
            return 1
        outcome = await service.sync()
    finally:
        await service.stop()
    if outcome.phase is SyncPhase.QUOTA:
        return EXIT_QUOTA
    return 0 if outcome.phase is SyncPhase.DONE else 1


async def _serve(service: Service) -> int:
    from app.web.app import create_app
    from app.web.ingress import DIRECT, INGRESS, listeners

    await service.start()
    runner = web.AppRunner(create_app(service), access_log=None)
    await runner.setup()
    settings = service.settings
    doors = listeners(settings)
    for listener in doors:
        site = web.TCPSite(runner, listener.host, listener.port)
        try:
            await site.start()
        except OSError as exc:
            log.error("cannot listen on %s:%s: %s", listener.host, listener.port, exc.strerror)
            await runner.cleanup()
            await service.stop()
            return 1
        shown_host = "localhost" if listener.host in ("0.0.0.0", "::") else listener.host
        if listener.door == INGRESS:
            log.info("web UI for Home Assistant ingress on port %s", listener.port)
        else:
            protected = " (password protected)" if settings.web_password or settings.addon else ""
            log.info("web UI on http://%s:%s%s", shown_host, listener.port, protected)
    if settings.addon and all(listener.door != DIRECT for listener in doors):
        log.info(
            "direct access (port %s) is off: set web_password (8 characters or more) to open it",
            settings.port,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    await runner.cleanup()
    await service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
