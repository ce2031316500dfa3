"""The demo's identity provider: who can sign in with "Harbour Bank ID" and what their groups grant.

`make run` with ``STEWARD_DEMO_OIDC=1`` starts oidc-provider-mock on a thread of the launcher with
these people and configures Steward for it (`demo_environment`), so that single sign-on can be tried
without an identity provider. Pure data: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PORT = 9400
DEMO_CLIENT_ID = "steward-demo"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_PROVIDER_NAME = "Harbour Bank ID"

# both ways of naming a portfolio (name and slug) appear, as a real mapping may use either
DEMO_ROLE_MAPPING = ", ".join(
    (
        "harbour:everyday-banking:executive=Everyday Banking:executive",
        "harbour:everyday-banking:lean-pmo=everyday-banking:lean_pmo",
        "harbour:lending-wealth:executive=Lending & Wealth:executive",
        "harbour:lending-wealth:lean-pmo=lending-wealth:lean_pmo",
    )
)


@dataclass(frozen=True)
class DemoIdentity:
    """A person at the demo provider: subject, claims for the ID token, and what they get in Steward."""

    subject: str
    given_name: str
    family_name: str
    groups: tuple[str, ...]
    what: str

    def claims(self) -> dict[str, object]:
        return {
            "preferred_username": self.subject.split("@", 1)[0],
            "given_name": self.given_name,
            "family_name": self.family_name,
            "name": f"{self.given_name} {self.family_name}",
            "email": self.subject,
            "email_verified": True,
            "groups": list(self.groups),
        }


DEMO_IDENTITIES = (
    DemoIdentity(
        "sofia.berg@harbour.example",
        "Sofia",
        "Berg",
        ("harbour:everyday-banking:executive", "harbour:all-staff"),
        "executive of Everyday Banking",
    ),
    DemoIdentity(
        "liam.novak@harbour.example",
        "Liam",
        "Novak",
        ("harbour:lending-wealth:lean-pmo", "harbour:everyday-banking:executive"),
        "Lean PMO of Lending & Wealth, executive of Everyday Banking",
    ),
    DemoIdentity(
        "nina.keller@harbour.example",
        "Nina",
        "Keller",
        ("harbour:all-staff",),
        "no mapped group: an outsider (every portfolio URL answers 404)",
    ),
)


def demo_environment(port: int) -> dict[str, str]:
    """The ``STEWARD_OIDC_*`` variables that point Steward at the demo provider on `port`."""
    return {
        "STEWARD_OIDC_ISSUER": f"http://127.0.0.1:{port}",
        "STEWARD_OIDC_CLIENT_ID": DEMO_CLIENT_ID,
        "STEWARD_OIDC_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "STEWARD_OIDC_PROVIDER_NAME": DEMO_PROVIDER_NAME,
        "STEWARD_OIDC_GROUPS_CLAIM": "groups",
        "STEWARD_OIDC_ROLE_MAPPING": DEMO_ROLE_MAPPING,
    }
