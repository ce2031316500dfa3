"""A real OpenID provider inside the test process: oidc-provider-mock on a thread, behind a tap.

The tap records the authorization and token requests Steward makes (to check PKCE, state and nonce
as the provider received them) and can put another ID token into the next token response (to play a
provider that answers with a token minted for another client, expired, or altered in transit).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import secrets
import threading
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import oidc_provider_mock
import requests
import werkzeug.serving

from portfolio.sso.config import OidcSettings, parse_role_mapping

CLIENT_ID = "steward"
CLIENT_SECRET = "steward-secret"
PROVIDER_NAME = "Test IdP"

# the test organisation (tests/conftest.py `org`): Everyday Banking, and Lending
ROLE_MAPPING = ", ".join(
    (
        "steward:everyday-banking:executive=Everyday Banking:executive",
        "steward:everyday-banking:lean-pmo=everyday-banking:lean_pmo",
        "steward:lending:executive=lending:executive",
    )
)
EXECUTIVE_GROUPS = ["steward:everyday-banking:executive", "staff"]
PMO_GROUPS = ["steward:everyday-banking:lean-pmo", "staff"]
NO_ROLE_GROUPS = ["staff"]


class Tap:
    """WSGI middleware in front of the mock: records requests, may swap or drop the next ID token."""

    def __init__(self, app) -> None:
        self.app = app
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.next_id_token: str | None = None
        self.drop_next_id_token = False

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize" and environ["REQUEST_METHOD"] == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            self.authorize_requests.append({key: values[0] for key, values in query.items()})
        if path != "/oauth2/token":
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        self.token_requests.append({k: v[0] for k, v in parse_qs(body.decode()).items()})
        swap, self.next_id_token = self.next_id_token, None
        drop, self.drop_next_id_token = self.drop_next_id_token, False
        if swap is None and not drop:
            return self.app(environ, start_response)
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return lambda data: None

        result = self.app(environ, capture)
        try:
            answer = json.loads(b"".join(result))
        finally:
            getattr(result, "close", lambda: None)()
        if drop:
            answer.pop("id_token", None)
        else:
            answer["id_token"] = swap
        payload = json.dumps(answer).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(payload)))])
        return [payload]


class Provider:
    """oidc-provider-mock serving on 127.0.0.1:<free port> until `stop()`."""

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.tap = Tap(oidc_provider_mock.app(require_nonce=True))
        self.server = werkzeug.serving.make_server("127.0.0.1", 0, self.tap, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        """Shut the server down and close its socket: the provider is really gone."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def settings(self, **overrides) -> OidcSettings:
        """Steward's OIDC settings for this provider (the test mapping unless overridden)."""
        values = {
            "issuer": self.url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "discovery_url": f"{self.url}/.well-known/openid-configuration",
            "scopes": ("openid", "profile", "email"),
            "groups_claim": "groups",
            "provider_name": PROVIDER_NAME,
            "role_mapping": parse_role_mapping(ROLE_MAPPING),
        }
        return OidcSettings(**{**values, **overrides})

    def put_user(self, sub: str, **claims) -> None:
        """Create or replace the person `sub` at the provider with exactly these claims."""
        response = requests.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def consent(self, authorize_url: str, sub: str) -> str:
        """Be `sub` on the provider's page and approve; returns where the provider sends the browser."""
        assert authorize_url.startswith(f"{self.url}/oauth2/authorize?"), authorize_url
        requests.get(authorize_url, timeout=5).raise_for_status()  # the page a person would see
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def id_token_for(self, *, client_id: str, sub: str, nonce: str) -> str:
        """An ID token minted the normal way (code flow) for `client_id` with `nonce`."""
        redirect_uri = "https://other-app.example/callback"
        query = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid profile email",
            "state": secrets.token_urlsafe(8),
            "nonce": nonce,
        }
        location = self.consent(f"{self.url}/oauth2/authorize?{urlencode(query)}", sub)
        code = parse_qs(urlsplit(location).query)["code"][0]
        response = requests.post(
            f"{self.url}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(client_id, "its-own-secret"),
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["id_token"]


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a code verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def decoded_payload(jwt: str) -> dict:
    """A JWT's claims, not verified (for assertions on what a provider sent)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def with_payload(jwt: str, **changes) -> str:
    """The same JWT with changed claims and the ORIGINAL signature (an altered token)."""
    header, _, signature = jwt.split(".")
    claims = {**decoded_payload(jwt), **changes}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"
