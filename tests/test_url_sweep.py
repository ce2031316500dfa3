"""Every URL pattern must be listed here with its access rule, so no new URL ships unprotected."""

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

PUBLIC = {"login", "health", "api-schema", "api-docs", "api-redoc"}

# name → kwargs to reverse it with, from the `org` fixture (object URLs point into org.portfolio)
OBJECT_KWARGS = {
    "portfolio-detail": lambda org: {"pk": org.portfolio.pk},
    "value-stream-create": lambda org: {"portfolio_pk": org.portfolio.pk},
    "value-stream-detail": lambda org: {"pk": org.value_stream.pk},
    "value-stream-edit": lambda org: {"pk": org.value_stream.pk},
    "team-create": lambda org: {"value_stream_pk": org.value_stream.pk},
    "team-detail": lambda org: {"pk": org.team.pk},
    "team-edit": lambda org: {"pk": org.team.pk},
    "api:portfolio-detail": lambda org: {"pk": org.portfolio.pk},
    "api:value-stream-detail": lambda org: {"pk": org.value_stream.pk},
    "api:team-detail": lambda org: {"pk": org.team.pk},
}
LISTS = {
    "home",
    "logout",
    "api:api-root",
    "api:portfolio-list",
    "api:value-stream-list",
    "api:team-list",
}


def url_names(resolver=None, namespace=""):
    """Every named pattern in the project (the admin's own rules are tested by Django)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"unnamed URL pattern {pattern.pattern}"
            yield namespace + pattern.name


ALL_NAMES = sorted(set(url_names()))


def test_every_url_has_an_access_rule():
    unknown = set(ALL_NAMES) - PUBLIC - set(OBJECT_KWARGS) - LISTS
    assert not unknown, f"add these URLs to the sweep with their access rule: {sorted(unknown)}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_anonymous_is_sent_to_login_or_refused(org, client, name):
    url = reverse(name, kwargs=OBJECT_KWARGS.get(name, lambda _: {})(org))
    response = client.get(url)
    if name in PUBLIC:
        assert response.status_code == 200
    elif name.startswith("api:"):
        assert response.status_code in {401, 403}
    elif name == "logout":
        assert response.status_code in {302, 405}
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))


@pytest.mark.parametrize("name", sorted(OBJECT_KWARGS))
def test_outsider_gets_404_on_every_object_url(org, client_for, name):
    url = reverse(name, kwargs=OBJECT_KWARGS[name](org))
    assert client_for("outsider").get(url).status_code == 404


def test_admin_requires_staff(org, client_for):
    assert client_for("anonymous").get("/admin/").status_code == 302
    assert client_for("pmo").get("/admin/").status_code == 302
    assert client_for("admin").get("/admin/").status_code == 200
