"""The access contract: a view's test class names its URL and what each person gets; the tests follow.

class TestTeamEditAccess(AccessContract):
    url_name = "team-edit"
    expected = {"anonymous": 302, "outsider": 404, "member": 403, ...}
    def url_kwargs(self, org): return {"pk": org.team.pk}
"""

from __future__ import annotations

import json

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


class WriteAccessContract:
    """Access before validation for one write (NetBox-style: a class per resource names its URL,
    its people and two bodies; the tests follow).

    Whoever may not see the parent (or the object) gets 404 and whoever may read it but not write
    403, for a body the editor would see refused (a name that exists, a broken rule) exactly as for
    a good one, so the answer tells nothing; nothing is written. The editor then gets the
    validation error for the refused body and writes the good one.
    """

    url_name: str
    method = "post"
    hidden_from: tuple[str, ...] = ("outsider",)
    readers: tuple[str, ...] = ("member", "executive")
    editor = "pmo"
    accepted = 201
    multipart = False
    parent_field: str | None = None  # the body field naming the parent (writes that create)
    model: type  # its rows are counted: refusals write nothing

    def url_kwargs(self, org) -> dict:
        return {}

    def headers(self, org) -> dict:
        return {}

    def good_body(self, org) -> dict:
        raise NotImplementedError

    def refused_body(self, org) -> dict:
        raise NotImplementedError

    def send(self, client, org, body: dict):
        url = reverse(self.url_name, kwargs=self.url_kwargs(org))
        send = getattr(client, self.method)
        if self.multipart:
            return send(url, body, headers=self.headers(org))
        return send(
            url, json.dumps(body), content_type="application/json", headers=self.headers(org)
        )

    def _answers(self, client, org) -> list[tuple[int, bytes]]:
        bodies = [self.good_body(org), self.refused_body(org)]
        self.url_kwargs(org)  # whatever the URL needs exists before counting
        before = self.model.objects.count()
        answers = [
            (response.status_code, response.content)
            for response in (self.send(client, org, body) for body in bodies)
        ]
        assert self.model.objects.count() == before, "a refused write changed something"
        return answers

    def test_whoever_may_not_see_it_gets_404_and_learns_nothing(self, org, client_for):
        for who in self.hidden_from:
            good, refused = self._answers(client_for(who), org)
            assert good[0] == 404, f"{who}: {good}"
            assert refused == good, f"{who} told apart a refused body: {refused} vs {good}"

    def test_a_reader_gets_403_and_learns_nothing(self, org, client_for):
        for who in self.readers:
            good, refused = self._answers(client_for(who), org)
            assert good[0] == 403, f"{who}: {good}"
            assert refused == good, f"{who} told apart a refused body: {refused} vs {good}"

    def test_a_parent_that_does_not_exist_looks_like_one_out_of_sight(self, org, client_for):
        if self.parent_field is None:
            pytest.skip("an update: the object is in the URL")
        editor = client_for(self.editor)
        unknown = {**self.refused_body(org), self.parent_field: 987654321}
        response = self.send(editor, org, unknown)
        assert response.status_code == 404
        assert response.json() == {"detail": response.json()["detail"]}
        assert "987654321" in response.json()["detail"]

    def test_the_editor_gets_the_validation_error_then_writes(self, org, client_for):
        editor = client_for(self.editor)
        refused = self.send(editor, org, self.refused_body(org))
        assert refused.status_code == 400, refused.content
        written = self.send(editor, org, self.good_body(org))
        assert written.status_code == self.accepted, written.content
