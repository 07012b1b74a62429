"""The synthetic shop of ``analytics_synth`` written into the event store's layout, cached.

Each month becomes one file written by :func:`cxloop.analytics.events.write_file` (by DuckDB,
sorted by profile and time, zstd, 256 Ki-row groups), as compaction leaves a month of the store,
with every column the loader fills: ids, times, channel, the context columns and the JSON of
properties, traits and context. Text columns are built from the drawn numbers with Arrow
compute functions, a column at a time. A data set is cached on disk under a key of its
parameters, so a second run reads what the first one wrote.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from bench.analytics_synth import (
    ADD,
    APP,
    CAMPAIGNS,
    CATEGORIES,
    CHANNELS,
    CHECKOUT,
    CLICK,
    EMAIL,
    EMAIL_CLICK,
    IDENTIFY,
    KINDS,
    LIST,
    LISTS,
    LOCALES,
    MINUTE,
    ORDER,
    PAGE,
    PAGES,
    PRODUCTS,
    QUERIES,
    REFUND,
    REVIEW,
    SCREEN,
    SEARCH,
    SIGNUP,
    VIEW,
    WEB,
    Params,
    simulate,
    spend,
)

from cxloop.analytics import events as store


@dataclass
class File:
    path: str  # relative to the events root
    rows: int
    bytes: int
    min_timestamp: str
    max_timestamp: str


@dataclass
class Dataset:
    params: Params
    root: Path  # the events root: workspace=<id>/month=<YYYY-MM>/part-*.parquet under it
    workspace_id: uuid.UUID
    files: list[File]
    merge_map: dict[str, str]
    profiles: list[str]  # every profile id, merged ones included
    spend: dict[str, dict[str, int]]  # ISO day -> channel -> amount (VND)
    events: int
    seconds: float  # generation time

    @property
    def paths(self) -> list[str]:
        return [str(self.root / f.path) for f in self.files]

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def spend_by_day(self) -> dict[date, float]:
        return {date.fromisoformat(d): float(sum(v.values())) for d, v in self.spend.items()}


def ensure(cache: Path, params: Params, say: Callable[[str], None]) -> Dataset:
    """The data set of ``params``: read from ``cache`` when a run already wrote it."""
    folder = cache / params.key
    manifest = folder / "dataset.json"
    if manifest.exists():
        raw = json.loads(manifest.read_text())
        say(f"  reusing {folder}")
        return Dataset(
            params=params,
            root=folder / "events",
            workspace_id=uuid.UUID(raw["workspace_id"]),
            files=[File(**f) for f in raw["files"]],
            merge_map=raw["merge_map"],
            profiles=raw["profiles"],
            spend=raw["spend"],
            events=raw["events"],
            seconds=raw["seconds"],
        )
    shutil.rmtree(folder, ignore_errors=True)
    data = generate(folder, params, say)
    body = {k: v for k, v in asdict(data).items() if k not in ("params", "root")}
    body["workspace_id"] = str(data.workspace_id)
    manifest.write_text(json.dumps(body))  # last: its presence means the set is complete
    return data


# -- writing ----------------------------------------------------------------------------------

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_TYPES = pa.array([k[0] for k in KINDS], pa.string())
_EVENTS = pa.array([k[1] for k in KINDS], pa.string())
_PATH_OF = {
    SEARCH: "/search",
    LIST: "/c/",
    CLICK: "/p/",
    VIEW: "/p/",
    ADD: "/p/",
    CHECKOUT: "/checkout",
    ORDER: "/checkout/done",
    SIGNUP: "/signup",
}


def uuid_strings(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random version-4 UUIDs as text, made as one byte matrix."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.empty((n, 32), np.uint8)
    digits[:, 0::2], digits[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    text = np.full((n, 36), ord("-"), np.uint8)
    for (a, b), at in zip(
        ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)), (0, 9, 14, 19, 24), strict=True
    ):
        text[:, at : at + b - a] = digits[:, a:b]
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text.tobytes()))


def _take(values: list[str | None] | pa.Array, idx: np.ndarray) -> pa.Array:
    array = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return array.take(pa.array(idx))


def _cat(*parts: Any) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _num(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _opt(mask: np.ndarray, *parts: Any) -> pa.Array:
    """The text where ``mask``, else the empty string."""
    return pc.if_else(pa.array(mask), _cat(*parts), "")


def _null_unless(mask: np.ndarray, values: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), values, pa.scalar(None, pa.string()))


@dataclass
class _Shop:
    """What stays the same across months: ids, the catalogue, each customer's device."""

    profile_ids: pa.Array
    anonymous_ids: pa.Array
    device_ids: pa.Array
    ips: pa.Array
    locale: np.ndarray
    ios: np.ndarray
    price: np.ndarray


def _properties(kind: int, r: dict[str, np.ndarray], shop: _Shop, rng: np.random.Generator) -> Any:
    """The ``properties`` JSON of rows that are all of one kind."""
    n = len(r["ts"])
    product = np.maximum(r["product"], 0)
    pid = _cat("P", pc.utf8_lpad(_num(product), 5, "0"))
    price = _num(shop.price[product])
    category = _take(CATEGORIES, product % len(CATEGORIES))
    lst = _take(LISTS, np.maximum(r["list"], 0))
    order = _cat("ORD-", _num(r["ts"] // 1000), "-", _num(r["cust"] % 997))
    if kind == PAGE:
        path = _take([p[1] for p in PAGES], r["page"])
        title = _take([p[0] for p in PAGES], r["page"])
        return _cat(
            '{"path":"', path, '","url":"https://shop.example.vn', path, '","title":"', title, '"}'
        )
    if kind in (SCREEN, IDENTIFY):
        return pa.nulls(n, pa.string()) if kind == IDENTIFY else pa.array(["{}"] * n)
    if kind == SEARCH:
        return _cat('{"query":"', _take(QUERIES, rng.integers(0, len(QUERIES), n)), '"}')
    if kind == LIST:
        return _cat('{"list_id":"', lst, '","category":"', category, '"}')
    if kind == CLICK:
        position = _num(rng.integers(1, 13, n))
        return _cat(
            '{"product_id":"',
            pid,
            '","list_id":"',
            lst,
            '","position":',
            position,
            ',"price":',
            price,
            "}",
        )
    if kind in (VIEW, ADD):
        quantity = _opt(np.full(n, kind == ADD), ',"quantity":', _num(1 + rng.poisson(0.4, n)))
        return _cat(
            '{"product_id":"',
            pid,
            '","sku":"SKU-',
            _num(product),
            '","category":"',
            category,
            '","price":',
            price,
            quantity,
            ',"currency":"VND"}',
        )
    amount = shop.price[product] * (1 + rng.poisson(0.6, n))
    if kind == CHECKOUT:
        return _cat('{"order_id":"', order, '","value":', _num(amount), ',"currency":"VND"}')
    if kind == ORDER:
        shipping = np.where(amount >= 300_000, 0, 30_000)
        revenue = _opt(rng.random(n) >= 0.1, ',"revenue":', _num(amount))  # some send only total
        return _cat(
            '{"order_id":"',
            order,
            '","total":',
            _num(amount + shipping),
            revenue,
            ',"shipping":',
            _num(shipping),
            ',"currency":"VND"}',
        )
    if kind == REFUND:
        return _cat('{"order_id":"', order, '","total":', _num(amount), "}")
    if kind == REVIEW:
        rating = _num(rng.choice(5, n, p=[0.05, 0.05, 0.15, 0.35, 0.4]) + 1)
        return _cat('{"product_id":"', pid, '","rating":', rating, "}")
    if kind == SIGNUP:
        method = _take(["email", "google", "facebook", "line"], rng.integers(0, 4, n))
        referrer = _opt(r["flag"], ',"referrer":"REF-', _num(rng.integers(1000, 99999, n)), '"')
        return _cat('{"method":"', method, '"', referrer, "}")
    week = _num(r["campaign"])
    if kind == EMAIL:
        return _cat('{"campaign_id":"nl-', week, '","email_subject":"Ưu đãi tuần ', week, '"}')
    return _cat('{"campaign_id":"nl-', week, '","link_url":"https://shop.example.vn/sale"}')


def _table(r: dict[str, np.ndarray], shop: _Shop, rng: np.random.Generator) -> pa.Table:
    """One month's rows, in the event store's schema; rows come sorted by kind."""
    n = len(r["ts"])
    kind, chan, cust = r["kind"], r["chan"], r["cust"]
    web, app, person = chan == WEB, chan == APP, np.isin(chan, [WEB, APP])
    ts = pa.array(r["ts"], store.TS)
    lag = rng.integers(30_000, 2_000_000, n)
    # the landing page first, then others; on the web the page is also in the context
    r["page"] = np.where(r["within"] <= 0, 0, 1 + (r["ts"] // MINUTE) % (len(PAGES) - 1))
    bounds = np.flatnonzero(np.diff(kind)) + 1
    props = [
        _properties(int(kind[a]), {k: v[a:b] for k, v in r.items()}, shop, rng)
        for a, b in zip(np.r_[0, bounds], np.r_[bounds, n], strict=True)
        if b > a
    ]
    locale = shop.locale[cust]
    ios = shop.ios[cust]
    library = np.select([web, app & ios, app], [0, 1, 2], 3)
    lib = _take(["analytics.js", "analytics-ios", "analytics-android", "analytics-python"], library)
    version = _take(["3.13.0", "1.8.2", "1.15.0", "2.3.2"], library)
    ua = _null_unless(
        person,
        _take(
            [
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Safari/604.1",
                "Mozilla/5.0 (Linux; Android 14; SM-A556E) Chrome/131.0 Mobile",
                "Shop/4.2.0 (iPhone; iOS 18.1)",
                "Shop/4.2.0 (Android 14)",
            ],
            np.where(web, cust % 3, np.where(ios, 3, 4)),
        ),
    )
    loc = _take([x[0] for x in LOCALES], locale)
    zone = _take([x[1] for x in LOCALES], locale)
    ip = shop.ips.take(pa.array(cust))
    has_campaign = person & (r["campaign"] >= 0) & (kind != EMAIL) & (kind != EMAIL_CLICK)
    which = np.maximum(r["campaign"], 0) % len(CAMPAIGNS)
    source = _null_unless(has_campaign, _take([c[0] for c in CAMPAIGNS], which))
    medium = _null_unless(has_campaign, _take([c[1] for c in CAMPAIGNS], which))
    cname = _null_unless(has_campaign, _take([c[2] for c in CAMPAIGNS], which))
    device_type = _null_unless(app, _take(["android", "ios"], ios.astype(np.int8)))
    os_name = _null_unless(app, _take(["Android", "iOS"], ios.astype(np.int8)))
    device_id = _null_unless(app, shop.device_ids.take(pa.array(cust)))
    app_version = _null_unless(app, pa.array(["4.2.0"] * n))
    paths = [_PATH_OF.get(k, "/") for k in range(len(KINDS))] + [p[1] for p in PAGES]
    path = _null_unless(web, _take(paths, np.where(kind == PAGE, len(KINDS) + r["page"], kind)))
    url = _null_unless(web, _cat("https://shop.example.vn", path))
    title = _null_unless(web, _cat(_take([p[0] for p in PAGES], r["page"]), " | Shop"))
    profile = shop.profile_ids.take(pa.array(r["profile"]))
    signed_in = r["known"] & (r["profile"] == cust)
    user = _null_unless(signed_in, _cat("user-", _num(cust)))
    anonymous = _null_unless(person, shop.anonymous_ids.take(pa.array(r["profile"])))
    traits = _null_unless(
        kind == IDENTIFY,
        _cat(
            '{"email":"customer',
            _num(cust),
            '@example.vn","plan":"',
            _take(["bronze", "silver", "gold"], cust % 3),
            '","city":"',
            _take(["Hà Nội", "TP. Hồ Chí Minh", "กรุงเทพมหานคร", "Đà Nẵng"], cust % 4),
            '"}',
        ),
    )
    context = _cat(
        '{"library":{"name":"',
        lib,
        '","version":"',
        version,
        '"},"ip":"',
        ip,
        '","locale":"',
        loc,
        '","timezone":"',
        zone,
        '"',
        _opt(person, ',"userAgent":"', pc.fill_null(ua, ""), '"'),
        _opt(
            web,
            ',"page":{"path":"',
            pc.fill_null(path, ""),
            '","url":"',
            pc.fill_null(url, ""),
            '","title":"',
            pc.fill_null(title, ""),
            '"}',
        ),
        _opt(
            has_campaign,
            ',"campaign":{"source":"',
            pc.fill_null(source, ""),
            '","medium":"',
            pc.fill_null(medium, ""),
            '","name":"',
            pc.fill_null(cname, ""),
            '"}',
        ),
        _opt(
            app,
            ',"device":{"type":"',
            pc.fill_null(device_type, ""),
            '","id":"',
            pc.fill_null(device_id, ""),
            '"},"os":{"name":"',
            pc.fill_null(os_name, ""),
            '"},"app":{"version":"4.2.0"}',
        ),
        _opt(kind == EMAIL, ',"channel":"email"'),
        "}",
    )
    names = pa.array([p[0] for p in PAGES])
    name = _null_unless(np.isin(kind, [PAGE, SCREEN]), names.take(pa.array(r["page"])))
    columns = {
        "message_id": uuid_strings(rng, n),
        "type": _TYPES.take(pa.array(kind)),
        "event": _EVENTS.take(pa.array(kind)),
        "name": name,
        "profile_id": profile,
        "user_id": user,
        "anonymous_id": anonymous,
        "timestamp": ts,
        "received_at": pa.array(r["ts"] + lag, store.TS),
        "original_timestamp": pa.array(np.where(person, r["ts"], 0), store.TS, mask=~person),
        "sent_at": pa.array(r["ts"] + lag // 2, store.TS),
        "channel": _take(CHANNELS, chan),
        "ip": ip,
        "library_name": lib,
        "library_version": version,
        "user_agent": ua,
        "locale": loc,
        "timezone": zone,
        "campaign_source": source,
        "campaign_medium": medium,
        "campaign_name": cname,
        "device_type": device_type,
        "device_id": device_id,
        "os_name": os_name,
        "app_version": app_version,
        "page_url": url,
        "page_path": path,
        "page_title": title,
        "properties": pa.concat_arrays(props),
        "traits": traits,
        "context": context,
    }
    return pa.table(
        {f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in store.SCHEMA},
        schema=store.SCHEMA,
    )


def generate(folder: Path, params: Params, say: Callable[[str], None]) -> Dataset:
    """Draw the history and write one file per month under ``folder / "events"``."""
    started = time.monotonic()
    rng = np.random.default_rng(params.seed)
    say(f"  drawing {params.events:,} events of {params.customers:,} customers")
    rows, merged_into = simulate(params, rng)
    c = params.customers
    count = c + len(merged_into)
    octets = rng.integers(1, 255, size=(c, 4))
    shop = _Shop(
        profile_ids=uuid_strings(rng, count),
        anonymous_ids=uuid_strings(rng, count),
        device_ids=uuid_strings(rng, c),
        ips=_cat(*[x for i in range(4) for x in ((".",) if i else ()) + (_num(octets[:, i]),)]),
        locale=rng.choice(len(LOCALES), c, p=[0.55, 0.3, 0.15]),
        ios=rng.random(c) < 0.5,
        price=(np.round(rng.lognormal(12.2, 0.7, PRODUCTS), -3)).astype(np.int64) + 1000,
    )
    workspace_id = uuid.uuid5(uuid.NAMESPACE_URL, f"cxloop-bench-analytics/{params.key}")
    root = folder / "events"
    month = rows["ts"].astype("datetime64[us]").astype("datetime64[M]")
    files = []
    for m in np.unique(month):
        pick = np.flatnonzero(month == m)
        pick = pick[np.argsort(rows["kind"][pick], kind="stable")]
        table = _table({k: v[pick] for k, v in rows.items()}, shop, rng)
        label = str(m)
        path = store.partition_dir(root, str(workspace_id), label) / f"part-{label}.parquet"
        stats = store.write_file(table, path)
        files.append(
            File(
                path=str(path.relative_to(root)),
                rows=stats.rows,
                bytes=stats.bytes,
                min_timestamp=stats.min_timestamp.isoformat(),
                max_timestamp=stats.max_timestamp.isoformat(),
            )
        )
        say(f"  wrote {label}: {stats.rows:,} events, {stats.bytes / 2**20:,.0f} MiB")
    ids = shop.profile_ids.to_pylist()
    merge_map = {ids[c + j]: ids[int(into)] for j, into in enumerate(merged_into)}
    return Dataset(
        params=params,
        root=root,
        workspace_id=workspace_id,
        files=files,
        merge_map=merge_map,
        profiles=ids,
        spend=spend(params, rng),
        events=len(rows["ts"]),
        seconds=time.monotonic() - started,
    )
