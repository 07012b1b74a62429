"""What each KPI counts: roles (``purchase``, ``signup``, ...) mapped to events.

The defaults follow Segment's semantic events (e-commerce v2, B2B SaaS, mobile, video and
email specs). Where a spec has no event for the idea (ads outside video, user-generated
content, listings, rating prompts) the default is a plain name in the same style; a
workspace can map any role to its own events (a list of matchers: any of them counts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cxloop.analytics.portable import Matcher, SpecError, number

Role = tuple[Matcher, ...]


def _m(event: str, **where: Any) -> Role:
    return (Matcher(event=event, where=where),)


DEFAULT_ROLES: dict[str, Role] = {
    # e-commerce (Segment e-commerce spec v2)
    "product_viewed": _m("Product Viewed"),
    "product_added": _m("Product Added"),
    "product_clicked": _m("Product Clicked"),
    "checkout": _m("Checkout Started"),
    "purchase": _m("Order Completed"),
    "refund": _m("Order Refunded"),
    "search": _m("Products Searched"),
    "review": _m("Product Reviewed"),
    "recommendation_shown": _m("Product List Viewed", list_id="recommended"),
    "recommendation_clicked": _m("Product Clicked", list_id="recommended"),
    "share": (Matcher(event="Product Shared"), Matcher(event="Cart Shared")),
    # B2B SaaS spec
    "signup": _m("Signed Up"),
    "referred_signup": _m("Signed Up", referrer={"exists": True}),
    "trial": _m("Trial Started"),
    "upgrade": _m("Subscription Upgraded"),
    # email spec
    "email_delivered": _m("Email Delivered"),
    "email_clicked": _m("Email Link Clicked"),
    # mobile spec
    "install": _m("Application Installed"),
    "open": _m("Application Opened"),
    "push_received": _m("Push Notification Received"),
    "push_tapped": _m("Push Notification Tapped"),
    "rating_prompt": _m("Rating Prompt Shown"),
    "rating_clicked": _m("Rating Prompt Clicked"),
    # media (video spec for content and ads; pages are content too)
    "content_view": (
        Matcher(type="page"),
        Matcher(type="screen"),
        Matcher(event="Video Content Started"),
    ),
    "ad_impression": (Matcher(event="Video Ad Started"), Matcher(event="Ad Viewed")),
    "ad_click": _m("Ad Clicked"),
    # user-generated content
    "content_created": _m("Content Created"),
    "content_shared": _m("Content Shared"),
    "content_viewed": _m("Content Viewed"),
    "engagement": (
        Matcher(event="Content Created"),
        Matcher(event="Content Liked"),
        Matcher(event="Comment Posted"),
        Matcher(event="Content Shared"),
    ),
    # two-sided marketplace
    "listing_created": _m("Listing Created"),
}

# The amount of money an event carries: Segment's ``revenue``, else ``total``, else ``value``.
MONEY_PROPERTIES = ("revenue", "total", "value")


def resolve(overrides: Mapping[str, Sequence[Matcher]] | None = None) -> dict[str, Role]:
    """The default roles with a workspace's own mapping laid over them."""
    roles = dict(DEFAULT_ROLES)
    for name, matchers in (overrides or {}).items():
        if name not in DEFAULT_ROLES:
            raise SpecError(f"mapping.{name}", "unknown role")
        if not matchers:
            raise SpecError(f"mapping.{name}", "give at least one event")
        for i, matcher in enumerate(matchers):
            matcher.check(f"mapping.{name}.{i}")
        roles[name] = tuple(matchers)
    return roles


def role_sql(role: Role) -> str:
    return "(" + " OR ".join(m.sql() for m in role) + ")"


def amount_sql(name: str) -> str:
    """A numeric property; ``revenue`` falls back to ``total`` and ``value``."""
    if name == "revenue":
        return "coalesce(" + ", ".join(number(p) for p in MONEY_PROPERTIES) + ")"
    return number(name)
