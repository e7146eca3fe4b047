"""The real program (`python -m app`) as a Home Assistant add-on and as a plain container:

- with a temporary options.json and the fake supervisor, it takes the broker from /services/mqtt and
  connects with those credentials to a real Mosquitto that requires a password;
- behind a real nginx that mimics ingress (prefix, X-Ingress-Path, redirects passed through), every
  page and asset loads and no URL leaves the prefix; other addresses get 403 on the ingress port;
- with environment variables only (no options.json, no supervisor) it syncs and serves the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from app.addon import Integrations, MqttState
from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from app.settings import Secret, Settings
from tests.fake_supervisor import FakeSupervisorState, addon_config, create_fake_supervisor
from tests.support import NOW, AiohttpServer, Clock, start_simulator

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[1]
PROXY = "127.0.0.2"  # plays 172.30.32.2, the supervisor's address (a loopback alias the test binds to)
STARTUP_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _need(program: str) -> str:
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin")
    if path is None:
        pytest.fail(f"{program} is not installed: scripts/test.sh installs it (apt-get)", pytrace=False)
    return path


@dataclass
class Process:
    """A subprocess whose output is collected line by line, so tests can await a given line."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    _new_line: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, *args: str, env: dict[str, str], cwd: Path) -> Process:
        process = await asyncio.create_subprocess_exec(
            *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        self = cls(process)
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            async with self._new_line:
                self.lines.append(raw.decode(errors="replace").rstrip())
                self._new_line.notify_all()
        async with self._new_line:
            self._new_line.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(self, pattern: str, within: float = STARTUP_TIMEOUT) -> str:
        regex = re.compile(pattern)

        def found() -> str | None:
            return next((line for line in self.lines if regex.search(line)), None)

        async def wait() -> str:
            async with self._new_line:
                while (line := found()) is None:
                    if self.process.returncode is not None or (self._reader and self._reader.done()):
                        raise AssertionError(f"exited before printing {pattern!r}:\n{self.output}")
                    await self._new_line.wait()
                return line

        try:
            return await asyncio.wait_for(wait(), within)
        except TimeoutError:
            raise AssertionError(f"no line matching {pattern!r} in {within} s:\n{self.output}") from None

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self._reader is not None:
            await self._reader
        return code


@dataclass
class Mosquitto:
    port: int
    username: str
    password: str
    process: Process


@pytest.fixture
async def mosquitto(tmp_path: Path) -> AsyncIterator[Mosquitto]:
    """A private Mosquitto on a free port that refuses anonymous clients and checks a password file."""
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    username, password = "addons", "mqtt-" + secrets.token_hex(12)
    passwords = folder / "passwords"
    make = await asyncio.create_subprocess_exec(
        _need("mosquitto_passwd"), "-b", "-c", str(passwords), username, password
    )
    assert await make.wait() == 0
    port = _free_port()
    conf = folder / "mosquitto.conf"
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous false",
        f"password_file {passwords}",
        "persistence false",
        "log_dest stderr",  # unbuffered
        "log_type all",
        "connection_messages true",
    ]
    if os.geteuid() == 0:
        lines.append("user root")  # keep read access to the password file in the private tmp folder
    conf.write_text("\n".join(lines) + "\n")
    process = await Process.start(_need("mosquitto"), "-c", str(conf), env=dict(os.environ), cwd=folder)
    try:
        await process.wait_for(r"mosquitto version .* running", within=20)
        yield Mosquitto(port, username, password, process)
    finally:
        await process.stop()


async def _fake_supervisor(
    aiohttp_server: AiohttpServer, **state: Any
) -> tuple[TestServer, FakeSupervisorState]:
    fake = FakeSupervisorState(**state)
    return await aiohttp_server(create_fake_supervisor(fake)), fake


def _program_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLIENT_", "GATEWAY_", "MQTT_", "SUPERVISOR_", "HA_", "WEB_", "INGRESS_"))
        and key not in ("PORT", "HOST", "DATA_DIR", "DATABASE_URL", "OPTIONS_FILE", "LOG_LEVEL")
    }
    env |= {
        "PYTHONPATH": str(ROOT),
        "MYELECTRICALDATA_NOW": NOW.isoformat(),
        "DATA_DIR": str(tmp_path / "data"),
        "OPTIONS_FILE": str(tmp_path / "options.json"),
        "HOST": "127.0.0.1",
    }
    return env | extra


def _write_options(tmp_path: Path, **values: Any) -> None:
    options = dict(addon_config()["options"]) | values
    (tmp_path / "options.json").write_text(json.dumps(options), encoding="utf-8")


async def _start_addon(
    tmp_path: Path, supervisor: TestServer, fake: FakeSupervisorState, gateway: TestServer, **options: Any
) -> tuple[Process, int]:
    _write_options(
        tmp_path,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        gateway_url=str(gateway.make_url("")).rstrip("/"),
        **options,
    )
    ingress_port = _free_port()
    env = _program_env(
        tmp_path,
        SUPERVISOR_TOKEN=fake.token,
        SUPERVISOR_URL=str(supervisor.make_url("")).rstrip("/"),
        INGRESS_PORT=str(ingress_port),
        INGRESS_PROXY=PROXY,
    )
    program = await Process.start(sys.executable, "-m", "app", env=env, cwd=tmp_path)
    await program.wait_for(f"web UI for Home Assistant ingress on port {ingress_port}")
    return program, ingress_port


def _supervisor_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(PROXY, 0)))


async def test_the_add_on_connects_to_the_supervisor_broker_with_its_credentials(
    aiohttp_server: AiohttpServer, tmp_path: Path, mosquitto: Mosquitto
) -> None:
    gateway, _ = await start_simulator(aiohttp_server, Clock())
    broker = {
        "host": "127.0.0.1",
        "port": mosquitto.port,
        "ssl": False,
        "protocol": "3.1.1",
        "username": mosquitto.username,
        "password": mosquitto.password,
        "addon": "core_mosquitto",
    }
    supervisor, fake = await _fake_supervisor(aiohttp_server, mqtt=broker)
    program, ingress_port = await _start_addon(tmp_path, supervisor, fake, gateway)
    try:
        await program.wait_for(rf"MQTT: connected to 127\.0\.0\.1:{mosquitto.port} \(supervisor\)")
        # The broker saw our client log in with the user name the supervisor gave.
        await mosquitto.process.wait_for(
            rf"New client connected .* as myelectricaldata-\S+ .*u'{mosquitto.username}'"
        )
        async with _supervisor_session() as session:
            status = await (await session.get(f"http://127.0.0.1:{ingress_port}/api/status")).json()
            page = await (await session.get(f"http://127.0.0.1:{ingress_port}/")).text()
        assert status["mqtt"]["state"] == "connected"
        assert status["mqtt"]["source"] == "supervisor"
        assert (status["mqtt"]["host"], status["mqtt"]["port"]) == ("127.0.0.1", mosquitto.port)
        assert "Connecté au broker MQTT." in page
        assert fake.requests[:2] == ["GET /addons/self/info", "GET /services/mqtt"]
    finally:
        code = await program.stop()
    assert code == 0, program.output
    for secret in (mosquitto.password, DEMO_CLIENT_SECRET, fake.token):
        assert secret not in program.output
        assert secret not in json.dumps(status) and secret not in page


async def test_a_wrong_broker_password_is_a_state_with_what_to_do(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    settings = Settings(
        mqtt_host="127.0.0.1", mqtt_port=mosquitto.port, mqtt_username="addons", mqtt_password=Secret("wrong")
    )
    integrations = Integrations(settings)
    await integrations.start()
    try:
        status = await integrations.wait_settled()
    finally:
        await integrations.stop()
    assert status.state is MqttState.AUTH_FAILED
    await mosquitto.process.wait_for(r"not authori[sz]ed")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(str(values[name]))
        if tag == "form":
            self.forms.append(((values.get("method") or "get").lower(), values.get("action") or ""))


@dataclass
class Crawl:
    prefix_url: str
    pages: dict[str, int] = field(default_factory=dict)
    escapes: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)

    def inside(self, source: str, url: str) -> str | None:
        """The absolute URL if it stays under the prefix; records it when it leaves."""
        absolute = urljoin(source, url).split("#")[0]
        target, base = urlsplit(absolute), urlsplit(self.prefix_url)
        if target.scheme not in ("http", "https"):
            return None
        if target.netloc != base.netloc:
            return None  # an external site: not ours to crawl
        if not target.path.startswith(base.path):
            self.escapes.append(f"{url!r} on {source} -> {absolute}")
            return None
        return absolute


async def _status_once_idle(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """/api/status of another process once its sync run has ended (no event crosses processes)."""
    async with asyncio.timeout(60):
        for _ in range(600):
            status: dict[str, Any] = await (await session.get(url)).json()
            if status["state"] != "running":
                return status
            await asyncio.sleep(0.1)
    raise AssertionError("the sync never ended")


async def _crawl(session: aiohttp.ClientSession, start: str) -> Crawl:
    crawl = Crawl(start)
    queue = [start]
    # One visit per page and query shape (names, not values): period controls link to endless dates.
    shapes: set[tuple[str, frozenset[str]]] = set()
    posted_to: set[str] = set()
    while queue:
        url = queue.pop(0)
        parts = urlsplit(url)
        shape = (parts.path, frozenset(name for name, _ in parse_qsl(parts.query)))
        if url in crawl.pages or shape in shapes:
            continue
        shapes.add(shape)
        async with session.get(url, allow_redirects=False) as response:
            crawl.pages[url] = response.status
            body = await response.read()
            kind = response.content_type
            location = response.headers.get("Location")
        if response.status >= 400:
            crawl.broken.append(f"{url}: HTTP {response.status}")
            continue
        if location is not None:
            target = crawl.inside(url, location)
            if target:
                queue.append(target)
            continue
        found: list[str] = []
        if kind == "text/html":
            parser = _Links()
            parser.feed(body.decode())
            found += parser.links
            for method, action in parser.forms:
                target = crawl.inside(url, action)
                if target is None:
                    continue
                if method == "get":
                    found.append(action)
                    continue
                if urlsplit(target).path in posted_to:
                    continue
                posted_to.add(urlsplit(target).path)
                async with session.post(target, allow_redirects=False) as posted:
                    # An empty form may be refused (400) but must reach a route that exists.
                    if posted.status == 404 or posted.status >= 500:
                        crawl.broken.append(f"POST {target}: HTTP {posted.status}")
                    elif posted.headers.get("Location"):
                        redirect = crawl.inside(target, posted.headers["Location"])
                        if redirect:
                            queue.append(redirect)
        elif kind == "text/css":
            found += re.findall(r"url\(\s*['\"]?([^'\")]+)", body.decode())
        for link in found:
            target = crawl.inside(url, link)
            if target and target not in crawl.pages:
                queue.append(target)
    return crawl


async def test_every_page_loads_behind_an_ingress_proxy_and_no_url_leaves_the_prefix(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    gateway, _ = await start_simulator(aiohttp_server, Clock())
    supervisor, fake = await _fake_supervisor(aiohttp_server, mqtt=None)
    program, ingress_port = await _start_addon(tmp_path, supervisor, fake, gateway)
    (tmp_path / "nginx").mkdir()
    nginx = await _NginxIngress.start(tmp_path / "nginx", ingress_port)
    try:
        await program.wait_for(r"sync done")
        async with aiohttp.ClientSession() as browser:
            crawl = await _crawl(browser, nginx.base_url)
            # Another address than the supervisor's on the ingress port: refused.
            direct = await browser.get(f"http://127.0.0.1:{ingress_port}/")
            assert direct.status == 403
        assert crawl.broken == []
        assert crawl.escapes == []
        crawled = {urlsplit(url).path.removeprefix(nginx.prefix) for url in crawl.pages}
        assert {"/", "/static/style.css"} <= crawled, crawl.pages
        assert len(crawl.pages) >= 3
    finally:
        await nginx.stop()
        code = await program.stop()
    assert code == 0, program.output


@dataclass
class _NginxIngress:
    process: Process
    port: int
    prefix: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}/"

    @classmethod
    async def start(cls, folder: Path, ingress_port: int) -> _NginxIngress:
        prefix = f"/api/hassio_ingress/{secrets.token_urlsafe(24)}"
        port = _free_port()
        temp = "\n".join(
            f"  {name}_temp_path {folder / name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = folder / "nginx.conf"
        conf.write_text(
            f"""{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
{temp}
  server {{
    listen 127.0.0.1:{port};
    location {prefix}/ {{
      proxy_pass http://127.0.0.1:{ingress_port}/;
      proxy_bind {PROXY};
      proxy_http_version 1.1;
      proxy_redirect off;
      proxy_set_header Host $http_host;
      proxy_set_header X-Ingress-Path {prefix};
      proxy_set_header X-Remote-User-Id 0123456789abcdef;
      proxy_set_header X-Remote-User-Name admin;
    }}
  }}
}}
"""
        )
        process = await Process.start(
            _need("nginx"),
            "-p",
            str(folder),
            "-c",
            str(conf),
            "-e",
            "stderr",
            env=dict(os.environ),
            cwd=folder,
        )
        for _ in range(200):  # nginx prints nothing when ready: wait until it accepts connections
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                return cls(process, port, prefix)
            if process.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        await process.stop()
        raise AssertionError("nginx did not start:\n" + process.output)

    async def stop(self) -> None:
        await self.process.stop()


async def test_environment_variables_alone_run_the_client_and_serve_the_ui(
    aiohttp_server: AiohttpServer, tmp_path: Path
) -> None:
    gateway, _ = await start_simulator(aiohttp_server, Clock())
    port = _free_port()
    env = _program_env(
        tmp_path,
        CLIENT_ID=DEMO_CLIENT_ID,
        CLIENT_SECRET=DEMO_CLIENT_SECRET,
        GATEWAY_URL=str(gateway.make_url("")).rstrip("/"),
        PORT=str(port),
    )
    assert not (tmp_path / "options.json").exists()
    program = await Process.start(sys.executable, "-m", "app", env=env, cwd=tmp_path)
    try:
        await program.wait_for(rf"web UI on http://127\.0\.0\.1:{port}")
        await program.wait_for(r"sync done")
        async with aiohttp.ClientSession() as browser:
            # "sync done" is logged before the after-sync work (exporters, chart caches) ends.
            status = await _status_once_idle(browser, f"http://127.0.0.1:{port}/api/status")
            page = await browser.get(f"http://127.0.0.1:{port}/")
            html = await page.text()
        assert status["state"] == "done"
        assert len(status["usage_points"]) == 3
        assert status["mqtt"]["state"] == "not_configured"
        assert page.status == 200 and "09111111111111" in html
        assert (tmp_path / "data" / "myelectricaldata.db").exists()
    finally:
        code = await program.stop()
    assert code == 0, program.output
    assert "ingress" not in program.output


def test_the_crawler_reports_urls_that_leave_the_prefix() -> None:
    crawl = Crawl("http://127.0.0.1:1/api/hassio_ingress/tok/")
    page = "http://127.0.0.1:1/api/hassio_ingress/tok/"
    assert crawl.inside(page, "static/style.css") == page + "static/style.css"
    assert crawl.inside(page, "?lang=en") == page + "?lang=en"
    assert crawl.inside(page, "https://www.myelectricaldata.fr/") is None  # external: not followed
    assert crawl.inside(page, "/static/style.css") is None
    assert crawl.inside(page, "../../other") is None
    assert len(crawl.escapes) == 2
