"""Docker HEALTHCHECK: `python3 -m app.healthcheck` exits 0 when the local /health answers 200.

It asks the port the program listens on: the ingress port as an add-on (where /health also answers
the container itself), else PORT.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from app.settings import load_settings


def main() -> int:
    settings, _ = load_settings()
    port = settings.ingress_port if settings.addon else settings.port
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=8) as response:
            return 0 if response.status == 200 else 1
    except (OSError, urllib.error.URLError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
