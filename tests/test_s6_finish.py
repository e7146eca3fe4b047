"""The s6 `finish` script: a crash halts the container with the program's exit code, SIGTERM halts it
cleanly, a normal exit does not. Run for real with bash in a private mount namespace whose /run is
a tmpfs (so /run/s6-linux-init-container-results and /run/s6/basedir/bin/halt are the test's), with a
minimal `bashio` stand-in for the log functions the script calls."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FINISH = ROOT / "rootfs/etc/s6-overlay/s6-rc.d/myelectricaldata/finish"

BASHIO = """#!/bin/bash
bashio::log.info() { echo "INFO: $*"; }
bashio::log.error() { echo "ERROR: $*"; }
script=$1
shift
# shellcheck disable=SC1090
source "$script"
"""

SCENARIO = """
set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/s6-linux-init-container-results /run/s6/basedir/bin
echo "$CONTAINER_CODE" > /run/s6-linux-init-container-results/exitcode
printf '#!/bin/sh\\necho halted > "$MARK"\\n' > /run/s6/basedir/bin/halt
chmod +x /run/s6/basedir/bin/halt
"$FINISH" "$SERVICE_CODE" "$SIGNAL" || true
echo "exitcode=$(cat /run/s6-linux-init-container-results/exitcode)"
"""


@pytest.mark.parametrize(
    ("service_code", "signal", "container_code", "halted", "exitcode"),
    [
        ("1", "0", "0", True, "1"),  # crash: halt with the program's code
        ("256", "15", "0", True, "143"),  # stopped by SIGTERM: halt, 128 + 15
        ("256", "9", "0", False, "137"),  # killed otherwise: s6 restarts the service
        ("0", "0", "0", False, "0"),  # a clean exit: nothing to do
        ("3", "0", "2", True, "2"),  # the container's own code is kept
    ],
)
def test_finish_halts_the_container_on_a_crash(
    tmp_path: Path, service_code: str, signal: str, container_code: str, halted: bool, exitcode: str
) -> None:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("unshare (util-linux) is needed to give the script its own /run", pytrace=False)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "bashio").write_text(BASHIO)
    (shim / "bashio").chmod(0o755)
    mark = tmp_path / "halted"
    result = subprocess.run(
        [unshare, "-m", "bash", "-c", SCENARIO],
        env={
            "PATH": f"{shim}:/usr/bin:/bin:/usr/sbin:/sbin",
            "FINISH": str(FINISH),
            "SERVICE_CODE": service_code,
            "SIGNAL": signal,
            "CONTAINER_CODE": container_code,
            "MARK": str(mark),
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"exitcode={exitcode}" in result.stdout, result.stdout + result.stderr
    assert mark.exists() is halted
    if service_code not in ("0", "256"):
        assert f"stopped with exit code {service_code}" in result.stdout
