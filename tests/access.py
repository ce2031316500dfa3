"""The access contract: a view's test class names its URL and what each person gets; the tests follow.

class TestTeamEditAccess(AccessContract):
    url_name = "team-edit"
    expected = {"anonymous": 302, "outsider": 404, "member": 403, ...}
    def url_kwargs(self, org): return {"pk": org.team.pk}
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PEOPLE

READERS = {
    "anonymous": 302,
    "outsider": 404,
    "member": 200,
    "executive": 200,
    "pmo": 200,
    "admin": 200,
}
EDITORS = {
    "anonymous": 302,
    "outsider": 404,
    "member": 403,
    "executive": 403,
    "pmo": 200,
    "admin": 200,
}
NOBODY_BUT_ADMIN = {**READERS, "member": 404, "executive": 404, "pmo": 404}
API_READERS = {**READERS, "anonymous": 403}
API_NOBODY_BUT_ADMIN = {**NOBODY_BUT_ADMIN, "anonymous": 403}


class AccessContract:
    url_name: str
    expected: dict[str, int]
    method = "get"

    def url_kwargs(self, org) -> dict:
        return {}

    def payload(self, org) -> dict:
        return {}

    @pytest.mark.parametrize("who", PEOPLE)
    def test_each_person_gets_what_their_role_allows(self, who, org, client_for):
        url = reverse(self.url_name, kwargs=self.url_kwargs(org))
        response = getattr(client_for(who), self.method)(url, self.payload(org))
        assert response.status_code == self.expected[who], f"{who} on {url}"
        if who == "anonymous" and response.status_code == 302:
            assert response["Location"].startswith(reverse(settings.LOGIN_URL))
