"""The deployment as the README describes it: every variable of the Configuration
table reaches the app containers, the settings read no variable the table leaves
out, only the proxy publishes ports, the client's address comes from the proxy
alone, and the proxy's configuration is valid.

Reads ``docker-compose -f docker-compose.yml config`` (offline; Debian's
docker-compose 1.29) and ``caddy validate`` (Debian's caddy), as CI installs them."""

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat", "migrate")
# Read only without DATABASE_URL, which compose always sets.
DEVELOPMENT_ONLY = {"EMBEDDED_DB_DIR"}
# The documented variable name: backticked, upper case, in a row's first cell.
_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def documented_variables() -> set[str]:
    """The variables of the README's Configuration table."""
    names: set[str] = set()
    for line in readme_section("Configuration").splitlines():
        if line.startswith("| `"):
            names.update(_NAME.findall(line.split("|")[1]))
    return names


def variables_the_settings_read() -> set[str]:
    source = (ROOT / "clinic" / "settings.py").read_text()
    return set(re.findall(r"\benv_\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


@cache
def compose_config() -> dict[str, Any]:
    require(shutil.which("docker-compose") is not None, "docker-compose is not installed")
    environment = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        env={**environment, "SECRET_KEY": "compose-config-check-only"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def volume_sources(name: str) -> list[str]:
    """What each volume of a service mounts (a named volume, or a path)."""
    return [
        str(volume["source"] if isinstance(volume, dict) else volume.split(":")[0])
        for volume in service(name).get("volumes", [])
    ]


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = compose_config()["services"][name]
    return found


def test_the_readme_table_lists_exactly_the_variables_the_settings_read() -> None:
    documented, read = documented_variables(), variables_the_settings_read()
    assert len(read) > 30  # the pattern still finds the settings' reads
    assert not read - documented, (
        f"read by clinic/settings.py, not in the README: {read - documented}"
    )
    assert not documented - read, f"in the README, read by no setting: {documented - read}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_documented_variable_reaches_the_app_services(name: str) -> None:
    environment = set(service(name).get("environment", {}))
    missing = documented_variables() - DEVELOPMENT_ONLY - environment
    assert not missing, f"documented but not passed to {name}: {sorted(missing)}"


def test_only_the_proxy_publishes_ports() -> None:
    publishing = {name for name, spec in compose_config()["services"].items() if spec.get("ports")}
    assert publishing == {"proxy"}
    published = {
        str(port["published"] if isinstance(port, dict) else port).split(":")[0]
        for port in service("proxy")["ports"]
    }
    assert published == {"80", "443"}
    assert "8000" in [str(port) for port in service("web").get("expose", [])]


def test_web_trusts_forwarded_headers_from_the_proxy_alone() -> None:
    proxy_address = service("proxy")["networks"]["clinic"]["ipv4_address"]
    assert service("web")["environment"]["FORWARDED_ALLOW_IPS"] == proxy_address
    assert "forwarded-allow-ips" not in (ROOT / "Dockerfile").read_text()
    assert "forwarded-allow-ips" not in str(service("web").get("command", ""))
    for name in APP_SERVICES:
        # The proxy overwrites X-Forwarded-For, so its one address is the client's.
        assert service(name)["environment"]["CLIENT_IP_HEADER"] == "HTTP_X_FORWARDED_FOR"


def test_the_long_running_services_have_health_checks() -> None:
    for name in ("db", "redis", "web", "worker", "beat"):
        assert service(name).get("healthcheck", {}).get("test"), name


def test_backups_run_in_their_own_service_and_restore_is_on_demand() -> None:
    backup, restore = service("backup"), service("restore")
    assert "/deploy/backup.sh" in " ".join(backup["command"])
    assert backup["environment"]["BACKUP_KEEP"] == "14"
    assert {"private-media", "backups"} <= set(volume_sources("backup"))
    assert restore["entrypoint"] == ["/deploy/restore.sh"]
    assert restore["profiles"] == ["restore"]  # `up` never starts a restore


def caddyfile_directives() -> list[str]:
    lines = (ROOT / "deploy" / "Caddyfile").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_the_proxy_overwrites_the_forwarded_address_with_the_one_it_saw() -> None:
    directives = caddyfile_directives()
    assert "reverse_proxy web:8000 {" in directives
    assert "header_up X-Forwarded-For {remote_host}" in directives
    assert "header_up X-Forwarded-Proto {scheme}" in directives
    # Trusting other proxies would let their (client-chosen) header through.
    assert not [line for line in directives if "trusted_proxies" in line]
    assert volume_sources("proxy")[0].endswith("deploy/Caddyfile")


def test_caddy_validates_the_proxy_configuration(tmp_path: Path) -> None:
    require(shutil.which("caddy") is not None, "caddy is not installed (Debian package caddy)")
    result = subprocess.run(
        ["caddy", "validate", "--config", "deploy/Caddyfile", "--adapter", "caddyfile"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "CLINIC_HOST": "intake.example.org",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr
