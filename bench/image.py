"""Image size per architecture and the time from "install" to "started", prebuilt image vs local build.

Run: `python -m bench.image` (needs the package registry, like `pip install`; no Docker engine).

1. Wheels: `pip download --only-binary :all:` of requirements.lock for each architecture's platform
   (Alpine = musllinux, Python 3.13 like the base image) into a temporary folder. The compressed layer
   is about the wheels' size (both zip/gzip-deflated); the installed size is the sum of the files inside.
   A dependency without a wheel for that platform is listed: a local build compiles it on the device.
2. Program and chart assets: the `app/` package (with app/web/static/dist built by
   `npm run build --prefix frontend`) compressed with gzip, as the image's layer would be.
3. Base image: ghcr.io/home-assistant/base-python:3.13-alpine3.23 cannot be queried here (no
   container registry), so its compressed size is the stated assumption BASE_MB, and so is the node
   image a local build pulls (NODE_MB).
4. Waiting time on a 20 Mbit/s link (2.5 MB/s): prebuilt = pull of base + wheels + program layers.
   Local build = pull of base + node image + npm packages + wheels (pip downloads them), plus the build
   work measured on this machine (npm ci + npm run build, pip install of the downloaded wheels, then
   compileall) times PI_SLOWDOWN (a Raspberry Pi 4 against this machine, assumed).
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = {"amd64": "musllinux_1_2_x86_64", "aarch64": "musllinux_1_2_aarch64"}
PYTHON = "3.13"
LINK_MB_PER_S = 20 / 8  # 20 Mbit/s
# Assumptions (not measurable without a container registry): compressed sizes in MB.
BASE_MB = 30.0  # HA base-python 3.13 on Alpine 3.23: Alpine, s6-overlay, bashio, Python 3.13
NODE_MB = 50.0  # node:24-alpine, pulled only by a local build
PI_SLOWDOWN = 4.0  # build work on a Raspberry Pi 4 compared with this machine
MB = 1_000_000


@dataclass
class Wheels:
    compressed: int
    installed: int
    missing: list[str]
    folder: Path


def download_wheels(arch: str, into: Path) -> Wheels:
    folder = into / arch
    folder.mkdir(parents=True)
    lines = [
        line.strip()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    missing = []
    for requirement in lines:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--platform",
                PLATFORMS[arch],
                "--python-version",
                PYTHON,
                "--implementation",
                "cp",
                "-d",
                str(folder),
                requirement,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            missing.append(requirement)
    wheels = sorted(folder.glob("*.whl"))
    installed = 0
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            installed += sum(info.file_size for info in archive.infolist())
    return Wheels(sum(w.stat().st_size for w in wheels), installed, missing, folder)


def program_layer() -> tuple[int, int, bool]:
    """(gzip-compressed, raw) size of the app package as the image copies it; whether charts were built."""
    buffer = io.BytesIO()
    raw = 0
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as tar,
    ):
        for path in sorted((ROOT / "app").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                tar.add(path, arcname=str(path.relative_to(ROOT)))
                raw += path.stat().st_size
    charts = any((ROOT / "app/web/static/dist").glob("*.js"))
    return len(buffer.getvalue()), raw, charts


def npm_packages_size() -> int:
    """Compressed size of what `npm ci` downloads for the chart build (the lock file's tarballs)."""
    total = 0
    for tarball in (ROOT / "frontend/node_modules").rglob("package.json"):
        if tarball.parent.parent.name in ("node_modules", "@esbuild"):
            total += sum(p.stat().st_size for p in tarball.parent.rglob("*") if p.is_file())
    return total // 3  # npm tarballs are gzip-compressed: about a third of the unpacked files


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def build_work(arch: str, wheels: Path, scratch: Path) -> float:
    """Seconds of local build work on this machine: chart build, pip install of the wheels (unpacked and
    compiled as in the image, for the image's platform), compileall of the program."""
    seconds = timed(["npm", "run", "build", "--silent"], ROOT / "frontend")
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / "site"
    native = list(wheels.glob("*.whl"))
    seconds += timed(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-index",
            "--only-binary",
            ":all:",
            "--platform",
            PLATFORMS[arch],
            "--python-version",
            PYTHON,
            "--target",
            str(target),
            *map(str, native),
        ],
        scratch,
    )
    seconds += timed([sys.executable, "-m", "compileall", "-q", str(ROOT / "app")], scratch)
    return seconds


def main() -> None:
    program_gz, program_raw, charts = program_layer()
    npm_mb = npm_packages_size() / MB
    print(
        f"program + chart assets layer: {program_gz / MB:.2f} MB compressed ({program_raw / MB:.2f} MB files)"
    )
    if not charts:
        print("  (charts not built: run `npm run build --prefix frontend` first for the real figure)")
    print(f"assumed: base image {BASE_MB:.0f} MB, node image {NODE_MB:.0f} MB, Pi 4 build x{PI_SLOWDOWN:.0f}")
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        work: float | None = None
        for arch in PLATFORMS:
            wheels = download_wheels(arch, scratch / "wheels")
            pull = BASE_MB + wheels.compressed / MB + program_gz / MB
            installed_extra = (wheels.installed + program_raw) / MB
            print(f"\n{arch} ({PLATFORMS[arch]}, Python {PYTHON})")
            print(
                f"  wheels: {wheels.compressed / MB:.2f} MB compressed, "
                f"{wheels.installed / MB:.2f} MB installed"
            )
            if wheels.missing:
                print(f"  no wheel (compiled on the device by a local build): {', '.join(wheels.missing)}")
            print(f"  estimated image: {pull:.1f} MB to pull, base + {installed_extra:.1f} MB on disk")
            if work is None and not wheels.missing:  # the same work for every architecture
                work = build_work(arch, wheels.folder, scratch / arch) * PI_SLOWDOWN
            prebuilt = pull / LINK_MB_PER_S
            print(f"  prebuilt image: {prebuilt:.0f} s to pull at 20 Mbit/s")
            local_download = (BASE_MB + NODE_MB + npm_mb + wheels.compressed / MB) / LINK_MB_PER_S
            if work is not None:
                print(
                    f"  local build: {local_download:.0f} s of downloads + {work:.0f} s of build work "
                    f"(measured here x{PI_SLOWDOWN:.0f}) = {local_download + work:.0f} s"
                )
            else:
                missing = ", ".join(wheels.missing)
                print(f"  local build: {local_download:.0f} s of downloads + building {missing} on device")


if __name__ == "__main__":
    main()
