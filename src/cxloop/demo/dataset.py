"""What the simulator produces: people, orders, support chats, reviews, survey answers,
marketing spend, and every event as compact columns (one row per event, its details kept
as references into the other tables), so a year of a shop fits in a few tens of megabytes.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

WEB, APP, EMAIL, CHAT, STORE, DELIVERY = range(6)
CHANNELS = ("web", "app", "email", "chat", "store", "delivery")
LANGUAGES = ("vi", "th", "en")

# (message type, event or None)
KINDS: tuple[tuple[str, str | None], ...] = (
    ("identify", None),
    ("page", None),
    ("screen", None),
    ("track", "Application Installed"),
    ("track", "Application Opened"),
    ("track", "Application Updated"),
    ("track", "Application Crashed"),
    ("track", "Signed Up"),
    ("track", "Product List Viewed"),
    ("track", "Product Clicked"),
    ("track", "Product Viewed"),
    ("track", "Product Added"),
    ("track", "Cart Viewed"),
    ("track", "Checkout Started"),
    ("track", "Order Completed"),
    ("track", "Order Cancelled"),
    ("track", "Order Shipped"),
    ("track", "Order Delivered"),
    ("track", "Order Refunded"),
    ("track", "Email Delivered"),
    ("track", "Email Opened"),
    ("track", "Email Link Clicked"),
    ("track", "Support Chat Started"),
    ("track", "Support Chat Ended"),
    ("track", "Store Visited"),
    ("track", "Product Reviewed"),
    ("track", "Referral Sent"),
)
KIND = {event or kind: index for index, (kind, event) in enumerate(KINDS)}

# which device an event carries the anonymous id of
NO_DEVICE, FIRST_DEVICE, SECOND_DEVICE = 0, 1, 2


class Events:
    """Event rows appended one at a time, in any order; ``freeze`` sorts them by time."""

    def __init__(self) -> None:
        self.ts = array("q")
        self.kind = array("b")
        self.person = array("l")
        self.device = array("b")
        self.known = array("b")
        self.channel = array("b")
        self.ref = array("l")
        self.ref2 = array("l")

    def add(
        self,
        ts: int,
        kind: int,
        person: int,
        channel: int,
        *,
        device: int = NO_DEVICE,
        known: bool = True,
        ref: int = -1,
        ref2: int = -1,
    ) -> None:
        self.ts.append(ts)
        self.kind.append(kind)
        self.person.append(person)
        self.device.append(device)
        self.known.append(known)
        self.channel.append(channel)
        self.ref.append(ref)
        self.ref2.append(ref2)

    def __len__(self) -> int:
        return len(self.ts)

    def freeze(self) -> EventTable:
        ts = np.frombuffer(self.ts, dtype=np.int64)
        order = np.argsort(ts, kind="stable")
        return EventTable(
            ts=ts[order],
            kind=np.frombuffer(self.kind, dtype=np.int8)[order],
            person=np.asarray(self.person, dtype=np.int32)[order],
            device=np.frombuffer(self.device, dtype=np.int8)[order],
            known=np.frombuffer(self.known, dtype=np.int8)[order].astype(bool),
            channel=np.frombuffer(self.channel, dtype=np.int8)[order],
            ref=np.asarray(self.ref, dtype=np.int32)[order],
            ref2=np.asarray(self.ref2, dtype=np.int32)[order],
        )


@dataclass
class EventTable:
    """Every event, sorted by time; ``ts`` in microseconds since the epoch (UTC)."""

    ts: NDArray[np.int64]
    kind: NDArray[np.int8]
    person: NDArray[np.int32]
    device: NDArray[np.int8]
    known: NDArray[np.bool_]
    channel: NDArray[np.int8]
    ref: NDArray[np.int32]
    ref2: NDArray[np.int32]

    def __len__(self) -> int:
        return len(self.ts)

    def of_kind(self, name: str) -> NDArray[np.bool_]:
        mask: NDArray[np.bool_] = self.kind == KIND[name]
        return mask


@dataclass
class People:
    """Everyone who came: customers (with a ``user_id``) and visitors who never signed up."""

    anonymous_id: list[str] = field(default_factory=list)
    second_device: list[str | None] = field(default_factory=list)
    user_id: list[str | None] = field(default_factory=list)
    country: list[int] = field(default_factory=list)
    language: list[int] = field(default_factory=list)
    platform: list[int] = field(default_factory=list)  # WEB or APP: where they came first
    source: list[str] = field(default_factory=list)  # acquisition channel
    arrived_us: list[int] = field(default_factory=list)
    signed_up_us: list[int] = field(default_factory=list)  # -1: never
    referrer: list[int] = field(default_factory=list)  # person who referred them, -1: none
    first_name: list[str] = field(default_factory=list)
    last_name: list[str] = field(default_factory=list)
    email: list[str | None] = field(default_factory=list)
    phone: list[str | None] = field(default_factory=list)
    city: list[str] = field(default_factory=list)
    installed_bad_release: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.anonymous_id)

    def customers(self) -> list[int]:
        return [i for i, user in enumerate(self.user_id) if user is not None]


@dataclass
class Order:
    person: int
    order_id: str
    placed_us: int
    channel: int
    items: list[tuple[int, int]]  # (product index, quantity)
    revenue: float
    payment: str
    coupon: str | None = None
    carrier: int = -1  # index into catalog.CARRIERS; -1 for store orders
    cancelled_us: int = -1
    shipped_us: int = -1
    delivered_us: int = -1
    promised: date | None = None
    late: bool = False
    delay_days: int = 0
    defective: bool = False
    refunded_us: int = -1


@dataclass
class Chat:
    person: int
    started_us: int
    ended_us: int
    reason: str
    order: int  # -1: about no order
    resolved: bool


@dataclass
class Review:
    person: int
    order: int
    product: int
    rating: int
    body: str | None


@dataclass
class Campaign:
    campaign_id: str
    name: str
    sent_us: int


@dataclass
class Answer:
    """One survey response: who, when, where, in which language, and the answers by
    question id (only the questions the survey's skip logic shows)."""

    survey: str
    person: int
    submitted_us: int
    channel: str
    language: str
    answers: dict[str, Any]
    about: int = -1  # the order a post-delivery answer is about (not part of the response)


@dataclass
class Spend:
    day: date
    channel: str
    amount: float


@dataclass
class Dataset:
    start: datetime
    end: datetime
    seed: int
    people: People
    events: EventTable
    orders: list[Order]
    chats: list[Chat]
    reviews: list[Review]
    campaigns: list[Campaign]
    answers: list[Answer]
    spend: list[Spend]
    bad_release: tuple[str, datetime, datetime]  # version, from, until
    sources: list[str]  # acquisition channels, as the first page's ``ref2`` names them
    releases: list[str]  # app versions, as ``Application Updated``'s ``ref`` names them
    release_us: list[int]  # when each came out

    @property
    def customers(self) -> int:
        return sum(1 for user in self.people.user_id if user is not None)
