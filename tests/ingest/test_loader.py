"""The loader and the event store: merges counted once, statistics, compaction, clean-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from cxloop.analytics import events as store
from cxloop.core.db import transaction
from cxloop.core.time import set_clock, utcnow
from cxloop.eventstore import service as eventstore
from cxloop.models import EventFile, InboxBatch, Profile
from cxloop.profiles import service as profiles
from cxloop.profiles import stats as profile_stats
from tests.fixtures.ingest import Live


def msg(kind: str, n: int, **fields: Any) -> dict[str, Any]:
    given = {k: v for k, v in fields.items() if v is not None}
    return {"type": kind, "messageId": f"{kind}-{n}", **given}


def current(live: Live) -> tuple[list[str], dict[str, str]]:
    with transaction(live.factory) as session:
        files = eventstore.current_files(session, live.workspace_id, live.root)
        mapping = profiles.merge_map(session, live.workspace_id)
    return files, mapping


def test_a_customer_merged_later_is_counted_once_with_earlier_events(live: Live) -> None:
    pages = [
        msg("page", i, anonymousId="anon-7", name="Home", timestamp=f"2026-11-0{i}T08:00:00Z")
        for i in range(1, 4)
    ]
    live.send("/v1/batch", {"batch": pages})
    live.send("/v1/track", msg("track", 1, userId="u7", event="Order Completed"))
    live.load()
    files, mapping = current(live)
    assert store.count_customers(files, mapping) == 2  # not yet known to be one person

    live.send("/v1/identify", msg("identify", 1, userId="u7", anonymousId="anon-7"))
    live.load()
    files, mapping = current(live)
    assert store.count_customers(files, mapping) == 1
    customer = live.api("/api/v1/customers", anonymous_id="anon-7").json()["items"][0]
    assert customer["event_count"] == 5
    assert customer["counters"] == {"page": 3, "track": 1, "identify": 1}
    assert len(customer["merged_ids"]) == 1
    assert customer["merges"][0]["reason"] == "identify"
    timeline = live.api(f"/api/v1/customers/{customer['id']}/timeline").json()["items"]
    assert [i["type"] for i in timeline].count("page") == 3
    # the merged id still answers, with the customer it became
    merged = live.api(f"/api/v1/customers/{customer['merged_ids'][0]}").json()
    assert merged["id"] == customer["id"]


def test_profile_statistics_match_a_recount_from_the_files(live: Live) -> None:
    batch = [
        msg("track", i, userId=f"u{i % 3}", event="Viewed", context={"channel": ch})
        for i, ch in enumerate(["web", "app", "email", "web", "chat", "store"])
    ]
    live.send("/v1/batch", {"batch": batch})
    live.load()
    with transaction(live.factory) as session:
        before = {
            p.id: (p.event_count, p.channels, p.counters, p.first_seen_at, p.last_seen_at)
            for p in session.scalars(select(Profile))
        }
        profile_stats.recompute_stats(session, live.workspace_id, live.root)
    with transaction(live.factory) as session:
        after = {
            p.id: (p.event_count, p.channels, p.counters, p.first_seen_at, p.last_seen_at)
            for p in session.scalars(select(Profile))
        }
    assert before == after
    assert sorted(v[0] for v in after.values()) == [2, 2, 2]


def test_an_email_delivered_does_not_make_a_customer_seen(live: Live) -> None:
    """Deliveries count as events, but "last seen" is the customer's last own event; one who
    only received has no "last seen". The loader and a recount from the files agree."""
    at = "2026-10-05T10:00:00Z"
    later = "2026-10-09T10:00:00Z"
    batch = [
        msg("track", 1, userId="reader", event="Email Opened", timestamp=at),
        msg("track", 2, userId="reader", event="Email Delivered", timestamp=later),
        msg("track", 3, userId="list-only", event="Email Delivered", timestamp=at),
        # one with traits goes through the resolver alone, not in a group
        msg(
            "track",
            4,
            userId="reader",
            event="Push Notification Received",
            timestamp=later,
            context={"traits": {"email": "reader@example.com"}},
        ),
    ]
    assert live.send("/v1/batch", {"batch": batch}).status_code == 200
    live.load()

    def seen() -> dict[int, tuple[Any, Any]]:
        def iso(moment: Any) -> Any:
            return moment and moment.isoformat()

        with transaction(live.factory) as session:
            profiles_ = session.scalars(select(Profile))
            return {p.event_count: (iso(p.first_seen_at), iso(p.last_seen_at)) for p in profiles_}

    loaded = seen()
    assert loaded == {
        3: ("2026-10-05T10:00:00+00:00", "2026-10-05T10:00:00+00:00"),
        1: ("2026-10-05T10:00:00+00:00", None),
    }
    with transaction(live.factory) as session:
        profile_stats.recompute_stats(session, live.workspace_id, live.root)
    assert seen() == loaded


def test_identify_traits_phone_and_email_make_the_profile(live: Live) -> None:
    live.send(
        "/v1/identify",
        {
            "userId": "u-55",
            "traits": {"email": "Mai@Shop.VN", "phone": "0912 345 678", "plan": "gold"},
            "context": {"externalIds": [{"id": "U4af4980629", "type": "LINE ID"}]},
        },
    )
    live.load()
    found = live.api("/api/v1/customers", phone="+84 912 345 678").json()["items"]
    assert len(found) == 1
    kinds = {(i["kind"], i["value"]) for i in found[0]["identities"]}
    assert kinds == {
        ("user_id", "u-55"),
        ("email", "mai@shop.vn"),
        ("phone", "+84912345678"),
        ("line_id", "U4af4980629"),
    }
    assert found[0]["traits"]["plan"] == "gold"
    assert (
        live.api("/api/v1/customers", email="MAI@shop.vn").json()["items"][0]["id"]
        == found[0]["id"]
    )
    assert live.api("/api/v1/customers", email="nobody@shop.vn").json()["items"] == []


def test_events_are_visible_only_after_the_loader_commits(live: Live) -> None:
    live.send("/v1/track", msg("track", 1, userId="u1", event="Signed Up"))
    with transaction(live.factory) as session:
        assert session.scalar(select(func.count()).select_from(InboxBatch)) == 1
    assert current(live)[0] == []
    live.load()
    with transaction(live.factory) as session:
        assert session.scalar(select(func.count()).select_from(InboxBatch)) == 0
    files, _ = current(live)
    assert store.query(files, {}, "SELECT event FROM events") == [{"event": "Signed Up"}]


def test_compaction_swaps_small_files_for_one_and_cleans_up(live: Live) -> None:
    for i in range(4):  # four loads, four files in the same month
        live.send(
            "/v1/track",
            msg("track", i, userId=f"u{i}", event="E", timestamp="2026-10-05T00:00:00Z"),
        )
        live.load()
    files, _ = current(live)
    assert len(files) == 4
    with transaction(live.factory) as session:
        ((workspace_id, period),) = eventstore.compaction_candidates(session, 4)
        assert (
            eventstore.compact_partition(session, workspace_id, period, live.root, max_rows=10**6)
            == 4
        )
    files, _ = current(live)
    assert len(files) == 1
    assert store.query(files, {}, "SELECT count(*) AS n FROM events") == [{"n": 4}]
    on_disk = sorted(live.root.rglob("*.parquet"))
    assert len(on_disk) == 5  # replaced files stay for readers that started before the swap
    later = utcnow() + timedelta(hours=1)
    set_clock(lambda: later)
    try:
        with transaction(live.factory) as session:
            assert eventstore.collect_garbage(session, live.root) == 4
            assert session.scalar(select(func.count()).select_from(EventFile)) == 1
    finally:
        set_clock(None)
    assert len(sorted(live.root.rglob("*.parquet"))) == 1


def test_files_a_crashed_loader_left_behind_are_removed(live: Live) -> None:
    orphan = live.root / f"workspace={live.workspace_id}" / "month=2026-01" / "part-orphan.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"PAR1")
    with transaction(live.factory) as session:
        assert eventstore.collect_garbage(session, live.root) == 0  # too young: may be in flight
    later = utcnow() + timedelta(hours=1)
    set_clock(lambda: later)
    try:
        with transaction(live.factory) as session:
            assert eventstore.collect_garbage(session, live.root) == 1
    finally:
        set_clock(None)
    assert not orphan.exists()


def test_the_timeline_pages_newest_first_and_filters(live: Live) -> None:
    batch = [
        msg(
            "track" if i % 2 else "page",
            i,
            userId="u-page",
            event="Viewed" if i % 2 else None,
            timestamp=f"2026-11-{10 + i:02d}T00:00:00Z",
            context={"channel": "app" if i % 3 == 0 else "web"},
        )
        for i in range(7)
    ]
    live.send("/v1/batch", {"batch": batch})
    live.load()
    customer = live.api("/api/v1/customers", user_id="u-page").json()["items"][0]
    url = f"/api/v1/customers/{customer['id']}/timeline"
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = live.api(url, **params).json()
        seen += [i["timestamp"][:10] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"2026-11-{d}" for d in ("16", "15", "14", "13", "12", "11", "10")]
    only_app = live.api(url, channel="app").json()["items"]
    assert {i["channel"] for i in only_app} == {"app"}
    assert len(only_app) == 3
    window = live.api(url, **{"from": "2026-11-12T00:00:00Z", "to": "2026-11-14T00:00:00Z"})
    assert [i["timestamp"][:10] for i in window.json()["items"]] == ["2026-11-13", "2026-11-12"]
    # a bare day, or a time without an offset, is UTC; the calendar's ends are days like others
    for since, until in (("2026-11-12", "2026-11-14"), ("2026-11-12T00:00:00", "2026-11-14")):
        same = live.api(url, **{"from": since, "to": until})
        assert same.status_code == 200, same.text
        assert same.json()["items"] == window.json()["items"]
    ends = live.api(url, **{"from": "0001-01-01", "to": "9999-12-31T23:59:59Z"})
    assert ends.status_code == 200, ends.text
    assert len(ends.json()["items"]) == 7
    tracks = live.api(url, type="track", event="Viewed").json()["items"]
    assert len(tracks) == 3
    for cursor in ("not-a-cursor", "MjAyNi0xMS0xMlQwMDowMDowMHxtLTE"):  # the second: no offset
        bad = live.api(url, cursor=cursor)
        assert bad.status_code == 400
        assert bad.json()["error"] == "bad_lookup"
