"""From an ID token's groups claim to the portfolio roles it grants (pure: no Django, no I/O).

Two questions, answered separately so that an unreadable claim can never be mistaken for "no groups":
`groups_from_claims` says which groups the token lists, or that it cannot tell (claim missing,
malformed, or an overage marker such as Entra ID's ``_claim_names`` / ``hasgroups``); `roles_for_groups`
turns a known set of groups into one role per portfolio.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from portfolio.sso.config import EXECUTIVE, LEAN_PMO, MappingRule, portfolio_key

# a Lean PMO may do everything an executive may, so it wins when groups grant both
ROLE_STRENGTH = {EXECUTIVE: 1, LEAN_PMO: 2}


@dataclass(frozen=True)
class GroupsClaim:
    """The groups a token lists; `groups` is None when the token cannot tell, `problem` says why."""

    groups: frozenset[str] | None
    problem: str = ""

    @property
    def known(self) -> bool:
        return self.groups is not None


@dataclass(frozen=True)
class RoleAssignment:
    """Roles the mapping grants: portfolio id → role, with what matched and what named no portfolio."""

    roles: dict[int, str]
    matched_groups: tuple[str, ...]
    unknown_portfolios: tuple[str, ...]


def _lookup(claims: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """(found, value) of a claim name, or of a dotted path into nested claims (``realm_access.roles``)."""
    if path in claims:
        return True, claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def groups_from_claims(claims: Mapping[str, Any], claim: str) -> GroupsClaim:
    """The groups in `claims[claim]`, or unknown when the claim is missing, malformed or overflowed.

    Entra ID leaves out a large groups claim and says so with ``_claim_names`` (authorization code
    flow) or ``hasgroups`` (implicit flow): then the list is not the person's groups, and treating it
    as empty would demote everyone in many groups. A single string counts as one group.
    """
    head = claim.split(".", 1)[0]
    overflow_names = claims.get("_claim_names")
    if isinstance(overflow_names, Mapping) and (
        head in overflow_names or "groups" in overflow_names
    ):
        return GroupsClaim(None, f"the provider left out the {claim!r} claim (too many groups)")
    if claims.get("hasgroups"):
        return GroupsClaim(None, f"the provider left out the {claim!r} claim (hasgroups)")
    found, value = _lookup(claims, claim)
    if not found or value is None:
        return GroupsClaim(None, f"the ID token has no {claim!r} claim")
    if isinstance(value, str):
        return GroupsClaim(frozenset({value}))
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return GroupsClaim(frozenset(value))
    return GroupsClaim(None, f"the {claim!r} claim is not a list of strings")


def roles_for_groups(
    groups: Iterable[str],
    rules: Iterable[MappingRule],
    portfolio_ids: Mapping[str, int],
) -> RoleAssignment:
    """One role per portfolio for someone in `groups`: the strongest any matching rule grants.

    `portfolio_ids` maps `portfolio_key(name)` to the portfolio's id; a rule naming a portfolio that
    is not there grants nothing and is reported in `unknown_portfolios`. Group values compare exactly
    (providers treat them as case-sensitive identifiers).
    """
    groups = set(groups)
    roles: dict[int, str] = {}
    matched: list[str] = []
    unknown: list[str] = []
    for rule in rules:
        if rule.group not in groups:
            continue
        if rule.group not in matched:
            matched.append(rule.group)
        portfolio_id = portfolio_ids.get(portfolio_key(rule.grant.portfolio))
        if portfolio_id is None:
            if rule.grant.portfolio not in unknown:
                unknown.append(rule.grant.portfolio)
            continue
        current = roles.get(portfolio_id)
        if current is None or ROLE_STRENGTH[rule.grant.role] > ROLE_STRENGTH[current]:
            roles[portfolio_id] = rule.grant.role
    return RoleAssignment(roles, tuple(sorted(matched)), tuple(unknown))
