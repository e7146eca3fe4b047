"""The add-on packaging check CI runs: the real files pass, and each kind of broken file fails it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from app import __version__
from tests.addon_check import ROOT, _shared_folder, check_addon, png_size

ADDON_FILES = (
    "config.yaml",
    "build.yaml",
    "repository.yaml",
    "Dockerfile",
    "pyproject.toml",
    "app/__init__.py",
    "translations",
    "rootfs",
    "icon.png",
    "logo.png",
    ".yamllint",
)
SHARED = _shared_folder(ROOT)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "addon"
    for name in ADDON_FILES:
        source, target = ROOT / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return root


def _edit_yaml(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_the_add_on_files_pass_every_check() -> None:
    assert check_addon(ROOT) == []


def test_versions_agree() -> None:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    assert config["version"] == __version__
    assert png_size(ROOT / "icon.png") == (128, 128)


def test_a_key_at_its_default_value_fails_the_ci_check(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    with (root / "config.yaml").open("a", encoding="utf-8") as config:
        config.write("ingress_port: 8099\n")
    result = subprocess.run(
        [sys.executable, "-m", "tests.addon_check", "--root", str(root), "--shared", str(SHARED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "config.yaml: `ingress_port: 8099` is the default value: remove the key" in result.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(arch=["aarch64", "sparc"]), "config.yaml: arch/1: 'sparc' is not one of"),
        (lambda c: c.update(ingres=True), "config.yaml: (top level): Additional properties are not allowed"),
        (lambda c: c.update(init=True), "config.yaml: `init: true` is the default value"),
        (lambda c: c.update(services=["mqtt:maybe"]), "config.yaml: services/0: 'mqtt:maybe' does not match"),
        (lambda c: c.update(version="9.9.9"), "version differs: config.yaml 9.9.9"),
        (lambda c: c["options"].update(colour="red"), "option `colour` has no entry in `schema`"),
        (lambda c: c["schema"].update(colour="str?"), "translations/en.yaml: option `colour` needs a name"),
    ],
)
def test_each_broken_config_key_is_named(
    tmp_path: Path, change: Callable[[dict[str, object]], None], expected: str
) -> None:
    root = _copy(tmp_path)
    _edit_yaml(root / "config.yaml", change)
    findings = check_addon(root, SHARED, tools=False)
    assert any(finding.startswith(expected) or expected in finding for finding in findings), findings


def test_broken_build_yaml_translation_script_and_dockerfile_fail(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit_yaml(root / "build.yaml", lambda b: b.update(squash=False))
    _edit_yaml(
        root / "translations/fr.yaml",
        lambda t: t["configuration"].pop("mqtt_tls"),  # type: ignore[attr-defined]
    )
    _edit_yaml(
        root / "translations/en.yaml",
        lambda t: t["configuration"]["v1_tokens"]["fields"].pop("token"),  # type: ignore[index]
    )
    (root / "rootfs/etc/s6-overlay/s6-rc.d/myelectricaldata/finish").chmod(0o644)
    dockerfile = root / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("ARG BUILD_FROM=", "ARG BUILD_FROM\n# was="))
    findings = check_addon(root, SHARED, tools=False)
    assert "build.yaml: `squash: false` is the default value: remove the key" in findings
    assert "translations/fr.yaml: option `mqtt_tls` needs a name and a description" in findings
    assert "translations/en.yaml: field `v1_tokens.token` needs a name (under `fields:`)" in findings
    assert "rootfs/etc/s6-overlay/s6-rc.d/myelectricaldata/finish: not executable" in findings
    assert "Dockerfile: needs an explicit `ARG BUILD_FROM=<image>` default" in findings


def test_linters_fail_on_bad_yaml_shell_and_dockerfile(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    with (root / "repository.yaml").open("a", encoding="utf-8") as file:
        file.write("extra:   [a,b]   \n")
    run = root / "rootfs/etc/s6-overlay/s6-rc.d/myelectricaldata/run"
    run.write_text(run.read_text().replace("exec python3 -m app", "echo $UNQUOTED\nexec python3 -m app"))
    with (root / "Dockerfile").open("a", encoding="utf-8") as file:
        file.write("RUN cd /tmp && apk add curl\n")
    findings = check_addon(root, SHARED)
    assert any(f.startswith("yamllint failed") and "trailing spaces" in f for f in findings), findings
    assert any(f.startswith("shellcheck failed") and "SC2086" in f for f in findings), findings
    assert any(f.startswith("hadolint failed") and "DL3003" in f for f in findings), findings


def test_a_missing_shared_folder_is_a_clear_failure(tmp_path: Path) -> None:
    findings = check_addon(ROOT, tmp_path / "nowhere", tools=False)
    assert findings[0].startswith(str(tmp_path / "nowhere" / "addon-config.schema.json") + " not found")
    assert "../shared" in findings[0]


def test_a_stray_config_file_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "translations/config.json").write_text("{}")
    findings = check_addon(root, SHARED, tools=False)
    assert any("translations/config.json: the supervisor would read it" in f for f in findings)


def test_the_image_lock_pins_every_runtime_dependency_within_its_range() -> None:
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(text) for text in project["dependencies"]]
    wanted += [Requirement(text) for text in project["optional-dependencies"]["postgresql"]]
    wanted += [Requirement(text) for text in project["optional-dependencies"]["mysql"]]
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned with =="
            pins[name.lower().replace("_", "-")] = version
    for requirement in wanted:
        name = requirement.name.lower().replace("_", "-")
        assert name in pins, f"requirements.lock misses {requirement.name}"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"
