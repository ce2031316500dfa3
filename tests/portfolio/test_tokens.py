"""Integration tokens: issued once, stored hashed, expiring, revocable, and good for nothing but
ingesting into their own portfolio."""

import datetime as dt
import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portfolio.api.authentication import TOKEN_READS_NOTHING
from portfolio.models import IntegrationToken
from portfolio.services import integration_token_issue, integration_token_revoke
from tests.test_url_sweep import ALL_NAMES, LISTS, OBJECT_KWARGS
from valuestreams.models import Deployment

pytestmark = pytest.mark.django_db

DEPLOYMENTS = reverse("api:ingest-deployments-list")


def issue(portfolio, days=90, **kwargs):
    return integration_token_issue(
        portfolio=portfolio, name="ci", days=days, now=timezone.now(), **kwargs
    )


def post(url, body, token_text=None, client=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_text}"} if token_text else {}
    return (client or Client()).post(
        url, data=json.dumps(body), content_type="application/json", **headers
    )


def deployment_batch(portfolio_id=None):
    body = {
        "source": "github",
        "records": [{"key": "d-1", "finished_at": "2024-03-05T10:00:00Z"}],
    }
    if portfolio_id is not None:
        body["portfolio"] = portfolio_id
    return body


def test_a_token_is_stored_only_as_the_digest_of_its_secret(org):
    issued = issue(org.portfolio)
    assert issued.text.startswith(f"stw_{issued.token.key_id}_")
    secret = issued.text.split("_", 2)[2]
    stored = IntegrationToken.objects.get(pk=issued.token.pk)
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = IntegrationToken.objects.filter(pk=stored.pk).values()[0]
    assert not any(secret in str(value) for value in row.values())
    assert stored.scopes == ["ingest"]


@pytest.mark.parametrize("days", [0, -1, 367])
def test_a_token_must_expire_within_a_year(org, days):
    with pytest.raises(Exception, match="expire within 1 to 366 days"):
        issue(org.portfolio, days=days)
    assert IntegrationToken.objects.count() == 0


def test_issue_token_prints_the_token_once_and_it_works(org):
    out = StringIO()
    call_command("issue_token", portfolio="everyday banking", name="ci", days=30, stdout=out)
    text = out.getvalue().strip().splitlines()[-1]
    token = IntegrationToken.objects.get()
    assert (token.name, token.portfolio) == ("ci", org.portfolio)
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    assert post(DEPLOYMENTS, deployment_batch(), text).status_code == 200
    assert Deployment.objects.filter(portfolio=org.portfolio).count() == 1


def test_issue_token_finds_the_portfolio_by_id_too(org):
    out = StringIO()
    call_command("issue_token", portfolio=str(org.other_portfolio.pk), name="ci", stdout=out)
    assert IntegrationToken.objects.get().portfolio == org.other_portfolio


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"portfolio": "Nowhere", "name": "ci"}, "No portfolio named or numbered “Nowhere”"),
        ({"portfolio": "Lending", "name": "ci", "days": 0}, "expire within 1 to 366 days"),
        ({"portfolio": "Lending", "name": "  "}, "name: This field cannot be blank"),
    ],
)
def test_issue_token_refuses_bad_options_clearly(org, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("issue_token", stdout=StringIO(), **options)
    assert IntegrationToken.objects.count() == 0


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ("expired", "expired on"),
        ("revoked", "revoked on"),
        ("unknown", "Unknown integration token"),
        ("wrong_secret", "Unknown integration token"),
        ("not_ours", "must start with “stw_”"),
    ],
)
def test_a_bad_token_gets_401_with_a_clear_message_and_writes_nothing(org, spoil, message):
    issued = issue(org.portfolio)
    text = issued.text
    if spoil == "expired":
        IntegrationToken.objects.filter(pk=issued.token.pk).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
    elif spoil == "revoked":
        integration_token_revoke(token=issued.token, now=timezone.now())
    elif spoil == "unknown":
        text = "stw_000000000000_" + text.split("_", 2)[2]
    elif spoil == "wrong_secret":
        text = text[:-4] + "AAAA"
    else:
        text = "ghp_abcdef"
    response = post(DEPLOYMENTS, deployment_batch(), text)
    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Deployment.objects.count() == 0


def test_anonymous_gets_401_on_ingest(org):
    response = post(DEPLOYMENTS, deployment_batch(org.portfolio.pk))
    assert response.status_code == 401
    assert Deployment.objects.count() == 0


def test_a_token_of_one_portfolio_cannot_write_to_another(org):
    issued = issue(org.portfolio)
    response = post(DEPLOYMENTS, deployment_batch(org.other_portfolio.pk), issued.text)
    assert response.status_code == 403
    assert "cannot write to portfolio" in response.json()["detail"]
    assert Deployment.objects.count() == 0
    # naming its own portfolio is fine
    assert post(DEPLOYMENTS, deployment_batch(org.portfolio.pk), issued.text).status_code == 200


def test_a_token_without_the_ingest_scope_is_refused(org):
    issued = issue(org.portfolio, scopes=())
    response = post(DEPLOYMENTS, deployment_batch(), issued.text)
    assert response.status_code == 403
    assert "ingest" in response.json()["detail"]


def test_using_a_token_records_when_it_was_last_used(org):
    issued = issue(org.portfolio)
    assert issued.token.last_used_at is None
    post(DEPLOYMENTS, deployment_batch(), issued.text)
    issued.token.refresh_from_db()
    assert timezone.now() - issued.token.last_used_at < dt.timedelta(seconds=10)


# every API URL but the ingest ones (the sweep makes sure each is in OBJECT_KWARGS or LISTS)
READ_NAMES = [
    name
    for name in ALL_NAMES
    if name.startswith("api:")
    and "ingest-" not in name
    and (name in OBJECT_KWARGS or name in LISTS)
]


@pytest.mark.parametrize("name", READ_NAMES)
def test_a_token_reads_nothing_outside_ingest_and_is_told_why(org, name):
    issued = issue(org.portfolio)
    url = reverse(name, kwargs=OBJECT_KWARGS.get(name, lambda _: {})(org))
    response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {issued.text}")
    assert response.status_code == 403, url
    assert response.json() == {"detail": TOKEN_READS_NOTHING}
    assert "Everyday Banking" not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("api:recompute-job-list", {"portfolio": 1}),
        ("api:funding-period-list", {"name": "x"}),
        ("api:objective-list", {"title": "x"}),
        ("api:outcome-update-list", {"value": 1}),
    ],
)
def test_a_token_writes_nothing_outside_ingest_and_is_told_why(org, name, body):
    issued = issue(org.portfolio)
    response = Client().post(
        reverse(name), body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {issued.text}",
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json() == {"detail": TOKEN_READS_NOTHING}


def test_a_bad_token_on_a_read_endpoint_is_refused_with_the_reason(org):
    response = Client().get(reverse("api:team-list"), HTTP_AUTHORIZATION="Bearer stw_nope_nope")
    assert response.status_code == 403  # 401 needs a challenge; the session comes first here
    assert "Unknown integration token" in response.json()["detail"]


def test_a_token_does_not_open_the_pages(org):
    issued = issue(org.portfolio)
    response = Client().get(
        reverse("portfolio-detail", args=[org.portfolio.pk]),
        HTTP_AUTHORIZATION=f"Bearer {issued.text}",
    )
    assert response.status_code == 302


def test_a_token_sees_only_its_own_portfolios_import_jobs(org):
    from tests.factories import ImportJobFactory

    mine = ImportJobFactory(portfolio=org.portfolio)
    theirs = ImportJobFactory(portfolio=org.other_portfolio)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issue(org.portfolio).text}"}
    listed = Client().get(reverse("api:ingest-import-list"), **headers).json()["results"]
    assert [job["id"] for job in listed] == [mine.pk]
    other = reverse("api:ingest-import-detail", args=[theirs.pk])
    assert Client().get(other, **headers).status_code == 404


def test_admin_lists_tokens_without_secrets_and_revokes_them(org, client_for):
    issued = issue(org.portfolio)
    admin = client_for("admin")
    page = admin.get(reverse("admin:portfolio_integrationtoken_changelist"))
    assert page.status_code == 200
    assert issued.token.key_id in page.content.decode()
    assert issued.text.split("_", 2)[2] not in page.content.decode()
    response = admin.post(
        reverse("admin:portfolio_integrationtoken_changelist"),
        {"action": "revoke", "_selected_action": [issued.token.pk]},
    )
    assert response.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert post(DEPLOYMENTS, deployment_batch(), issued.text).status_code == 401
