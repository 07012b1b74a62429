"""Events that happen *to* a customer (an email delivered, a push received) are no action:
they make nobody active, keep nobody from churning and break no strict chain of steps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cxloop.analytics.funnels import FunnelSpec, Order
from cxloop.analytics.funnels import run as funnel
from cxloop.analytics.paths import PathSpec
from cxloop.analytics.paths import run as paths
from cxloop.analytics.portable import PASSIVE_EVENTS, Matcher
from cxloop.analytics.retention import ChurnSpec, RetentionSpec, churn, retention
from tests.fixtures.events import T0, engine, ev

D, H = timedelta(days=1), timedelta(hours=1)
MON = T0.date()


def test_the_defaults_are_segments_email_and_push_deliveries() -> None:
    assert set(PASSIVE_EVENTS) == {
        "Email Delivered",
        "Email Bounced",
        "Push Notification Received",
        "Push Notification Bounced",
    }


def test_a_subscriber_who_only_receives_emails_churns_and_starts_no_cohort(tmp_path: Path) -> None:
    rows = [
        ev("reader", "Page", T0 - D),
        ev("reader", "Email Opened", T0 + 8 * D),  # an open is an action
        ev("quiet", "Page", T0 - D),
        *(ev("quiet", "Email Delivered", T0 + i * D) for i in range(10)),
        ev("listed", "Email Delivered", T0),  # on the list, never did anything
        ev("listed", "Push Notification Received", T0 + D),
    ]
    eng = engine(tmp_path, rows)
    result = churn(eng, ChurnSpec(start=MON, end=MON + 9 * D, inactive_days=7))
    assert (result.overall.active_at_start, result.overall.churned) == (2, 1)
    assert result.churned_sample == ["quiet"]
    cohorts = retention(eng, RetentionSpec(start=MON - 7 * D, end=MON + 6 * D, periods=1))
    assert sum(c.customers for c in cohorts.cohorts) == 2  # reader and quiet, not listed
    # asked for by name, a passive event still counts
    delivered = churn(eng, ChurnSpec(MON, MON + 9 * D, 7, activity=Matcher("Email Delivered")))
    assert delivered.overall.churned == 0


def test_a_delivery_between_two_steps_breaks_no_strict_chain(tmp_path: Path) -> None:
    rows = [
        ev("a", "Product Viewed", T0),
        ev("a", "Email Delivered", T0 + H),
        ev("a", "Product Added", T0 + 2 * H),
        ev("b", "Product Viewed", T0),
        ev("b", "Page", T0 + H),  # an action: b's add is not the next one
        ev("b", "Product Added", T0 + 2 * H),
        # a passive event as a step is read like any step
        ev("c", "Email Delivered", T0),
        ev("c", "Email Link Clicked", T0 + H),
    ]
    eng = engine(tmp_path, rows)
    day = T0.date()

    def counts(*steps: str) -> list[int]:
        spec = FunnelSpec(steps=[Matcher(s) for s in steps], start=day, end=day, order=Order.STRICT)
        return [s.customers for s in funnel(eng, spec).steps]

    assert counts("Product Viewed", "Product Added") == [2, 1]
    assert counts("Email Delivered", "Email Link Clicked") == [2, 1]  # a and c; c clicked


def test_paths_skip_deliveries(tmp_path: Path) -> None:
    rows = [
        ev("a", "View", T0),
        ev("a", "Email Delivered", T0 + H),
        ev("a", "Add", T0 + 2 * H),
    ]
    result = paths(engine(tmp_path, rows), PathSpec(anchor=Matcher("View"), start=MON, end=MON))
    assert [i.key for i in result.steps[0].items] == ["Add"]
