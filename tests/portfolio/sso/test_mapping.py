"""The groups claim → portfolio roles, as pure functions on hand-built claims."""

import pytest

from portfolio.sso.config import parse_role_mapping
from portfolio.sso.mapping import groups_from_claims, roles_for_groups

RULES = parse_role_mapping(
    "eb-exec=Everyday Banking:executive, eb-pmo=everyday-banking:lean_pmo, "
    "lw-exec=lending-wealth:executive, both=everyday-banking:executive, both=Lending & Wealth:executive, "
    "gone=Closed Portfolio:executive"
)
PORTFOLIOS = {"everyday-banking": 1, "lending-wealth": 2}


def test_a_list_of_groups_is_read_as_it_is():
    assert groups_from_claims({"groups": ["a", "b"]}, "groups").groups == {"a", "b"}


def test_an_empty_list_is_known_to_be_no_groups():
    reading = groups_from_claims({"groups": []}, "groups")
    assert reading.known
    assert reading.groups == frozenset()


def test_a_single_string_is_one_group():
    assert groups_from_claims({"groups": "a"}, "groups").groups == {"a"}


def test_a_dotted_claim_name_reads_nested_claims():
    claims = {"realm_access": {"roles": ["eb-exec"]}}
    assert groups_from_claims(claims, "realm_access.roles").groups == {"eb-exec"}


def test_a_claim_whose_name_has_a_dot_is_read_first():
    claims = {"https://example.com/groups": ["eb-exec"]}
    assert groups_from_claims(claims, "https://example.com/groups").groups == {"eb-exec"}


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        ({"sub": "x"}, "no 'groups' claim"),
        ({"groups": None}, "no 'groups' claim"),
        ({"groups": [1, 2]}, "not a list of strings"),
        ({"groups": {"a": 1}}, "not a list of strings"),
        # Entra ID, authorization code flow: the claim moves to Microsoft Graph
        (
            {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {"endpoint": "…"}}},
            "too many groups",
        ),
        # Entra ID, implicit flow
        ({"hasgroups": True}, "hasgroups"),
        # an overage marker wins over a (partial) list
        ({"groups": ["eb-exec"], "_claim_names": {"groups": "src1"}}, "too many groups"),
    ],
)
def test_a_missing_malformed_or_overflowed_claim_is_unknown_never_empty(claims, problem):
    reading = groups_from_claims(claims, "groups")
    assert not reading.known
    assert reading.groups is None
    assert problem in reading.problem


def test_each_matching_group_grants_its_role():
    assignment = roles_for_groups({"eb-exec", "lw-exec", "staff"}, RULES, PORTFOLIOS)
    assert assignment.roles == {1: "executive", 2: "executive"}
    assert assignment.matched_groups == ("eb-exec", "lw-exec")
    assert assignment.unknown_portfolios == ()


def test_lean_pmo_wins_over_executive_in_the_same_portfolio_whatever_the_order():
    assert roles_for_groups({"eb-pmo", "eb-exec"}, RULES, PORTFOLIOS).roles == {1: "lean_pmo"}
    assert roles_for_groups({"eb-exec", "eb-pmo"}, reversed(RULES), PORTFOLIOS).roles == {
        1: "lean_pmo"
    }


def test_one_group_may_grant_roles_in_several_portfolios():
    assert roles_for_groups({"both"}, RULES, PORTFOLIOS).roles == {1: "executive", 2: "executive"}


def test_no_mapped_group_means_no_role():
    assignment = roles_for_groups({"staff", "EB-EXEC"}, RULES, PORTFOLIOS)
    assert assignment.roles == {}
    assert assignment.matched_groups == ()


def test_a_rule_naming_no_portfolio_grants_nothing_and_is_reported():
    assignment = roles_for_groups({"gone", "eb-exec"}, RULES, PORTFOLIOS)
    assert assignment.roles == {1: "executive"}
    assert assignment.unknown_portfolios == ("Closed Portfolio",)


def test_no_groups_and_no_rules_grant_nothing():
    assert roles_for_groups(set(), RULES, PORTFOLIOS).roles == {}
    assert roles_for_groups({"eb-exec"}, (), PORTFOLIOS).roles == {}
