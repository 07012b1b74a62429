"""The simulated shop as Segment messages (JSON lines, what ``cxloop import events`` reads)
and its survey answers as CSV rows (what ``cxloop import responses`` reads).

Properties and contexts that depend only on a product, a page, a campaign or a customer's
device are encoded once and reused, so a million messages take seconds. Every message has
a ``messageId`` made from the dataset's identity and the event's place in time order: the
same dataset gives the same ids, and importing it again adds nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgspec
import numpy as np

from cxloop.demo import calendar, catalog
from cxloop.demo.dataset import (
    APP,
    CHANNELS,
    FIRST_DEVICE,
    KINDS,
    LANGUAGES,
    NO_DEVICE,
    SECOND_DEVICE,
    Dataset,
)
from cxloop.demo.shop import EMAIL_LANDING

SITE = "https://shop.example.com"
APP_NAME = "Demo Shop"
SIGNUP_METHODS = ("email", "phone", "google")
SURVEY_FIELDS = ("user_id", "submitted_at", "channel", "language")

_json = msgspec.json.Encoder()


def micros_to_iso(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, UTC).isoformat(timespec="milliseconds")


class Encoder:
    """Turns the rows of ``dataset.events`` into Segment messages."""

    def __init__(self, dataset: Dataset, id_prefix: str) -> None:
        self.d = dataset
        self.prefix = id_prefix
        self.numbers = _order_numbers(dataset)
        self.release_us = np.array(dataset.release_us, dtype=np.int64)

    # -- whole chunks ----------------------------------------------------------------------

    def lines(self, start: int, stop: int) -> bytes:
        """Messages ``start`` .. ``stop`` - 1 (in time order), one JSON object a line."""
        events = self.d.events
        ts = events.ts[start:stop]
        stamps = np.datetime_as_string(ts.astype("datetime64[us]"), unit="ms").tolist()
        versions = np.searchsorted(self.release_us, ts, side="right") - 1
        columns = zip(
            range(start, stop),
            stamps,
            ts.tolist(),
            events.kind[start:stop].tolist(),
            events.person[start:stop].tolist(),
            events.device[start:stop].tolist(),
            events.known[start:stop].tolist(),
            events.channel[start:stop].tolist(),
            events.ref[start:stop].tolist(),
            events.ref2[start:stop].tolist(),
            versions.tolist(),
            strict=True,
        )
        encode = _json.encode
        out = [encode(self.message(*row)) for row in columns]
        out.append(b"")
        return b"\n".join(out)

    def chunks(self, size: int = 50_000) -> Iterator[tuple[bytes, int]]:
        total = len(self.d.events)
        for start in range(0, total, size):
            stop = min(total, start + size)
            yield self.lines(start, stop), stop - start

    # -- one message -----------------------------------------------------------------------

    def message(
        self,
        i: int,
        stamp: str,
        micros: int,
        kind: int,
        person: int,
        device: int,
        known: bool,
        channel: int,
        ref: int,
        ref2: int,
        release: int,
    ) -> dict[str, Any]:
        people = self.d.people
        message_type, event = KINDS[kind]
        message: dict[str, Any] = {
            "type": message_type,
            "messageId": f"{self.prefix}-{i:08x}",
            "timestamp": stamp + "Z",
        }
        user_id = people.user_id[person]
        if known and user_id is not None:
            message["userId"] = user_id
        if device == FIRST_DEVICE or (device == NO_DEVICE and "userId" not in message):
            message["anonymousId"] = people.anonymous_id[person]
        elif device == SECOND_DEVICE:
            message["anonymousId"] = people.second_device[person]
        version = self.d.releases[max(0, release)] if channel == APP else None
        context = _context(channel, people.language[person], people.country[person], version)
        if message_type == "identify":
            message["traits"] = self.traits(person)
        elif message_type == "page":
            name, path = catalog.WEB_PAGES[ref]
            message["name"] = name
            message["properties"] = {"path": path, "url": SITE + path, "title": name}
            context = {**context, "page": message["properties"]}
            if ref2 >= 0 or ref2 == EMAIL_LANDING:
                context["campaign"] = self.campaign(ref2)
        elif message_type == "screen":
            message["name"] = catalog.APP_SCREENS[ref]
        else:
            message["event"] = event
            properties = self.properties(str(event), person, ref, ref2, version)
            if properties:
                message["properties"] = properties
        message["context"] = context
        return message

    def campaign(self, source: int) -> dict[str, str]:
        if source == EMAIL_LANDING:
            return {"source": "newsletter", "medium": "email", "name": "newsletter"}
        name = self.d.sources[source]
        channel = next((c for c in catalog.CHANNELS if c.id == name), None)
        if channel is None:
            return {"source": name, "medium": name, "name": name}
        return {"source": channel.source, "medium": channel.medium, "name": f"{name}-always-on"}

    def traits(self, person: int) -> dict[str, Any]:
        people = self.d.people
        first, last = people.first_name[person], people.last_name[person]
        language = LANGUAGES[people.language[person]]
        country = calendar.COUNTRIES[people.country[person]]
        traits: dict[str, Any] = {
            "email": people.email[person],
            "firstName": first,
            "lastName": last,
            "name": f"{last} {first}" if language == "vi" else f"{first} {last}",
            "country": country,
            "city": people.city[person],
            "language": language,
            "locale": f"{language}-{country}",
            "createdAt": micros_to_iso(people.signed_up_us[person]),
            "acquisition_source": people.source[person],
        }
        if people.phone[person] is not None:
            traits["phone"] = people.phone[person]
        return traits

    def properties(
        self, event: str, person: int, ref: int, ref2: int, version: str | None
    ) -> dict[str, Any] | None:
        d = self.d
        if event in ("Product Viewed", "Product Clicked"):
            found = {**_product(ref), "currency": catalog.CURRENCY}
            if event == "Product Clicked":
                found["list_id"] = "recommended"
            return found
        if event == "Product Added":
            return {**_product(ref), "quantity": max(1, ref2), "currency": catalog.CURRENCY}
        if event == "Product List Viewed":
            return {"list_id": "recommended", "category": "For you"}
        if event in ("Cart Viewed", "Checkout Started"):
            found = {"cart_id": f"cart-{person:06d}", "value": _product(ref)["price"]}
            if ref2 >= 0:
                order = d.orders[ref2]
                found.update(order_id=order.order_id, value=order.revenue)
            return {**found, "currency": catalog.CURRENCY}
        if event.startswith("Order "):
            return self.order_properties(event, ref)
        if event.startswith("Email "):
            campaign = d.campaigns[ref]
            found = {"campaign_id": campaign.campaign_id, "campaign_name": campaign.name}
            if event == "Email Link Clicked":
                found["link_url"] = f"{SITE}/c/deals?utm_campaign={campaign.campaign_id}"
            return found
        if event.startswith("Support Chat"):
            chat = d.chats[ref]
            found = {"chat_id": f"chat-{ref + 1:06d}", "reason": chat.reason}
            if chat.order >= 0:
                found["order_id"] = d.orders[chat.order].order_id
            if event == "Support Chat Ended":
                found["resolved"] = chat.resolved
                found["duration_seconds"] = (chat.ended_us - chat.started_us) // 1_000_000
            return found
        if event == "Store Visited":
            store = catalog.STORES[ref]
            return {"store_id": store.id, "store_name": store.name, "city": store.city}
        if event == "Product Reviewed":
            review = d.reviews[ref]
            found = {
                **_product(review.product),
                "review_id": f"rev-{ref + 1:06d}",
                "rating": review.rating,
            }
            if review.body:
                found["review_body"] = review.body
            return found
        if event == "Referral Sent":
            return {
                "share_via": catalog.REFERRAL_CHANNELS[ref],
                "referral_code": f"REF-{d.people.user_id[person]}",
            }
        if event == "Signed Up":
            found = {"method": SIGNUP_METHODS[ref]}
            if ref2 >= 0:
                found["referrer"] = d.people.user_id[ref2] or ""
            return found
        return self.app_properties(event, ref, version or self.d.releases[0])

    def order_properties(self, event: str, ref: int) -> dict[str, Any]:
        order = self.d.orders[ref]
        found: dict[str, Any] = {"order_id": order.order_id}
        if event == "Order Completed":
            found.update(
                revenue=order.revenue,
                currency=catalog.CURRENCY,
                payment_method=order.payment,
                order_number=self.numbers[ref],
                products=[{**_product(p), "quantity": q} for p, q in order.items],
            )
            if order.coupon:
                found["coupon"] = order.coupon
        elif event in ("Order Shipped", "Order Delivered"):
            carrier = catalog.CARRIERS[order.carrier].name
            found.update(carrier=carrier, tracking_number=f"{carrier[:3].upper()}{ref + 1:09d}")
            if event == "Order Delivered" and order.promised is not None:
                found.update(
                    late=order.late,
                    delay_days=order.delay_days,
                    promised_date=order.promised.isoformat(),
                )
        elif event == "Order Refunded":
            found.update(total=order.revenue, currency=catalog.CURRENCY, reason="defective_item")
        elif event == "Order Cancelled":
            found["reason"] = "changed_mind"
        return found

    def app_properties(self, event: str, ref: int, version: str) -> dict[str, Any] | None:
        if event == "Application Updated":
            previous = self.d.releases[max(0, ref - 1)]
            return {"previous_version": previous, "version": self.d.releases[ref]}
        if event == "Application Crashed":
            return {"version": version, "screen": "Sign Up", "error": "NullPointerException"}
        if event in ("Application Installed", "Application Opened"):
            return {"version": version, "build": version.replace(".", "")}
        return None


@lru_cache(maxsize=256)
def _product(index: int) -> dict[str, Any]:
    product = catalog.PRODUCTS[index]
    return {
        "product_id": product.id,
        "name": product.name,
        "category": product.category,
        "price": product.price,
    }


@lru_cache(maxsize=1024)
def _context(channel: int, language: int, country: int, version: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "channel": CHANNELS[channel],
        "locale": f"{LANGUAGES[language]}-{calendar.COUNTRIES[country]}",
    }
    if channel == APP:
        found["app"] = {"name": APP_NAME, "version": version}
    return found


def _order_numbers(dataset: Dataset) -> list[int]:
    """Each order's place among its customer's orders (1 for the first)."""
    numbers = [0] * len(dataset.orders)
    seen: dict[int, int] = {}
    for index in sorted(range(len(dataset.orders)), key=lambda i: dataset.orders[i].placed_us):
        person = dataset.orders[index].person
        seen[person] = seen.get(person, 0) + 1
        numbers[index] = seen[person]
    return numbers


# -- survey answers --------------------------------------------------------------------------


def survey_csv(dataset: Dataset, survey: str, questions: list[str]) -> tuple[bytes, int]:
    """The answers to ``survey`` as a CSV file for the responses import, and their number."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*SURVEY_FIELDS, *questions])
    rows = 0
    for answer in dataset.answers:
        if answer.survey != survey:
            continue
        user_id = dataset.people.user_id[answer.person]
        cells = [user_id or "", micros_to_iso(answer.submitted_us), answer.channel, answer.language]
        writer.writerow(cells + [_cell(answer.answers.get(q)) for q in questions])
        rows += 1
    return buffer.getvalue().encode("utf-8"), rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
