"""Store-grade packaging: the image workflow agrees with config.yaml/build.yaml/Dockerfile (and the check
fails when it does not), the add-on linter's own rules and actionlint run, every option is read by the
program, and the supervisor's stop timeout outlasts the program's own shutdown waits."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from app.exporters.manager import DISCONNECT_TIMEOUT, discover
from app.settings import ADDON_OPTIONS, Secret, Settings, load_settings
from app.web.cache import WARM_STOP_TIMEOUT
from tests.addon_check import (
    ROOT,
    WORKFLOW,
    _dockerfile,
    _run_actionlint,
    _shared_folder,
    apparmor_parser,
    check_apparmor,
    check_workflow,
    run_addon_linter,
)

PACKAGING = ("config.yaml", "build.yaml", "Dockerfile", "repository.yaml", WORKFLOW)


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "addon"
    for name in PACKAGING:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    return root


def _check(root: Path) -> list[str]:
    return check_workflow(root, _load(root / "config.yaml"), _load(root / "build.yaml"))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_workflow_config_build_and_dockerfile_agree() -> None:
    assert _check(ROOT) == []
    config = _load(ROOT / "config.yaml")
    assert config["image"].endswith("/{arch}-addon-myelectricaldata")
    assert "watchdog" not in config and "map" not in config
    assert config["homeassistant"] == "2024.12.0"


def test_consistency_check_fails_when_the_workflow_architectures_disagree(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / WORKFLOW, """ARCHITECTURES: '["aarch64", "amd64"]'""", """ARCHITECTURES: '["amd64"]'""")
    assert any("ARCHITECTURES ['amd64'] differ" in finding for finding in _check(root))


def test_consistency_check_fails_when_config_yaml_drops_an_architecture(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "config.yaml", "arch:\n  - aarch64\n  - amd64\n", "arch:\n  - amd64\n")
    findings = _check(root)
    assert any("ARCHITECTURES" in finding for finding in findings)
    assert any("build.yaml: build_from architectures" in finding for finding in findings)


def test_consistency_check_fails_when_the_workflow_version_disagrees(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / WORKFLOW, "version: ${{ needs.init.outputs.version }}", 'version: "0.2.0"')
    findings = _check(root)
    assert any("builds version '0.2.0', not config.yaml's" in finding for finding in findings)
    assert any("version 0.2.0 written in the workflow differs" in finding for finding in findings)


def test_consistency_check_fails_when_the_workflow_stops_reading_config_yaml(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / WORKFLOW, "version=$(yq -r '.version' config.yaml)", "version=0.3.0")
    assert any("must read .version and .image from config.yaml" in finding for finding in _check(root))


def test_consistency_check_fails_on_two_image_owners(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "repository.yaml", "github.com/your-github-owner/", "github.com/someone-else/")
    assert any("owner differs" in finding for finding in _check(root))


def test_consistency_check_fails_when_a_blueprint_names_another_repository_owner(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    blueprint = Path("blueprints/automation/myelectricaldata/offpeak_switch.yaml")
    (root / blueprint).parent.mkdir(parents=True)
    shutil.copy2(ROOT / blueprint, root / blueprint)
    assert not any("owner differs" in finding for finding in _check(root))
    _edit(root / blueprint, "github.com/your-github-owner/", "github.com/someone-else/")
    assert any("owner differs" in finding for finding in _check(root))


def test_consistency_check_fails_when_build_yaml_and_dockerfile_bases_differ(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "build.yaml", "amd64: ghcr.io/home-assistant/base-python:3.13", "amd64: ghcr.io/x/base:3.12")
    assert any("build.yaml: amd64 builds from ghcr.io/x/base" in finding for finding in _check(root))


def test_the_chart_stage_uses_a_maintained_node_lts(tmp_path: Path) -> None:
    assert _dockerfile(ROOT) == []
    root = _copy(tmp_path)
    _edit(root / "Dockerfile", "node:24-alpine", "node:20-alpine")
    assert any("node:20 is not a maintained LTS" in finding for finding in _dockerfile(root))


def test_the_add_on_linter_rules_pass_and_reject_watchdog(tmp_path: Path) -> None:
    shared = _shared_folder(ROOT)
    assert run_addon_linter(ROOT, shared) == []
    root = _copy(tmp_path)
    _edit(
        root / "config.yaml", "ingress: true\n", "ingress: true\nwatchdog: http://[HOST]:[PORT:8099]/health\n"
    )
    assert any("'watchdog', is obsolete" in finding for finding in run_addon_linter(root, shared))


def test_actionlint_passes_and_catches_a_broken_workflow(tmp_path: Path) -> None:
    assert _run_actionlint(ROOT) == []
    root = _copy(tmp_path)
    (root / "tools").mkdir()
    (root / "tools/actionlint").symlink_to(ROOT / "tools/actionlint")
    _edit(
        root / WORKFLOW, "push: ${{ needs.init.outputs.publish }}", "push: ${{ needs.init.outputs.pubish }}"
    )
    findings = _run_actionlint(root)
    assert findings and 'property "pubish" is not defined' in findings[0]


# ---------------------------------------------------------------- options and translations


def _sample(spec: Any, default: Any) -> Any:
    """A valid value of a config.yaml schema type, different from the option's default."""
    if isinstance(spec, list):
        return [{key: _sample(sub, None) for key, sub in spec[0].items()}]
    kind = str(spec).rstrip("?")
    if kind.startswith("list("):
        choices = kind[len("list(") : -1].split("|")
        return next(choice for choice in choices if choice != default)
    if kind.startswith("match("):
        return "12345678901234"  # the schema's only match() is the 14-digit usage point
    samples: dict[str, Any] = {
        "str": "sample_value",
        "password": "sample-secret",
        "url": "https://gateway.example.test/api",
        "port": 1999,
        "bool": not default if isinstance(default, bool) else True,
    }
    return samples[kind.split("(")[0]]


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _unread_options(config: dict[str, Any], tmp_path: Path) -> list[str]:
    """Options of config.yaml whose value does not reach the program's Settings."""
    schema, defaults = config["schema"], config.get("options") or {}
    options = {key: _sample(spec, defaults.get(key)) for key, spec in schema.items()}
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    settings, errors = load_settings(env={"OPTIONS_FILE": str(path)})
    assert errors == []
    baseline = Settings()
    unread = []
    for key in schema:
        read = key in ADDON_OPTIONS and hasattr(settings, key)
        if not read or _plain(getattr(settings, key)) == _plain(getattr(baseline, key)):
            unread.append(key)
    return unread


def test_every_option_of_config_yaml_is_read_by_the_program(tmp_path: Path) -> None:
    assert _unread_options(_load(ROOT / "config.yaml"), tmp_path) == []


def test_an_option_nobody_reads_is_reported(tmp_path: Path) -> None:
    config = _load(ROOT / "config.yaml")
    config["schema"]["forgotten_switch"] = "bool?"
    assert _unread_options(config, tmp_path) == ["forgotten_switch"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_translation_key_is_an_option(language: str) -> None:
    config = _load(ROOT / "config.yaml")
    translation = _load(ROOT / f"translations/{language}.yaml")
    assert set(translation["configuration"]) == set(config["schema"])
    assert set(translation.get("network") or {}) == set(config.get("ports") or {})


# ---------------------------------------------------------------- stop timeout


def test_stop_timeout_outlasts_the_program_shutdown_waits() -> None:
    """SIGTERM -> aiohttp lets requests finish (its shutdown_timeout), each cache warm-up may finish
    (WARM_STOP_TIMEOUT each), then every exporter may take DISCONNECT_TIMEOUT to disconnect."""
    web_grace = inspect.signature(web.BaseRunner.__init__).parameters["shutdown_timeout"].default
    source = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "app/web").glob("*.py"))
    warm_ups = source.count("keep_warm(app,")
    exporters, _ = discover()
    assert warm_ups >= 2 and len(exporters) >= 7
    waits = web_grace + warm_ups * WARM_STOP_TIMEOUT + len(exporters) * DISCONNECT_TIMEOUT
    timeout = _load(ROOT / "config.yaml")["timeout"]
    assert timeout > waits, f"config.yaml timeout {timeout} s, shutdown may take {waits} s"


# ---------------------------------------------------------------- AppArmor


def test_apparmor_parser_accepts_the_profile_and_rejects_a_broken_one(tmp_path: Path) -> None:
    assert check_apparmor(ROOT / "apparmor.txt") == []
    broken = tmp_path / "apparmor.txt"
    broken.write_text((ROOT / "apparmor.txt").read_text().replace("/data/** rwk,", "/data/** rwq,"))
    assert any("apparmor_parser rejects" in finding for finding in check_apparmor(broken))


def test_apparmor_profile_covers_the_program_files() -> None:
    """The inner profile reads the program's folder and Python, writes /data (database, socket)."""
    profile = (ROOT / "apparmor.txt").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    workdir = re.findall(r"^WORKDIR (\S+)", dockerfile, re.MULTILINE)[-1]  # the image's, not a build stage's
    assert f"{workdir}/** r," in profile
    assert "DATA_DIR=/data" in dockerfile and "/data/** rwk," in profile
    assert "/usr/local/bin/python3* cx -> python," in profile


@pytest.mark.skipif(
    not Path("/sys/kernel/security/apparmor/profiles").exists() or os.geteuid() != 0,
    reason="this kernel has no AppArmor (or not root): the profile cannot be loaded here",
)
def test_the_program_starts_and_serves_under_the_profile(tmp_path: Path) -> None:
    parser, aa_exec = apparmor_parser(), shutil.which("aa-exec")
    assert parser and aa_exec
    subprocess.run([parser, "-r", "-W", str(ROOT / "apparmor.txt")], check=True)
    try:
        port = _free_port()
        env = dict(os.environ) | {"PYTHONPATH": str(ROOT), "DATA_DIR": "/data", "PORT": str(port)}
        process = subprocess.Popen(
            [aa_exec, "-p", "myelectricaldata//python", "--", sys.executable, "-m", "app", "--demo"],
            env=env,
            cwd=tmp_path,
        )
        try:
            for _ in range(300):
                url = f"http://127.0.0.1:{port}/health"
                with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
                    assert answer.status == 200
                    break
                time.sleep(0.1)  # another process: no event to await
            else:
                raise AssertionError("the program did not serve /health under the profile")
        finally:
            process.terminate()
            process.wait(30)
    finally:
        subprocess.run([parser, "-R", str(ROOT / "apparmor.txt")], check=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------- user and developer docs


def test_contributing_keeps_the_fresh_machine_commands_and_ci_runs_the_test_command() -> None:
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "pip install -e . && myelectricaldata --demo" in contributing
    assert "bash scripts/test.sh" in contributing
    assert (ROOT / ".ci/run").read_text(encoding="utf-8").rstrip().endswith("exec bash scripts/test.sh")


def test_readme_is_the_store_page_with_install_button_screenshot_and_docker_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "my.home-assistant.io/redirect/supervisor_add_addon_repository" in readme
    screenshot = re.search(r"!\[[^\]]+\]\(\S+/main/(docs/\S+\.png)\)", readme)
    assert screenshot and (ROOT / screenshot.group(1)).is_file()
    assert "docker build -t myelectricaldata ." in readme
    assert "docker run -d --name myelectricaldata" in readme
    # The two fresh-machine commands stay on the front page (the demo run and the test command that
    # .ci/run calls); the rest of the developer material lives in CONTRIBUTING.md.
    assert "myelectricaldata --demo" in readme
    assert "bash scripts/test.sh" in readme and "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    assert "pytest" not in readme


def test_docs_are_french_then_english_with_the_same_sections_and_no_anchor_links() -> None:
    docs = (ROOT / "DOCS.md").read_text(encoding="utf-8")
    french, english = docs.split("\n## English\n")
    assert "\n## Français\n" in french
    numbered = re.compile(r"^### (\d+)\. ", re.MULTILINE)
    assert numbered.findall(french) == numbered.findall(english) == [str(n) for n in range(1, 10)]
    for level in ("####", "#####"):
        pattern = re.compile(rf"^{level} ", re.MULTILINE)
        assert len(pattern.findall(french)) == len(pattern.findall(english)), level
    assert "](#" not in docs  # HA's markdown renderer does not follow in-page anchors


def test_zizmor_audits_the_workflow_and_flags_a_template_injection(tmp_path: Path) -> None:
    zizmor = shutil.which(
        "zizmor", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    assert zizmor, "pip install -e '.[test]'"
    command = [zizmor, "--offline", "--no-progress"]
    clean = subprocess.run([*command, str(ROOT / WORKFLOW)], capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    root = _copy(tmp_path)
    read_version = "          version=$(yq -r '.version' config.yaml)"
    injected = '          echo "${{ github.event.pull_request.title }}"'
    _edit(root / WORKFLOW, read_version, injected + "\n" + read_version)
    dirty = subprocess.run([*command, str(root / WORKFLOW)], capture_output=True, text=True, check=False)
    assert dirty.returncode != 0 and "template-injection" in dirty.stdout + dirty.stderr
