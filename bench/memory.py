"""Resident memory of the program: idle after start, after a full first sync, after a crawl of every page.

Run: `python -m bench.memory [--root PATH]` (PATH: the code to measure, default this checkout; give
another checkout, e.g. the main branch, for the "before" figures). The simulator runs in its own process
so its memory is not counted; the program runs from the current interpreter's environment, with the
variables the image's run script exports (``rootfs/.../run``, e.g. PYTHONMALLOC), as the image runs it;
``--no-image-env`` leaves them out.
Targets (issue 14): idle after start <= 80 MB; steady RSS after the full 3-point x 3-year sync and a crawl
of every page <= 90 MB. Also prints the first sync's gateway requests and wall time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import psutil

from bench._serve import free_port, wait_port

ROOT = Path(__file__).resolve().parents[1]
IDLE_TARGET_MB = 80.0
STEADY_TARGET_MB = 90.0
DEMO_CLIENT_ID = "cli_tJQk2IumjZwZhgM6gciox342XuoqRv3LNd87ECUT0QM"
DEMO_CLIENT_SECRET = "9u67mtoJH1iv1tIDf5gHHqYXzm5pH7N4zLw_sJhcyJT21Na13HXKYKiypI5T2al2Y10pzS8SDr9CpM6Am5s0XA"
_SYNC_DONE = re.compile(r"sync done: (\d+) gateway requests")
RUN_SCRIPT = Path("rootfs/etc/s6-overlay/s6-rc.d/myelectricaldata/run")
_EXPORT = re.compile(r"^export (\w+)=(\S+)\s*$", re.MULTILINE)


def image_environment(root: Path) -> dict[str, str]:
    """The variables the image's run script exports before it starts the program."""
    script = root / RUN_SCRIPT
    return dict(_EXPORT.findall(script.read_text(encoding="utf-8"))) if script.is_file() else {}


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


def _peak_rss_mb(pid: int) -> float:
    """The process's resident high-water mark so far (Linux: VmHWM), NaN elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return float("nan")
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 / 1e6 if match else float("nan")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def crawl(base: str, limit: int = 400) -> int:
    """GET every same-origin page reachable from the dashboard (and its JSON API twin); returns the count."""
    seen: set[str] = set()
    queue = deque([base + "/", base + "/api/status"])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                body = response.read()
                kind = response.headers.get("Content-Type", "")
        except OSError:
            continue
        if "html" not in kind:
            continue
        parser = _Links()
        parser.feed(body.decode("utf-8", "replace"))
        for href in parser.links:
            target = urljoin(url, href).split("#")[0]
            parts = urlsplit(target)
            if target.startswith(base) and not parts.path.startswith("/static") and "lang=en" not in target:
                queue.append(target)
    return len(seen)


class Program:
    """`python -m app` from `root`, its stderr watched for a line."""

    def __init__(self, root: Path, data_dir: Path, **variables: str) -> None:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("CLIENT_", "GATEWAY_", "SUPERVISOR_"))
        }
        env |= {
            "DATA_DIR": str(data_dir),
            "OPTIONS_FILE": str(data_dir / "absent.json"),
            "PYTHONPATH": str(root),
        }
        env |= variables
        self.port = free_port()
        self.lines: list[str] = []
        self._event = threading.Event()
        self._wanted = ""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=data_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if self._wanted and self._wanted in line:
                self._event.set()

    def wait_for(self, text: str, timeout: float = 600) -> str:
        self._wanted = text
        for line in list(self.lines):
            if text in line:
                return line
        if not self._event.wait(timeout):
            raise TimeoutError(f"no {text!r} in {timeout} s")
        self._event.clear()
        return next(line for line in self.lines if text in line)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--no-image-env", action="store_true", help="without the run script's variables")
    args = parser.parse_args()
    root: Path = args.root.resolve()
    image_env = {} if args.no_image_env else image_environment(root)
    shown = " ".join(f"{name}={value}" for name, value in image_env.items()) or "none"
    print(f"environment set as the image's run script sets it: {shown}")
    with tempfile.TemporaryDirectory(prefix="med-mem-") as tmp:
        base = Path(tmp)
        (base / "idle").mkdir()
        program = Program(root, base / "idle", **image_env)
        try:
            program.wait_for("web UI on")
            time.sleep(args.settle)
            idle = _rss_mb(program.process.pid)
        finally:
            program.stop()
        print(f"idle RSS after the first start (empty data dir, no credentials yet): {idle:.1f} MB")

        sim_port = free_port()
        simulator = subprocess.Popen(
            [sys.executable, "-m", "app.gateway.simulator", "--port", str(sim_port)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(sim_port)
            (base / "synced").mkdir()
            started = time.monotonic()
            program = Program(
                root,
                base / "synced",
                CLIENT_ID=DEMO_CLIENT_ID,
                CLIENT_SECRET=DEMO_CLIENT_SECRET,
                GATEWAY_URL=f"http://127.0.0.1:{sim_port}",
                **image_env,
            )
            try:
                line = program.wait_for("sync done")
                elapsed = time.monotonic() - started
                match = _SYNC_DONE.search(line)
                requests = match.group(1) if match else "?"
                sync_peak = _peak_rss_mb(program.process.pid)
                time.sleep(args.settle)
                synced = _rss_mb(program.process.pid)
                pages = crawl(f"http://127.0.0.1:{program.port}")
                peak_crawl = _rss_mb(program.process.pid)
                time.sleep(args.settle)
                steady = _rss_mb(program.process.pid)
            finally:
                program.stop()
        finally:
            simulator.terminate()
            simulator.wait(timeout=30)
        # a restart (the add-on after a reboot or an update): the synced store, schema at head
        program = Program(root, base / "synced", **image_env)
        try:
            program.wait_for("web UI on")
            time.sleep(args.settle)
            restarted = _rss_mb(program.process.pid)
        finally:
            program.stop()
    print(
        f"first sync of the 3 demo points: {requests} gateway requests, "
        f"{elapsed:.1f} s from start to 'sync done'"
    )
    print(f"peak RSS from start to 'sync done': {sync_peak:.1f} MB")
    print(f"RSS after the first full sync, idle: {synced:.1f} MB")
    print(
        f"RSS right after a crawl of {pages} pages: {peak_crawl:.1f} MB; "
        f"steady {args.settle:.0f} s later: {steady:.1f} MB"
    )
    print(f"idle RSS after a restart on the synced store (no sync at start): {restarted:.1f} MB")
    ok = idle <= IDLE_TARGET_MB and steady <= STEADY_TARGET_MB
    print(
        f"targets: idle <= {IDLE_TARGET_MB:.0f} MB -> {'ok' if idle <= IDLE_TARGET_MB else 'MISSED'}; "
        f"steady after sync + crawl <= {STEADY_TARGET_MB:.0f} MB -> "
        f"{'ok' if steady <= STEADY_TARGET_MB else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
