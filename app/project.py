"""This program's own identity, in one place: what it calls itself to other programs and where its
users find help (MQTT discovery `origin`, ...).

REPOSITORY_URL carries the owner placeholder `your-github-owner`; CONTRIBUTING.md gives the one command
that replaces it everywhere.
"""

from __future__ import annotations

from app import __version__

PROJECT_NAME = "MyElectricalData local client"
PROJECT_VERSION = __version__
REPOSITORY_URL = "https://github.com/your-github-owner/myelectricaldata-local"
