"""Single sign-on settings from the environment: what is accepted, and the clear refusals."""

import subprocess
import sys

import pytest

from portfolio.sso.config import (
    MappingRule,
    RoleGrant,
    SsoConfigError,
    parse_role_mapping,
    portfolio_key,
    sso_settings,
)

BASE = {
    "STEWARD_OIDC_ISSUER": "https://login.example.com/realms/steward",
    "STEWARD_OIDC_CLIENT_ID": "steward",
    "STEWARD_OIDC_CLIENT_SECRET": "s3cret",
}


def test_nothing_set_means_sso_off_and_passwords_for_everyone():
    settings = sso_settings({})
    assert settings.oidc is None
    assert not settings.password_login_for_admins_only


def test_empty_variables_count_as_unset():
    assert sso_settings(dict.fromkeys([*BASE, "STEWARD_PASSWORD_LOGIN"], "")).oidc is None


def test_a_configured_provider_gets_defaults_for_the_rest():
    oidc = sso_settings(BASE).oidc
    assert oidc.discovery_url == (
        "https://login.example.com/realms/steward/.well-known/openid-configuration"
    )
    assert oidc.scopes == ("openid", "profile", "email")
    assert oidc.groups_claim == "groups"
    assert oidc.provider_name == "SSO"
    assert oidc.role_mapping == ()
    assert oidc.redirect_uri is None
    assert "s3cret" not in repr(oidc)


def test_the_issuer_is_kept_exactly_as_written():
    # Auth0 and others end their issuer with a slash; iss must match it character for character
    oidc = sso_settings({**BASE, "STEWARD_OIDC_ISSUER": "https://tenant.example.com/"}).oidc
    assert oidc.issuer == "https://tenant.example.com/"
    assert oidc.discovery_url == "https://tenant.example.com/.well-known/openid-configuration"


def test_openid_is_always_among_the_scopes():
    oidc = sso_settings({**BASE, "STEWARD_OIDC_SCOPES": "profile email groups"}).oidc
    assert oidc.scopes == ("openid", "profile", "email", "groups")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"STEWARD_OIDC_CLIENT_ID": ""}, "STEWARD_OIDC_CLIENT_ID is required"),
        ({"STEWARD_OIDC_CLIENT_SECRET": ""}, "STEWARD_OIDC_CLIENT_SECRET is required"),
        (
            {"STEWARD_OIDC_ISSUER": "login.example.com"},
            "STEWARD_OIDC_ISSUER must be an absolute URL",
        ),
        ({"STEWARD_OIDC_ISSUER": "http://login.example.com"}, "STEWARD_OIDC_ISSUER must use https"),
        (
            {"STEWARD_OIDC_REDIRECT_URI": "http://steward.example.com/sso/callback/"},
            "STEWARD_OIDC_REDIRECT_URI must use https",
        ),
        ({"STEWARD_PASSWORD_LOGIN": "nobody"}, "STEWARD_PASSWORD_LOGIN must be “all” or “admins”"),
        ({"STEWARD_OIDC_ROLE_MAPPING": "execs"}, "“execs” is not group=portfolio:role"),
    ],
)
def test_a_value_that_cannot_work_is_refused_naming_the_variable(changes, message):
    with pytest.raises(SsoConfigError, match=message):
        sso_settings({**BASE, **changes})


def test_http_is_accepted_on_this_machine_only():
    for issuer in ("http://127.0.0.1:9400", "http://localhost:8080/realms/x", "http://[::1]:9400"):
        assert sso_settings({**BASE, "STEWARD_OIDC_ISSUER": issuer}).oidc.issuer == issuer


def test_client_settings_without_an_issuer_are_refused():
    with pytest.raises(SsoConfigError, match="STEWARD_OIDC_CLIENT_ID set but STEWARD_OIDC_ISSUER"):
        sso_settings({"STEWARD_OIDC_CLIENT_ID": "steward"})


def test_passwords_for_admins_only_needs_single_sign_on():
    with pytest.raises(SsoConfigError, match="configure single sign-on"):
        sso_settings({"STEWARD_PASSWORD_LOGIN": "admins"})
    assert sso_settings({**BASE, "STEWARD_PASSWORD_LOGIN": "ADMINS"}).password_login_for_admins_only


def test_the_list_form_of_the_mapping():
    rules = parse_role_mapping(
        "steward:everyday-banking:executive=Everyday Banking:executive,\n"
        " /steward/pmo = lending-wealth:lean-pmo , g=Lending & Wealth:LEAN_PMO"
    )
    assert rules == (
        MappingRule(
            "steward:everyday-banking:executive", RoleGrant("Everyday Banking", "executive")
        ),
        MappingRule("/steward/pmo", RoleGrant("lending-wealth", "lean_pmo")),
        MappingRule("g", RoleGrant("Lending & Wealth", "lean_pmo")),
    )


def test_the_json_form_of_the_mapping_takes_groups_with_commas_and_equals_signs():
    rules = parse_role_mapping(
        '{"CN=Steward Execs,OU=Groups,DC=corp": ["everyday-banking:executive", '
        '"lending:executive"], "7f3c-guid": "everyday-banking:lean_pmo"}'
    )
    assert [(rule.group, rule.grant.portfolio, rule.grant.role) for rule in rules] == [
        ("CN=Steward Execs,OU=Groups,DC=corp", "everyday-banking", "executive"),
        ("CN=Steward Execs,OU=Groups,DC=corp", "lending", "executive"),
        ("7f3c-guid", "everyday-banking", "lean_pmo"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "g=everyday-banking:owner",
            "the role “owner” in “g=everyday-banking:owner” is not one of",
        ),
        ("g=everyday-banking", "must name a portfolio and a role"),
        ("=everyday-banking:executive", "is not group=portfolio:role"),
        ('{"g": 3}', "must map to a non-empty"),
        ('{"g": [3]}', "maps to 3, not text"),
        ("{not json", "is not valid JSON"),
        ('["g"]', "must be a JSON object"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_with_the_entry_at_fault(text, message):
    with pytest.raises(SsoConfigError, match=message):
        parse_role_mapping(text)


def test_names_and_slugs_of_a_portfolio_share_one_key():
    assert portfolio_key("Lending & Wealth") == portfolio_key("lending-wealth") == "lending-wealth"
    assert portfolio_key("Everyday Banking") == portfolio_key("everyday-banking")
    assert portfolio_key("Zürich Pensions") == "zurich-pensions"


def test_the_pure_modules_import_no_django():
    code = (
        "import sys; import portfolio.sso.config, portfolio.sso.mapping, portfolio.sso.demo; "
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
