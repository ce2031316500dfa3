"""Every response carries the deployment checklist's headers and a strict Content-Security-Policy;
`check --deploy` with production settings from the environment finds nothing to warn about."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("who", ["anonymous", "member", "admin"])
@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/", "/api/v1/teams/", "/admin/", "/health/", "/no-such-page/"]
)
def test_every_response_carries_the_security_headers(org, client_for, who, url):
    response = client_for(who).get(url)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy  # no inline script, no eval, no nonce
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_api_docs_allow_their_styles_but_no_inline_script(org, client_for):
    for name in ("api-docs", "api-redoc"):
        response = client_for("member").get(reverse(name))
        policy = dict(
            part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
        )
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self' 'unsafe-inline'"
        assert b"<script>" not in response.content  # Swagger's start script has its own URL
        assert b"fonts.googleapis.com" not in response.content


def test_hsts_and_the_https_redirect_follow_the_settings(org, client, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    secure = client.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=3600; includeSubDomains; preload"
    assert client.get("/health/").status_code != 301  # probes speak plain HTTP


def _production(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_"))}
    return {
        **env,
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "steward.example.com",
        "SECURE_COOKIES": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        **values,
    }


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_check_deploy_with_production_settings_finds_nothing():
    result = _check_deploy(_production())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_names_what_production_lacks():
    result = _check_deploy(_production(SECURE_COOKIES="false", SECURE_HSTS_SECONDS="0"))
    assert result.returncode == 1
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr
