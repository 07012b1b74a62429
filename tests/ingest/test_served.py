"""The real Segment and RudderStack Python SDKs against a real `cxloop serve` process.

The events go the whole way: SDK -> HTTP -> inbox -> the loader in the server's worker ->
Parquet files and profiles -> the customer 360 API. Nothing is loaded by hand, so each test
polls the API until the server has caught up.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from rudderstack.analytics import Client as RudderClient
from rudderstack.analytics import request as rudder_request
from segment.analytics import Client as SegmentClient

from tests.fixtures.served import Server, Tenant, make_tenant, server_on_fresh_database, wait_for

Message = dict[str, Any]


@dataclass
class Served:
    server: Server
    tenant: Tenant
    api: httpx.Client

    def customers(self, **lookup: str) -> list[dict[str, Any]]:
        response = self.api.get("/api/v1/customers", params=lookup)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def customer(self, **lookup: str) -> dict[str, Any] | None:
        items = self.customers(**lookup)
        assert len(items) <= 1
        return items[0] if items else None

    def timeline(self, customer_id: str, **params: Any) -> list[dict[str, Any]]:
        response = self.api.get(f"/api/v1/customers/{customer_id}/timeline", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["customer_id"] == customer_id
        items: list[dict[str, Any]] = body["items"]
        return items

    def wait_for_customer(self, events: int, **lookup: str) -> dict[str, Any]:
        """Poll until the customer holding ``lookup`` has ``events`` events loaded."""

        def probe() -> dict[str, Any] | None:
            found = self.customer(**lookup)
            return found if found is not None and found["event_count"] >= events else None

        customer = wait_for(probe, timeout=10, what=f"{events} events of the customer {lookup}")
        assert customer["event_count"] == events
        return customer


@pytest.fixture(scope="module")
def served(pg_server_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("served")
    with server_on_fresh_database(pg_server_url, tmp) as server:
        tenant = make_tenant(server, "shop")
        headers = {"Authorization": f"Bearer {tenant.read_key}"}
        with httpx.Client(base_url=server.base, headers=headers, timeout=10) as api:
            yield Served(server, tenant, api)


class Sent:
    """The messages an SDK queued, by message id, and every error it reported."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.errors: list[str] = []

    def __call__(self, queued: tuple[bool, Message]) -> str:
        ok, message = queued
        assert ok, message
        self.messages[message["messageId"]] = message
        return str(message["messageId"])

    def on_error(self, error: Exception, batch: list[Message]) -> None:
        self.errors.append(f"{error} ({len(batch)} messages)")


def segment_client(served: Served, sent: Sent) -> Any:
    return SegmentClient(
        served.tenant.write_key,
        host=served.server.base,
        on_error=sent.on_error,
        upload_interval=0.05,
        max_retries=1,
    )


def by_message_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["message_id"]: item for item in items}


def test_segment_sdk_calls_make_one_customer_found_by_every_identifier(served: Served) -> None:
    sent = Sent()
    client = segment_client(served, sent)
    user, anonymous = "seg-user-1", "seg-anon-1"
    identify = sent(
        client.identify(
            user,
            {"email": "Lan.Nguyen@Example.com", "phone": "0912 345 678", "name": "Lan"},
            anonymous_id=anonymous,
        )
    )
    track = sent(client.track(user, "Order Completed", {"revenue": 42.5, "currency": "VND"}))
    page = sent(
        client.page(
            user,
            category="Docs",
            name="Pricing",
            properties={"url": "https://shop.example/pricing", "path": "/pricing"},
        )
    )
    screen = sent(client.screen(user, name="Checkout", properties={"step": 2}))
    group = sent(client.group(user, "acme-corp", {"name": "Acme", "plan": "enterprise"}))
    alias = sent(client.alias("seg-old-anon", user))
    client.shutdown()  # flush, then stop the upload thread
    assert sent.errors == []

    customer = served.wait_for_customer(6, user_id=user)
    for lookup in (
        {"email": "lan.nguyen@example.com"},
        {"email": "LAN.NGUYEN@example.com"},
        {"phone": "+84912345678"},
        {"phone": "0912 345 678"},
        {"anonymous_id": anonymous},
        {"anonymous_id": "seg-old-anon"},  # joined by the alias call
        {"email": "lan.nguyen@example.com", "phone": "+84912345678", "user_id": user},
    ):
        assert [c["id"] for c in served.customers(**lookup)] == [customer["id"]], lookup
    assert served.customers(email="someone.else@example.com") == []
    assert served.customers(email="lan.nguyen@example.com", user_id="seg-user-2") == []

    identities = {(i["kind"], i["value"]) for i in customer["identities"]}
    assert identities == {
        ("user_id", user),
        ("email", "lan.nguyen@example.com"),
        ("phone", "+84912345678"),
        ("anonymous_id", anonymous),
        ("anonymous_id", "seg-old-anon"),
    }
    assert customer["traits"] == {
        "email": "Lan.Nguyen@Example.com",
        "phone": "0912 345 678",
        "name": "Lan",
    }
    assert customer["counters"] == dict.fromkeys(
        ("identify", "track", "page", "screen", "group", "alias"), 1
    )
    assert customer["channels"] == {"server": 4, "web": 1, "app": 1}
    assert customer["merges"] == []
    assert customer["merged_ids"] == []

    items = by_message_id(served.timeline(customer["id"]))
    assert set(items) == set(sent.messages)
    expected = {  # message id -> (type, event, name, channel)
        identify: ("identify", None, None, "server"),
        track: ("track", "Order Completed", None, "server"),
        page: ("page", None, "Pricing", "web"),
        screen: ("screen", None, "Checkout", "app"),
        group: ("group", None, None, "server"),
        alias: ("alias", None, None, "server"),
    }
    assert {
        m: (i["type"], i["event"], i["name"], i["channel"]) for m, i in items.items()
    } == expected
    assert items[track]["properties"] == {"revenue": 42.5, "currency": "VND"}
    assert items[identify]["traits"]["phone"] == "0912 345 678"
    assert items[group]["traits"] == {"name": "Acme", "plan": "enterprise"}
    assert items[page]["properties"]["url"] == "https://shop.example/pricing"
    assert all(i["context"]["library"]["name"] == "analytics-python" for i in items.values())
    assert all(i["user_id"] == user for i in items.values())

    # the filters of the timeline, on the same events
    for only, message_id in (
        ({"channel": "web"}, page),
        ({"type": "screen"}, screen),
        ({"event": "Order Completed"}, track),
    ):
        assert [i["message_id"] for i in served.timeline(customer["id"], **only)] == [message_id]


def test_rudderstack_sdk_sends_gzip_batches(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests_seen: list[tuple[str | None, list[Message], int]] = []

    def observe(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        # what really went over the wire: the header, and a body that only gunzips if gzip
        body = response.request.body
        assert isinstance(body, bytes)
        batch = json.loads(gzip.decompress(body))["batch"]
        encoding = response.request.headers.get("Content-Encoding")
        requests_seen.append((encoding, batch, response.status_code))

    monkeypatch.setattr(rudder_request._session, "hooks", {"response": [observe]})
    sent = Sent()
    client = RudderClient(
        served.tenant.write_key,
        host=served.server.base,
        on_error=sent.on_error,
        upload_interval=0.2,
        max_retries=1,
    )
    assert client.gzip is True  # the SDK's default
    user = "rs-user-1"
    sent(client.identify(user, {"email": "minh.tran@example.vn", "plan": "gold"}))
    for event, properties in (
        ("Product Viewed", {"sku": "A-1"}),
        ("Product Added", {"sku": "A-1", "quantity": 2}),
        ("Order Completed", {"revenue": 199000, "currency": "VND"}),
    ):
        sent(client.track(user, event, properties))
    sent(client.page(user, name="Cart", properties={"url": "https://shop.example/cart"}))
    sent(client.screen(user, name="Home"))
    client.shutdown()
    assert sent.errors == []

    assert requests_seen, "the SDK sent nothing"
    assert all(encoding == "gzip" for encoding, _, _ in requests_seen)
    assert all(status == 200 for _, _, status in requests_seen)
    delivered = [m["messageId"] for _, batch, _ in requests_seen for m in batch]
    assert sorted(delivered) == sorted(sent.messages)
    assert max(len(batch) for _, batch, _ in requests_seen) > 1  # batched, not one by one

    customer = served.wait_for_customer(6, user_id=user)
    assert served.customers(email="minh.tran@example.vn") == [customer]
    assert customer["traits"] == {"email": "minh.tran@example.vn", "plan": "gold"}
    items = by_message_id(served.timeline(customer["id"]))
    assert set(items) == set(sent.messages)
    assert sorted(i["event"] for i in items.values() if i["type"] == "track") == [
        "Order Completed",
        "Product Added",
        "Product Viewed",
    ]
    assert sorted(i["type"] for i in items.values()) == [
        "identify",
        "page",
        "screen",
        "track",
        "track",
        "track",
    ]
    # the SDK says channel "server" on every message: that names the library, not the
    # touchpoint, so page and screen still count as web and app
    channels = {i["type"]: i["channel"] for i in items.values()}
    assert channels == {
        "identify": "server",
        "track": "server",
        "page": "web",
        "screen": "app",
    }
    # it sends the traits of identify in context.traits, not at the top level
    [identify] = [i for i in items.values() if i["type"] == "identify"]
    assert identify["traits"] == {"email": "minh.tran@example.vn", "plan": "gold"}
    orders = [i for i in items.values() if i["event"] == "Order Completed"]
    assert orders[0]["properties"] == {"revenue": 199000, "currency": "VND"}


def test_signing_in_claims_the_anonymous_visits(served: Served) -> None:
    sent = Sent()
    client = segment_client(served, sent)
    anonymous, user = "anon-visitor-1", "new-user-1"
    pages = [
        sent(client.page(anonymous_id=anonymous, name=name, properties={"path": path}))
        for name, path in (("Home", "/"), ("Pricing", "/pricing"))
    ]
    client.flush()
    visitor = served.wait_for_customer(2, anonymous_id=anonymous)
    assert {(i["kind"], i["value"]) for i in visitor["identities"]} == {("anonymous_id", anonymous)}

    signed_in = sent(client.identify(user, {"email": "an@example.com"}, anonymous_id=anonymous))
    client.shutdown()
    assert sent.errors == []

    customer = served.wait_for_customer(3, user_id=user)
    # a first sign-in adds the user id to the visitor's profile: nothing to merge
    assert customer["id"] == visitor["id"]
    assert customer["merges"] == []
    assert customer["merged_ids"] == []
    assert {(i["kind"], i["value"]) for i in customer["identities"]} == {
        ("anonymous_id", anonymous),
        ("user_id", user),
        ("email", "an@example.com"),
    }
    assert [c["id"] for c in served.customers(anonymous_id=anonymous)] == [customer["id"]]
    items = by_message_id(served.timeline(customer["id"]))
    assert set(items) == {*pages, signed_in}
    assert [items[m]["anonymous_id"] for m in pages] == [anonymous, anonymous]
    assert all(items[m]["user_id"] is None for m in pages)


def test_signing_in_on_a_second_device_merges_its_visits(served: Served) -> None:
    sent = Sent()
    client = segment_client(served, sent)
    user, phone_visitor = "known-user-1", "anon-phone-1"
    first = sent(client.identify(user, {"email": "binh@example.com"}, anonymous_id="anon-laptop"))
    client.flush()
    known = served.wait_for_customer(1, user_id=user)

    # the same person browses on another device, not signed in: a separate, anonymous profile
    pages = [
        sent(client.page(anonymous_id=phone_visitor, name="Product", properties={"sku": sku}))
        for sku in ("A-1", "B-2", "C-3")
    ]
    client.flush()
    visitor = served.wait_for_customer(3, anonymous_id=phone_visitor)
    assert visitor["id"] != known["id"]

    signed_in = sent(client.identify(user, anonymous_id=phone_visitor))
    client.shutdown()
    assert sent.errors == []

    customer = served.wait_for_customer(5, user_id=user)
    assert customer["id"] == known["id"]  # the user id is the most trusted identifier
    assert [c["id"] for c in served.customers(anonymous_id=phone_visitor)] == [customer["id"]]
    assert customer["merged_ids"] == [visitor["id"]]
    [merge] = customer["merges"]
    assert merge["from_profile_id"] == visitor["id"]
    assert merge["into_profile_id"] == known["id"]
    assert merge["reason"] == "identify"
    assert merge["message_id"] == signed_in
    assert merge["identifiers"] == {"user_id": [user], "anonymous_id": [phone_visitor]}
    assert merge["dropped"] == {}
    assert customer["counters"] == {"identify": 2, "page": 3}
    assert {(i["kind"], i["value"]) for i in customer["identities"]} == {
        ("user_id", user),
        ("email", "binh@example.com"),
        ("anonymous_id", "anon-laptop"),
        ("anonymous_id", phone_visitor),
    }

    # the merged-away id still answers, with the customer it became
    response = served.api.get(f"/api/v1/customers/{visitor['id']}")
    assert response.status_code == 200
    assert response.json()["id"] == known["id"]

    items = by_message_id(served.timeline(customer["id"]))
    assert set(items) == {first, *pages, signed_in}
    # the visits keep the profile they were stored under; the timeline follows the merge
    assert {items[m]["profile_id"] for m in pages} == {visitor["id"]}
    assert items[first]["profile_id"] == known["id"]
    assert sorted(i["type"] for i in items.values()) == ["identify", "identify", *["page"] * 3]
    # and so does the merged-away id's timeline
    via_old_id = served.api.get(f"/api/v1/customers/{visitor['id']}/timeline").json()
    assert via_old_id["customer_id"] == known["id"]
    assert {i["message_id"] for i in via_old_id["items"]} == set(items)
