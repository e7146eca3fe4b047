"""Add-on footprint: installed size of the runtime dependencies and idle memory of the program.

Run: `python -m bench.addon` (needs the package registry, like `pip install`).
1. Creates a fresh venv, installs the package with its runtime dependencies only (then with the
   PostgreSQL/MySQL extras the Docker image also carries) and sums site-packages, leaving out pip and
   setuptools (the venv's own tools). Target: < 60 MB.
2. Starts `python -m app` from that venv (environment variables only) and reads its resident memory
   once idle: unconfigured, then in demo mode after the first full sync. Target: < 80 MB.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench._serve import free_port, wait_port

ROOT = Path(__file__).resolve().parents[1]
TOOLS = re.compile(r"^(pip|setuptools|_distutils_hack|pkg_resources|distutils-precedence\.pth)")
DISK_TARGET_MB = 60.0
RSS_TARGET_MB = 80.0


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python*/site-packages"))
    assert found, f"no site-packages in {venv}"
    return found[0]


def installed_size(venv: Path) -> tuple[float, list[tuple[str, float]]]:
    site = _site_packages(venv)
    sizes = [(entry.name, _size(entry) / 1e6) for entry in site.iterdir() if not TOOLS.match(entry.name)]
    sizes.sort(key=lambda item: -item[1])
    return sum(size for _, size in sizes), sizes


def _install(venv: Path, spec: str) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", spec],
        check=True,
    )


def idle_rss(
    venv: Path, data_dir: Path, *args: str, ready: str, settle: float = 5.0, **variables: str
) -> float:
    """Starts the program, waits for the log line `ready`, lets it settle, returns its RSS in MB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIENT_", "GATEWAY_", "SUPERVISOR_"))}
    env |= {"DATA_DIR": str(data_dir), "OPTIONS_FILE": str(data_dir / "absent.json"), "PYTHONPATH": ""}
    env |= variables
    port = free_port()
    process = subprocess.Popen(
        [str(venv / "bin/python"), "-m", "app", "--host", "127.0.0.1", "--port", str(port), *args],
        cwd=data_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 180
        for line in process.stderr:
            if ready in line:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {ready!r} in 180 s")
        else:
            raise RuntimeError("the program exited: " + str(process.wait()))
        time.sleep(settle)
        return psutil.Process(process.pid).memory_info().rss / 1e6
    finally:
        process.terminate()
        process.wait(timeout=20)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="med-bench-") as tmp:
        base = Path(tmp)
        venv = base / "venv"
        _install(venv, str(ROOT))
        total, sizes = installed_size(venv)
        print(f"runtime dependencies (fresh venv, site-packages less pip/setuptools): {total:.1f} MB")
        print("  largest: " + ", ".join(f"{name} {size:.1f}" for name, size in sizes[:6]))
        full = base / "venv-full"
        _install(full, f"{ROOT}[postgresql,mysql]")
        full_total, _ = installed_size(full)
        print(f"with the PostgreSQL and MySQL drivers (the Docker image): {full_total:.1f} MB")

        (base / "idle").mkdir()
        idle = idle_rss(venv, base / "idle", ready="web UI on")
        print(f"idle RSS after start (no credentials yet): {idle:.1f} MB")
        (base / "synced").mkdir()
        synced = _after_first_sync(venv, base / "synced")
        print(f"RSS after the first full sync, idle (3 points x 3 years, simulator apart): {synced:.1f} MB")

    ok = total < DISK_TARGET_MB and idle < RSS_TARGET_MB
    print(
        f"targets: disk < {DISK_TARGET_MB:.0f} MB -> {'ok' if total < DISK_TARGET_MB else 'MISSED'}; "
        f"idle RSS after start < {RSS_TARGET_MB:.0f} MB -> {'ok' if idle < RSS_TARGET_MB else 'MISSED'}"
    )
    return 0 if ok else 1


def _after_first_sync(venv: Path, data_dir: Path) -> float:
    """The client synced from a simulator running in another process (so its memory is not counted)."""
    from app.gateway.simulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "app.gateway.simulator", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, 30.0)
        return idle_rss(
            venv,
            data_dir,
            ready="sync done",
            CLIENT_ID=DEMO_CLIENT_ID,
            CLIENT_SECRET=DEMO_CLIENT_SECRET,
            GATEWAY_URL=f"http://127.0.0.1:{port}",
        )
    finally:
        simulator.terminate()
        simulator.wait(timeout=20)


if __name__ == "__main__":
    sys.exit(main())
