"""The systemd units under deploy/: each one hardened as the issue asks (CI also runs ``systemd-analyze verify``)."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parents[2] / "deploy"
NEW_SERVICES = [
    "csu-feedproxy.service",
    "csu-portal.service",
    "csu-portal-outbox.service",
    "csu-portal-notices.service",
]
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "RestrictSUIDSGID": "yes",
}


def service(name: str) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    text = (DEPLOY / name).read_text(encoding="utf-8").replace("\\\n", " ")
    parser.read_string(text)
    return dict(parser["Service"])


@pytest.mark.parametrize("name", NEW_SERVICES)
def test_each_service_runs_hardened_as_a_dynamic_user(name: str) -> None:
    settings = service(name)
    assert settings["DynamicUser"] == "yes"
    assert "User" not in settings  # never root
    for key, value in HARDENING.items():
        assert settings[key] == value, key
    assert settings["ExecStart"].startswith("/opt/portal/bin/")


@pytest.mark.parametrize("name", NEW_SERVICES)
def test_capabilities_are_only_the_needed_ones(name: str) -> None:
    settings = service(name)
    needed = "CAP_NET_BIND_SERVICE" if name == "csu-feedproxy.service" else ""
    assert settings["CapabilityBoundingSet"] == needed
    assert settings.get("AmbientCapabilities", "") == needed


def test_feed_proxy_reads_its_token_from_a_credential_file_never_the_command_line() -> None:
    settings = service("csu-feedproxy.service")
    assert settings["LoadCredential"] == "token:/etc/csu-feedproxy/token"
    assert "--token-file %d/token" in " ".join(settings["ExecStart"].split())
    env = (DEPLOY / "csu-feedproxy.env.example").read_text(encoding="utf-8")
    assert "TOKEN=" not in env.upper().replace("# ", "")


def test_the_notices_timer_starts_its_service_hourly() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "csu-portal-notices.timer").read_text(encoding="utf-8"))
    assert parser["Timer"]["OnCalendar"] == "hourly"
    assert parser["Timer"]["Unit"] == "csu-portal-notices.service"
    assert service("csu-portal-notices.service")["Type"] == "oneshot"


def test_nginx_example_terminates_tls_in_front_of_the_portal() -> None:
    conf = (DEPLOY / "nginx-portal.conf.example").read_text(encoding="utf-8")
    assert "listen 443 ssl;" in conf and "ssl_certificate " in conf
    assert "proxy_pass http://csu_portal;" in conf and "server 127.0.0.1:8000;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "--bind 127.0.0.1:8000" in service("csu-portal.service")["ExecStart"]
