# ruff: noqa: ASYNC221, ASYNC240  (test set-up: small files and short commands, before the test runs)
"""Real servers for the exporter tests (Mosquitto, Prometheus, VictoriaMetrics), each private to a
test: started on a free port with temporary files, awaited by polling until it answers, stopped after."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.support import synced_service

__all__ = ["synced_service"]  # re-exported: the exporter tests import it from here

STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require(program: str) -> str:
    path = shutil.which(program)
    assert path, f"{program} is not installed: scripts/test.sh installs it"
    return path


async def wait_port(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    """Until the port accepts a connection (the server is up) or the process dies."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    while True:
        if process.returncode is not None:
            raise AssertionError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise AssertionError(f"server did not open port {port}: {log.read_text()[-2000:]}") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def wait_http(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    """Until `url` answers 200."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while True:
            if process.returncode is not None:
                raise AssertionError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            if loop.time() > deadline:
                raise AssertionError(f"{url} did not answer: {log.read_text()[-2000:]}")
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def run_server(args: Sequence[str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


@dataclass
class Broker:
    port: int
    username: str = ""
    password: str = ""
    ca_pem: str = ""


@contextlib.asynccontextmanager
async def mosquitto(
    tmp: Path, *, username: str = "", password: str = "", tls: bool = False
) -> AsyncIterator[Broker]:
    """A private Mosquitto: anonymous, with a password file, or TLS with a CA made here."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    lines = [f"listener {port} 127.0.0.1", "persistence false", "log_dest stdout"]
    if os.geteuid() == 0:  # as root Mosquitto would switch to its own user, who cannot read tmp files
        lines.append("user root")
    broker = Broker(port, username, password)
    if username:
        passwd = tmp / "passwd"
        subprocess.run([require("mosquitto_passwd"), "-b", "-c", str(passwd), username, password], check=True)
        os.chmod(passwd, 0o600)
        lines += ["allow_anonymous false", f"password_file {passwd}"]
    else:
        lines.append("allow_anonymous true")
    if tls:
        ca, cert, key = make_certificates(tmp)
        lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        broker.ca_pem = ca.read_text()
    conf = tmp / "mosquitto.conf"
    conf.write_text("\n".join(lines) + "\n")
    async with run_server([require("mosquitto"), "-c", str(conf)], tmp / "mosquitto.log") as process:
        await wait_port(port, process, tmp / "mosquitto.log")
        yield broker


def make_certificates(tmp: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 / localhost signed by it (openssl)."""
    openssl = require("openssl")
    ca_key, ca, key, csr, cert = (
        tmp / n for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt")
    )
    ext = tmp / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True)

    run(*("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA"),
        "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        str(key),
        "-out",
        str(csr),
    )
    run(*("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial"),
        "-days", "2", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    os.chmod(key, 0o644)
    return ca, cert, key
