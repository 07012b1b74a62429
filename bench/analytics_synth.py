"""A seeded online shop's event history, drawn as numbers (see ``analytics_data`` for files).

Customers arrive over the months (a third of them already there in the first weeks), stay
for an exponentially distributed time (a fifth never leave) and come back in sessions at a
rate of their own. A session on the web or in the app is a walk down the e-commerce funnel:
pages or screens, a search, a product list (some of them recommendations), clicks, product
views, adding to the cart, checkout and an order (some completed days later), later a refund
or a review. Known customers sign up (some with a referrer), identify themselves and get a
weekly newsletter while they are subscribed, which some of them click. A share of customers
browsed anonymously first under one or two other profiles, merged into theirs later: the
merge map, which every analytics query applies.

Everything is drawn with numpy as whole arrays, seeded, so the same parameters give the same
history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

VERSION = 3  # bump when the generator, or how the store writes a file, changes what it writes
DAY = 86_400_000_000
MINUTE = 60_000_000

# kind -> (type, event); page and screen rows take their name from PAGES
KINDS = [
    ("page", None),
    ("screen", None),
    ("track", "Products Searched"),
    ("track", "Product List Viewed"),
    ("track", "Product Clicked"),
    ("track", "Product Viewed"),
    ("track", "Product Added"),
    ("track", "Checkout Started"),
    ("track", "Order Completed"),
    ("track", "Order Refunded"),
    ("track", "Product Reviewed"),
    ("track", "Signed Up"),
    ("track", "Email Delivered"),
    ("track", "Email Link Clicked"),
    ("identify", None),
]
(PAGE, SCREEN, SEARCH, LIST, CLICK, VIEW, ADD, CHECKOUT, ORDER, REFUND, REVIEW, SIGNUP) = range(12)
EMAIL, EMAIL_CLICK, IDENTIFY = 12, 13, 14
CHANNELS = ["web", "app", "email", "server"]
WEB, APP, MAIL, SERVER = range(4)
PAGES = [
    ("Home", "/"),
    ("Category", "/c/"),
    ("Product", "/p/"),
    ("Cart", "/cart"),
    ("Sale", "/sale"),
    ("Account", "/account"),
]
LISTS = ["recommended", "category", "search"]
CATEGORIES = ["thoi-trang", "dien-thoai", "my-pham", "gia-dung", "the-thao", "sach"]
QUERIES = ["áo thun", "giày chạy bộ", "ốp lưng", "เสื้อยืด", "ครีมกันแดด", "hoodie", "tai nghe"]
LOCALES = [("vi-VN", "Asia/Ho_Chi_Minh"), ("th-TH", "Asia/Bangkok"), ("en-US", "Asia/Singapore")]
CAMPAIGNS = [
    ("google", "cpc", "brand"),
    ("facebook", "social", "mid-year-sale"),
    ("line", "social", "line-friends"),
    ("zalo", "social", "zalo-oa"),
    ("newsletter", "email", "weekly"),
    ("tiktok", "video", "creator"),
]
SPEND_CHANNELS = [("google", 4_000_000), ("facebook", 3_000_000), ("tiktok", 1_500_000)]
PRODUCTS = 2_000


@dataclass(frozen=True)
class Params:
    events: int
    customers: int
    seed: int = 17
    start: date = date(2026, 1, 5)  # a Monday
    days: int = 182

    @property
    def key(self) -> str:
        return f"v{VERSION}-{self.events}-{self.customers}-{self.seed}-{self.start}-{self.days}"

    @property
    def end(self) -> date:
        """The last day with events."""
        return self.start + timedelta(days=self.days - 1)


# -- drawing ----------------------------------------------------------------------------------


def _spread(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of ``counts`` rows: each row's group and its index inside the group."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - np.repeat(starts, counts)


def _sessions(rng: np.random.Generator, n: int, app: np.ndarray) -> dict[str, np.ndarray]:
    """The events of ``n`` sessions (``app``: in the app, else on the web), in walk order."""
    counts = np.zeros((n, 8), np.int64)  # pages, search, list, click, view, add, checkout, order
    counts[:, 0] = 1 + rng.poisson(0.8, n)
    counts[:, 1] = rng.random(n) < 0.3
    counts[:, 2] = rng.random(n) < 0.45
    counts[:, 3] = counts[:, 2] & (rng.random(n) < 0.55)
    viewed = np.where(rng.random(n) < 0.85, 1 + rng.poisson(1.2, n), 0)
    counts[:, 4] = np.maximum(viewed, counts[:, 3])
    counts[:, 5] = (counts[:, 4] > 0) & (rng.random(n) < 0.32)
    counts[:, 6] = counts[:, 5] & (rng.random(n) < 0.55)
    counts[:, 7] = counts[:, 6] & (rng.random(n) < 0.68)
    slot_kinds = np.array([PAGE, SEARCH, LIST, CLICK, VIEW, ADD, CHECKOUT, ORDER])
    flat = counts.reshape(-1)
    cell, within = _spread(flat)
    session, slot = cell // 8, cell % 8
    kind = slot_kinds[slot]
    kind[(kind == PAGE) & app[session]] = SCREEN
    # rows are already in (session, slot, within) order: times are a running sum of gaps
    gaps = rng.exponential(45_000_000, len(kind)).astype(np.int64) + 1_000_000
    total = counts.sum(axis=1)
    running = np.cumsum(gaps)
    first = np.cumsum(total) - total
    offset = running - np.repeat(running[first], total)
    late = (kind == ORDER) & (rng.random(len(kind)) < 0.15)  # paid days later
    offset[late] += (rng.uniform(0.3, 12.0, late.sum()) * DAY).astype(np.int64)
    main = rng.integers(0, PRODUCTS, n)
    product = np.where(
        rng.random(len(kind)) < 0.5, main[session], rng.integers(0, PRODUCTS, len(kind))
    )
    return {
        "session": session,
        "kind": kind,
        "offset": offset,
        "product": product,
        "list": rng.choice(3, n, p=[0.4, 0.35, 0.25])[session],
        "within": within,
    }


def _events_per_session(rng: np.random.Generator) -> float:
    pilot = _sessions(rng, 20_000, rng.random(20_000) < 0.45)
    after = np.isin(pilot["kind"], [ORDER]).sum() * (0.03 + 0.12)  # refunds and reviews
    return (len(pilot["kind"]) + after) / 20_000


def simulate(params: Params, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every event as numbers (customer, profile, time, kind, channel and attributes), and
    the customer each extra profile was merged into."""
    c = params.customers
    span = params.days * DAY
    early = rng.random(c) < 0.3
    arrive = np.where(early, rng.random(c) * 21 * DAY, rng.random(c) ** 0.7 * span)
    arrive = arrive.astype(np.int64)
    life = np.where(rng.random(c) < 0.2, span, rng.exponential(75 * DAY, c)).astype(np.int64)
    until = np.minimum(arrive + life, span)
    active = np.maximum(until - arrive, DAY)
    level = rng.lognormal(0.0, 0.8, c)
    known = rng.random(c) < 0.65
    app_first = rng.random(c) < 0.45
    parts: list[dict[str, np.ndarray]] = []

    def add(
        cust: np.ndarray,
        ts: np.ndarray,
        kind: int | np.ndarray,
        chan: int | np.ndarray,
        **extra: np.ndarray,
    ) -> None:
        row = {
            "cust": cust,
            "ts": ts,
            "kind": np.broadcast_to(kind, ts.shape).astype(np.int8),
            "chan": np.broadcast_to(chan, ts.shape).astype(np.int8),
        }
        parts.append(row | extra)

    # customer-level events: sign-up, identify calls, the newsletter
    who = np.flatnonzero(known)
    signed = arrive[who] + rng.integers(MINUTE, 20 * MINUTE, len(who))
    add(who, signed, SIGNUP, np.where(app_first[who], APP, WEB), flag=rng.random(len(who)) < 0.15)
    add(who, signed + MINUTE, IDENTIFY, SERVER)
    again = rng.poisson(0.6, len(who))
    owner, _ = _spread(again)
    add(
        who[owner],
        arrive[who[owner]] + (rng.random(len(owner)) * active[who[owner]]).astype(np.int64),
        IDENTIFY,
        SERVER,
    )
    subscribed = who[rng.random(len(who)) < 0.8]
    stop = np.minimum(until[subscribed] + 45 * DAY, span)
    weeks = np.maximum((stop - arrive[subscribed]) // (7 * DAY), 0)
    owner, k = _spread(weeks)
    sent = arrive[subscribed[owner]] + (k + 1) * 7 * DAY + rng.integers(0, DAY, len(owner))
    campaign = (sent // (7 * DAY)).astype(np.int64)
    add(subscribed[owner], sent, EMAIL, MAIL, campaign=campaign)
    clicked = rng.random(len(owner)) < 0.09
    add(
        subscribed[owner][clicked],
        sent[clicked] + rng.exponential(3 * 60 * MINUTE, clicked.sum()).astype(np.int64),
        EMAIL_CLICK,
        MAIL,
        campaign=campaign[clicked],
    )
    fixed = sum(len(p["ts"]) for p in parts)

    # sessions: the first on arrival, then at a rate of the customer's own while they stay
    target = max(params.events * 1.03 - fixed, 0) / _events_per_session(rng)
    exposure = level * active / DAY
    rate = max(target - c, 0) / exposure.sum()
    extra = rng.poisson(rate * exposure)
    owner, k = _spread(extra + 1)
    begin = arrive[owner] + np.where(
        k == 0, 0, (rng.random(len(owner)) * active[owner]).astype(np.int64)
    )
    app = app_first[owner] ^ (rng.random(len(owner)) < 0.2)
    walk = _sessions(rng, len(owner), app)
    s = walk["session"]
    chan = np.where(app[s], APP, WEB)
    campaign = np.where(
        rng.random(len(owner)) < 0.15, rng.integers(0, len(CAMPAIGNS), len(owner)), -1
    )[s]
    add(
        owner[s],
        begin[s] + walk["offset"],
        walk["kind"],
        chan,
        product=walk["product"],
        list=walk["list"],
        campaign=campaign,
        within=walk["within"],
    )
    orders = np.flatnonzero(walk["kind"] == ORDER)
    for kind, share, low, high in ((REFUND, 0.03, 2, 20), (REVIEW, 0.12, 3, 15)):
        pick = orders[rng.random(len(orders)) < share]
        later = (rng.uniform(low, high, len(pick)) * DAY).astype(np.int64)
        add(
            owner[s[pick]],
            begin[s[pick]] + walk["offset"][pick] + later,
            kind,
            chan[pick],
            product=walk["product"][pick],
        )

    out = {}
    names = {n for p in parts for n in p}
    for name in names:
        out[name] = np.concatenate([p.get(name, np.full(len(p["ts"]), -1)) for p in parts])
    out["flag"] = out["flag"] == 1  # sign-up with a referrer (-1 elsewhere)
    keep = np.flatnonzero(out["ts"] < span)
    if len(keep) > params.events:
        keep = np.sort(rng.choice(keep, params.events, replace=False))
    out = {name: values[keep] for name, values in out.items()}
    out["known"] = known[out["cust"]]
    merged_into = _profiles(out, arrive, rng)
    out["ts"] += _micros(params.start)
    return out, merged_into


def _profiles(
    out: dict[str, np.ndarray], arrive: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Anonymous browsing before a customer signed in sits on profiles merged later.

    ``out["ts"]`` is still relative to the start here, like ``arrive``."""
    c = len(arrive)
    merged = rng.random(c) < 0.07
    third = merged & (rng.random(c) < 0.15)
    second_id = np.full(c, -1)
    second_id[merged] = c + np.arange(merged.sum())
    third_id = np.full(c, -1)
    third_id[third] = c + merged.sum() + np.arange(third.sum())
    split = arrive + (rng.random(c) * 10 * DAY).astype(np.int64)
    early = arrive + (rng.random(c) * (split - arrive)).astype(np.int64)
    cust, ts = out["cust"], out["ts"]
    browsing = np.isin(out["chan"], [WEB, APP]) & (out["kind"] != SIGNUP)
    profile = cust.copy()
    anonymous = browsing & merged[cust] & (ts < split[cust])
    profile[anonymous] = second_id[cust[anonymous]]
    older = browsing & third[cust] & (ts < early[cust])
    profile[older] = third_id[cust[older]]
    out["profile"] = profile
    # the customer each extra profile was merged into, in the order of the extra profiles
    return np.concatenate([np.flatnonzero(merged), np.flatnonzero(third)])


def _micros(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


def spend(params: Params, rng: np.random.Generator) -> dict[str, dict[str, int]]:
    """Marketing spend per day and channel, growing with the shop."""
    out = {}
    for i in range(params.days):
        day = params.start + timedelta(days=i)
        growth = 1 + i / params.days
        out[day.isoformat()] = {
            name: int(round(base * growth * rng.uniform(0.7, 1.3), -3))
            for name, base in SPEND_CHANNELS
        }
    return out
