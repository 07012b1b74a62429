"""Identity resolution rules, decided in memory (no database)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cxloop.profiles.resolver import Observation, Resolver
from cxloop.profiles.rules import IdentityRules, Normaliser, to_e164

T0 = 1_790_000_000_000_000


def obs(
    *idents: tuple[str, str], ts: int = T0, kind: str = "track", **extra: object
) -> Observation:
    return Observation(
        identifiers=list(idents), timestamp=ts, type=kind, channel="web", message_id="m", **extra
    )  # type: ignore[arg-type]


def fresh(rules: IdentityRules | None = None) -> Resolver:
    return Resolver(rules or IdentityRules(), {}, {})


def test_one_customer_across_identifiers() -> None:
    r = fresh()
    a = r.resolve(obs(("anonymous_id", "a1")))
    b = r.resolve(obs(("user_id", "u1"), ("anonymous_id", "a1")))
    c = r.resolve(obs(("user_id", "u1"), ("email", "x@shop.vn")))
    assert a == b == c
    assert r.merges == []
    assert r.profiles[a].event_count == 3


def test_identify_merges_two_known_profiles_and_records_why() -> None:
    r = fresh()
    anon = r.resolve(obs(("anonymous_id", "a1")))
    user = r.resolve(obs(("user_id", "u1")))
    assert anon != user
    merged = r.resolve(obs(("user_id", "u1"), ("anonymous_id", "a1"), kind="identify"))
    assert merged == user, "the owner of the most trusted identifier survives"
    assert r.profiles[anon].merged_into == user
    (merge,) = r.merges
    assert (merge.from_id, merge.into_id, merge.reason) == (anon, user, "identify")
    assert merge.identifiers == {"user_id": ["u1"], "anonymous_id": ["a1"]}
    assert r.profiles[user].event_count == 3


def test_a_second_user_id_never_joins_a_profile_with_a_user_id() -> None:
    r = fresh()
    first = r.resolve(obs(("user_id", "u1"), ("anonymous_id", "shared-tablet")))
    # another person on the same device: the least trusted identifier is dropped
    second = r.resolve(obs(("user_id", "u2"), ("anonymous_id", "shared-tablet")))
    assert first != second
    assert r.profiles[first].identities["user_id"] == {"u1"}
    assert r.profiles[second].identities == {"user_id": {"u2"}}
    assert r.merges == []


def test_limits_are_per_workspace_rules() -> None:
    rules = IdentityRules(limits={"user_id": 2})
    r = fresh(rules)
    first = r.resolve(obs(("user_id", "u1"), ("anonymous_id", "a")))
    second = r.resolve(obs(("user_id", "u2"), ("anonymous_id", "a")))
    assert first == second
    assert r.profiles[first].identities["user_id"] == {"u1", "u2"}


def test_merge_cap_refuses_runaway_merges() -> None:
    rules = IdentityRules(merge_cap=1)
    r = fresh(rules)
    hub = r.resolve(obs(("email", "hub@shop.vn")))
    for i in range(3):
        r.resolve(obs(("anonymous_id", f"a{i}")))
    for i in range(3):
        r.resolve(obs(("email", "hub@shop.vn"), ("anonymous_id", f"a{i}"), kind="identify"))
    assert len(r.merges) == 1
    assert r.profiles[hub].merge_count == 1
    assert r.refusals == 2


def test_alias_merges_previous_id_into_user() -> None:
    r = fresh()
    anon = r.resolve(obs(("anonymous_id", "a9")))
    user = r.resolve(obs(("user_id", "u9")))
    result = r.resolve(obs(("user_id", "u9"), kind="alias", previous_id="a9"))
    assert result == user
    assert r.profiles[anon].merged_into == user


def test_traits_keep_the_newest_value_even_when_events_arrive_late() -> None:
    r = fresh()
    pid = r.resolve(obs(("user_id", "u1"), ts=T0 + 10, kind="identify", traits={"plan": "gold"}))
    r.resolve(obs(("user_id", "u1"), ts=T0, kind="identify", traits={"plan": "free", "city": "HN"}))
    profile = r.profiles[pid]
    assert profile.traits == {"plan": "gold", "city": "HN"}
    assert profile.first_seen == T0
    assert profile.last_seen == T0 + 10


def test_merged_profile_keeps_newest_traits_and_all_counts() -> None:
    r = fresh()
    a = r.resolve(obs(("anonymous_id", "a"), ts=T0 + 5, kind="identify", traits={"lang": "th"}))
    u = r.resolve(obs(("user_id", "u"), ts=T0, kind="identify", traits={"lang": "vi"}))
    r.resolve(obs(("user_id", "u"), ("anonymous_id", "a"), ts=T0 + 1, kind="identify"))
    assert r.profiles[u].traits["lang"] == "th"
    assert r.profiles[u].counters == {"identify": 3}
    assert a != u


def test_normaliser_cleans_and_blocks_values() -> None:
    n = Normaliser(IdentityRules())
    assert n("email", "  Lan.Nguyen@Shop.VN ") == "lan.nguyen@shop.vn"
    assert n("email", "not-an-email") is None
    assert n("email", "test@test.com") is None
    assert n("user_id", "null") is None
    assert n("user_id", 0) is None
    assert n("user_id", 42) == "42"
    assert n("anonymous_id", True) is None


def test_phone_numbers_become_e164_with_the_workspace_region() -> None:
    assert to_e164("0912 345 678", "VN") == "+84912345678"
    assert to_e164("081 234 5678", "TH") == "+66812345678"
    assert to_e164("+84 912-345-678", "TH") == "+84912345678"
    assert to_e164("12", "VN") is None
    th = Normaliser(IdentityRules(default_region="TH"))
    assert th("phone", "0812345678") == "+66812345678"


def test_rules_are_validated() -> None:
    with pytest.raises(ValidationError, match="phone region"):
        IdentityRules(default_region="XX")
    with pytest.raises(ValidationError, match="at least 1"):
        IdentityRules(limits={"user_id": 0})
    with pytest.raises(ValidationError, match="identifier kind"):
        IdentityRules(priority=["User ID"])
