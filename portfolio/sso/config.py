"""Single sign-on settings from the environment (pure: no Django, so settings.py can call it).

`sso_settings(os.environ)` returns an `SsoSettings`; a value that cannot work raises `SsoConfigError`
naming the variable and the reason, so a misconfigured instance refuses to start instead of letting
people in with the wrong roles. Every ``STEWARD_OIDC_*`` variable left empty counts as unset, and
with ``STEWARD_OIDC_ISSUER`` unset single sign-on is off and nothing changes.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

EXECUTIVE = "executive"
LEAN_PMO = "lean_pmo"
# the spellings a mapping may use → the role stored on PortfolioMembership
ROLE_SPELLINGS = {"executive": EXECUTIVE, "lean_pmo": LEAN_PMO, "lean-pmo": LEAN_PMO}

PASSWORD_LOGIN_ALL = "all"
PASSWORD_LOGIN_ADMINS = "admins"

DEFAULT_SCOPES = ("openid", "profile", "email")
DEFAULT_GROUPS_CLAIM = "groups"
DEFAULT_PROVIDER_NAME = "SSO"
DISCOVERY_PATH = "/.well-known/openid-configuration"


class SsoConfigError(ValueError):
    """A single sign-on variable whose value cannot work; the message names the variable."""


@dataclass(frozen=True)
class RoleGrant:
    """A portfolio role that one group value grants. `portfolio` is a name or slug as written."""

    portfolio: str
    role: str


@dataclass(frozen=True)
class MappingRule:
    """One line of the role mapping: members of `group` get `grant`."""

    group: str
    grant: RoleGrant


@dataclass(frozen=True)
class OidcSettings:
    """How to reach one OpenID Connect provider and what its claims mean to Steward."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    discovery_url: str
    scopes: tuple[str, ...]
    groups_claim: str
    provider_name: str
    role_mapping: tuple[MappingRule, ...]
    redirect_uri: str | None = None


@dataclass(frozen=True)
class SsoSettings:
    """Sign-in settings: the OIDC provider (None when single sign-on is off) and who may use passwords."""

    oidc: OidcSettings | None = None
    password_login: str = PASSWORD_LOGIN_ALL

    @property
    def password_login_for_admins_only(self) -> bool:
        return self.password_login == PASSWORD_LOGIN_ADMINS


def portfolio_key(name_or_slug: str) -> str:
    """The slug a portfolio name or slug compares by: "Lending & Wealth" and "lending-wealth" agree."""
    ascii_text = unicodedata.normalize("NFKD", name_or_slug).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _value(environ: Mapping[str, str], name: str) -> str:
    return (environ.get(name) or "").strip()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(name: str, value: str) -> str:
    """`value` if it is an absolute https URL (or http on this machine's loopback), else an error."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SsoConfigError(f"{name} must be an absolute URL such as https://login.example.com/…")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise SsoConfigError(
            f"{name} must use https (plain http is accepted only for 127.0.0.1 or localhost)."
        )
    if parts.fragment:
        raise SsoConfigError(f"{name} must not have a #fragment.")
    return value


def _grant(variable: str, entry: str, target: str) -> RoleGrant:
    """`portfolio:role` → RoleGrant; the role is what follows the last colon."""
    portfolio, colon, role = target.rpartition(":")
    if not colon or not portfolio.strip():
        raise SsoConfigError(
            f"{variable}: “{entry}” must name a portfolio and a role as portfolio:role, "
            "e.g. everyday-banking:executive."
        )
    role_key = role.strip().lower()
    if role_key not in ROLE_SPELLINGS:
        raise SsoConfigError(
            f"{variable}: the role “{role.strip()}” in “{entry}” is not one of executive, lean_pmo."
        )
    return RoleGrant(portfolio=portfolio.strip(), role=ROLE_SPELLINGS[role_key])


def parse_role_mapping(
    text: str, variable: str = "STEWARD_OIDC_ROLE_MAPPING"
) -> tuple[MappingRule, ...]:
    """Read the group → portfolio role mapping.

    Two forms are accepted:

    - a list of ``group=portfolio:role`` entries separated by commas or new lines, e.g.
      ``steward-eb-exec=Everyday Banking:executive, steward-eb-pmo=everyday-banking:lean_pmo``
      (the group is what comes before the last ``=``, the role what follows the last ``:``);
    - a JSON object from group to ``"portfolio:role"`` or a list of them, for group values that
      contain commas or ``=`` (LDAP distinguished names, for example).

    A portfolio is named by its name or its slug. Returns the rules in the order written.
    """
    text = text.strip()
    if not text:
        return ()
    rules: list[MappingRule] = []
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SsoConfigError(f"{variable} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise SsoConfigError(f"{variable} must be a JSON object from group to portfolio:role.")
        for group, targets in data.items():
            targets = [targets] if isinstance(targets, str) else targets
            if not group.strip() or not isinstance(targets, list) or not targets:
                raise SsoConfigError(
                    f"{variable}: the group “{group}” must map to a non-empty "
                    '"portfolio:role" or a list of them.'
                )
            for target in targets:
                if not isinstance(target, str):
                    raise SsoConfigError(
                        f"{variable}: the group “{group}” maps to {target!r}, not text."
                    )
                rules.append(MappingRule(group, _grant(variable, f"{group}={target}", target)))
        return tuple(rules)
    for entry in re.split(r"[,\n]", text):
        entry = entry.strip()
        if not entry:
            continue
        group, equals, target = entry.rpartition("=")
        if not equals or not group.strip():
            raise SsoConfigError(
                f"{variable}: “{entry}” is not group=portfolio:role "
                "(e.g. steward:everyday-banking:executive=Everyday Banking:executive)."
            )
        rules.append(MappingRule(group.strip(), _grant(variable, entry, target.strip())))
    return tuple(rules)


def _scopes(text: str) -> tuple[str, ...]:
    scopes = [scope for scope in re.split(r"[\s,]+", text) if scope] or list(DEFAULT_SCOPES)
    if "openid" not in scopes:  # without it the provider returns no ID token
        scopes.insert(0, "openid")
    return tuple(dict.fromkeys(scopes))


def oidc_settings(environ: Mapping[str, str]) -> OidcSettings | None:
    """The provider named by ``STEWARD_OIDC_*``, or None when ``STEWARD_OIDC_ISSUER`` is unset."""
    issuer = _value(environ, "STEWARD_OIDC_ISSUER")
    if not issuer:
        stray = sorted(
            name for name in environ if name.startswith("STEWARD_OIDC_") and _value(environ, name)
        )
        if stray:
            raise SsoConfigError(
                f"{', '.join(stray)} set but STEWARD_OIDC_ISSUER is not: set the issuer to turn on "
                "single sign-on, or leave these empty."
            )
        return None
    _url("STEWARD_OIDC_ISSUER", issuer)
    client_id = _value(environ, "STEWARD_OIDC_CLIENT_ID")
    client_secret = _value(environ, "STEWARD_OIDC_CLIENT_SECRET")
    for name, value in (
        ("STEWARD_OIDC_CLIENT_ID", client_id),
        ("STEWARD_OIDC_CLIENT_SECRET", client_secret),
    ):
        if not value:
            raise SsoConfigError(f"{name} is required when STEWARD_OIDC_ISSUER is set.")
    discovery_url = _value(environ, "STEWARD_OIDC_DISCOVERY_URL") or (
        issuer.rstrip("/") + DISCOVERY_PATH
    )
    redirect_uri = _value(environ, "STEWARD_OIDC_REDIRECT_URI") or None
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        discovery_url=_url("STEWARD_OIDC_DISCOVERY_URL", discovery_url),
        scopes=_scopes(_value(environ, "STEWARD_OIDC_SCOPES")),
        groups_claim=_value(environ, "STEWARD_OIDC_GROUPS_CLAIM") or DEFAULT_GROUPS_CLAIM,
        provider_name=_value(environ, "STEWARD_OIDC_PROVIDER_NAME") or DEFAULT_PROVIDER_NAME,
        role_mapping=parse_role_mapping(_value(environ, "STEWARD_OIDC_ROLE_MAPPING")),
        redirect_uri=_url("STEWARD_OIDC_REDIRECT_URI", redirect_uri) if redirect_uri else None,
    )


def sso_settings(environ: Mapping[str, str]) -> SsoSettings:
    """Every sign-in setting from the environment; raises SsoConfigError on a value that cannot work."""
    oidc = oidc_settings(environ)
    password_login = _value(environ, "STEWARD_PASSWORD_LOGIN").lower() or PASSWORD_LOGIN_ALL
    if password_login not in {PASSWORD_LOGIN_ALL, PASSWORD_LOGIN_ADMINS}:
        raise SsoConfigError(
            f"STEWARD_PASSWORD_LOGIN must be “all” or “admins”, not “{password_login}”."
        )
    if password_login == PASSWORD_LOGIN_ADMINS and oidc is None:
        raise SsoConfigError(
            "STEWARD_PASSWORD_LOGIN=admins leaves everyone but administrators without a way in: "
            "configure single sign-on (STEWARD_OIDC_ISSUER, …) first."
        )
    return SsoSettings(oidc=oidc, password_login=password_login)
