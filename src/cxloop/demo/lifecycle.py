"""A customer's year at the demo shop, one decision after another: arriving, signing up,
browsing, ordering, and what each delivery does to them.

The numbers that make one thing cause another are in :mod:`cxloop.demo.effects`; the
shop's own side (chats, surveys, emails, ...) is :class:`cxloop.demo.shop.ShopBase`.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from cxloop.demo import calendar, catalog
from cxloop.demo import effects as fx
from cxloop.demo.dataset import (
    APP,
    DELIVERY,
    FIRST_DEVICE,
    KIND,
    SECOND_DEVICE,
    STORE,
    WEB,
    Order,
)
from cxloop.demo.draws import cumulative
from cxloop.demo.shop import DAY, HOUR, MINUTE, SECOND, ShopBase, Story

PRODUCT_WEIGHTS = cumulative(catalog.PRODUCT_WEIGHTS)
CARRIER_WEIGHTS = [
    cumulative([c.share if c.country == country else 0.0 for c in catalog.CARRIERS])
    for country in (calendar.VN, calendar.TH)
]
PAYMENTS = [
    ([name for name, _ in table], cumulative([w for _, w in table]))
    for table in catalog.PAYMENT_METHODS
]


class Shop(ShopBase):
    """Writes everything that happens into ``events`` and the tables beside it."""

    order_prefix = "D"

    # -- sessions --------------------------------------------------------------------------

    def session(
        self,
        person: int,
        ts: int,
        platform: int,
        device: int,
        known: bool,
        *,
        source: int = -1,
        stage: int = 0,
        install: bool = False,
        order: int = -1,
        crash: float = 0.0,
    ) -> int:
        """Pages or screens, products looked at and how far towards an order it got
        (0 browsing, 1 added to cart, 2 cart, 3 checkout, 4 the order ``order``); returns
        when it ended."""
        draw, add = self.draw, self.events.add

        def emit(kind: str, ref: int = -1, ref2: int = -1) -> None:
            nonlocal ts
            ts += 20 * SECOND + draw.integer(70) * SECOND
            add(ts, KIND[kind], person, platform, device=device, known=known, ref=ref, ref2=ref2)

        if platform == APP:
            if install:
                emit("Application Installed")
            emit("Application Opened")
            for i in range(1 + draw.poisson(1.2)):
                emit("screen", 0 if i == 0 else draw.integer(len(catalog.APP_SCREENS)))
            if crash and draw.chance(crash):
                emit("Application Crashed")
        else:
            for i in range(1 + draw.poisson(1.1)):
                page = 0 if i == 0 else draw.integer(len(catalog.WEB_PAGES))
                emit("page", page, source if i == 0 else -1)
        if draw.chance(0.25):
            emit("Product List Viewed")
            if draw.chance(0.3):
                emit("Product Clicked", draw.weighted(PRODUCT_WEIGHTS))
        items = self.orders[order].items if order >= 0 else []
        looked = [draw.weighted(PRODUCT_WEIGHTS) for _ in range(draw.poisson(1.0))]
        looked += [product for product, _ in items]
        if stage >= 1 and not items:
            looked.append(draw.weighted(PRODUCT_WEIGHTS))
        for product in looked:
            emit("Product Viewed", product)
        if stage >= 1:
            for product, quantity in items or [(looked[-1], 1)]:
                emit("Product Added", product, quantity)
        if stage >= 2:
            emit("Cart Viewed", looked[-1], order)
        if stage >= 3:
            emit("Checkout Started", looked[-1], order)
        if stage >= 4:
            emit("Order Completed", order)
            self.orders[order].placed_us = ts
        return ts

    # -- arriving and signing up -----------------------------------------------------------

    def arrive(self, person: int, source: int) -> None:
        """A visitor's sessions before signing up (or leaving); the last one signs up."""
        people, draw = self.people, self.draw
        platform = people.platform[person]
        signed_up = people.signed_up_us[person]
        ts = people.arrived_us[person]
        first = True
        while True:
            signing = signed_up >= 0 and ts >= signed_up - HOUR
            crash = 0.0
            if platform == APP and self.in_bad_window(ts):
                crash = fx.CRASH_AT_SIGNUP_BAD if signing or signed_up < 0 else 0.3
            end = self.session(
                person,
                ts,
                platform,
                FIRST_DEVICE,
                False,
                source=source if first else -1,
                install=first and platform == APP,
                crash=crash,
            )
            first = False
            if signing:
                self.sign_up(person, end + 30 * SECOND, platform)
                return
            if signed_up >= 0:
                ts = signed_up
                continue
            ts += int(draw.exp(1.5 * DAY)) + HOUR
            if ts >= self.end or not draw.chance(0.3):
                return

    def sign_up(self, person: int, ts: int, platform: int) -> None:
        self.people.signed_up_us[person] = ts
        self.events.add(
            ts,
            KIND["Signed Up"],
            person,
            platform,
            device=FIRST_DEVICE,
            ref=self.draw.integer(3),
            ref2=self.people.referrer[person],
        )
        self.events.add(ts + SECOND, KIND["identify"], person, platform, device=FIRST_DEVICE)

    # -- a customer's year -----------------------------------------------------------------

    def live(self, person: int) -> None:
        """Everything a customer does after signing up, until the end of the period."""
        people, draw = self.people, self.draw
        signed_up = people.signed_up_us[person]
        mood = draw.normal()
        story = Story()
        gap = 38 * DAY * math.exp(0.5 * draw.normal())
        browse_per_day = 0.03 * math.exp(0.5 * draw.normal())
        second_from = self.end
        if draw.chance(0.18):
            second_from = signed_up + int(draw.exp(60 * DAY)) + DAY
            if second_from < self.end:
                self.switch_device(person, second_from)
        store_visitor = people.city[person] in catalog.STORE_CITIES and draw.chance(0.3)
        bad_install = people.installed_bad_release[person]
        ts: int | None = None
        if draw.chance(fx.FIRST_ORDER_BAD if bad_install else fx.FIRST_ORDER):
            ts = signed_up + (2 * MINUTE if draw.chance(0.45) else int(draw.exp(4 * DAY)))
        while ts is not None and ts < self.end:
            channel, device = self.order_channel(person, ts, second_from, store_visitor)
            if self.place_order(person, ts, channel, device, mood, story):
                break
            ts = self.next_order(person, ts, gap)
        stopped = story.churned_at if story.churned_at is not None else self.end
        self.browse(person, signed_up, stopped, browse_per_day, second_from, story)
        quiet = browse_per_day * fx.CHURNED_BROWSING
        self.browse(person, stopped, self.end, quiet, second_from, story)
        self.read_emails(person, signed_up, stopped, mood)
        if store_visitor:
            self.visit_store(person, signed_up, stopped)
        self.update_app(person, signed_up, stopped, second_from)
        self.relationship_nps(person, signed_up, mood, story)
        if people.platform[person] == APP and draw.chance(fx.ANSWER_APP):
            self.app_survey(person, signed_up, mood, bad_install)

    def switch_device(self, person: int, ts: int) -> None:
        """A customer starts using the other platform: anonymous at first, then logs in."""
        other = WEB if self.people.platform[person] == APP else APP
        end = self.session(person, ts, other, SECOND_DEVICE, False, install=other == APP)
        self.events.add(end + 20 * SECOND, KIND["identify"], person, other, device=SECOND_DEVICE)

    def device_for(self, person: int, ts: int, second_from: int) -> tuple[int, int]:
        first = self.people.platform[person]
        if ts > second_from and self.draw.chance(0.5):
            return (WEB if first == APP else APP), SECOND_DEVICE
        return first, FIRST_DEVICE

    def order_channel(
        self, person: int, ts: int, second_from: int, store_visitor: bool
    ) -> tuple[int, int]:
        if store_visitor and self.draw.chance(0.25):
            return STORE, FIRST_DEVICE
        return self.device_for(person, ts, second_from)

    def next_order(self, person: int, ts: int, gap: float) -> int | None:
        """The next order: more likely on the days people shop more (thinning by demand)."""
        country = self.people.country[person]
        peak = self.peak[country]
        while ts < self.end:
            ts += int(self.draw.exp(gap / peak))
            day = self.day_index(ts)
            if ts < self.end and self.draw.chance(self.demand[country][day] / peak):
                return self.moment(day)
        return None

    def browse(
        self, person: int, since: int, until: int, per_day: float, second: int, story: Story
    ) -> None:
        draw = self.draw
        for _ in range(draw.poisson(per_day * max(0, until - since) / DAY)):
            ts = self.moment(self.day_index(since + int(draw.uniform() * (until - since))))
            platform, device = self.device_for(person, ts, second)
            crash = fx.CRASH_IN_SESSION_BAD if platform == APP and self.in_bad_window(ts) else 0
            roll = draw.uniform()
            stage = 0 if roll < 0.72 else 1 if roll < 0.86 else 2 if roll < 0.93 else 3
            end = self.session(person, ts, platform, device, True, stage=stage, crash=crash)
            if crash and draw.chance(fx.CHAT_IF_CRASH):
                story.problems.append((end, "app"))
                self.chat(person, end + HOUR, "app_problem", -1, fx.SOLVED_APP, 0.0, story)

    # -- orders ----------------------------------------------------------------------------

    def place_order(
        self, person: int, ts: int, channel: int, device: int, mood: float, story: Story
    ) -> bool:
        """Place, ship and deliver an order and live with the outcome; True when the
        customer decides, after it, never to order again."""
        draw, people = self.draw, self.people
        country = people.country[person]
        day = self.cal.start.date() + timedelta(days=self.day_index(ts))
        sale = calendar.is_sale_day(day)
        items: dict[int, int] = {}
        for _ in range(1 + draw.chance(0.3) + draw.chance(0.12)):
            items[draw.weighted(PRODUCT_WEIGHTS)] = 2 if draw.chance(0.1) else 1
        total = sum(catalog.PRODUCTS[p].price * q for p, q in items.items())
        names, weights = PAYMENTS[country]
        index = len(self.orders)
        order = Order(
            person=person,
            order_id=f"{calendar.COUNTRIES[country]}-{self.order_prefix}{index + 1:07d}",
            placed_us=ts,
            channel=channel,
            items=list(items.items()),
            revenue=round(total * (0.85 if sale else 1.0), 2),
            payment=names[draw.weighted(weights)],
            coupon=f"{day.month}.{day.day} SALE" if sale else None,
        )
        self.orders.append(order)
        if channel == STORE:
            store = catalog.STORE_CITIES[people.city[person]]
            self.events.add(ts, KIND["Store Visited"], person, STORE, ref=store)
            order.placed_us = ts + 15 * MINUTE
            self.events.add(order.placed_us, KIND["Order Completed"], person, STORE, ref=index)
            return self.decide(order, mood, story, order.placed_us, solved=False)
        self.session(person, ts, channel, device, True, stage=4, order=index)
        if draw.chance(0.03):
            order.cancelled_us = order.placed_us + int((0.1 + 0.9 * draw.uniform()) * DAY)
            if order.cancelled_us < self.end:
                self.events.add(
                    order.cancelled_us, KIND["Order Cancelled"], person, DELIVERY, ref=index
                )
            return False
        self.deliver(order, index, sale)
        if order.delivered_us < 0 or order.delivered_us >= self.end:
            return False
        solved = self.after_delivery(order, index, mood, story)
        return self.decide(order, mood, story, order.delivered_us, solved=solved)

    def deliver(self, order: Order, index: int, sale: bool) -> None:
        """Ship the order and bring it, on time or late: more often late when parcels pile
        up after a sale or when the couriers stop for Tết or Songkran."""
        draw, person = self.draw, order.person
        country = self.people.country[person]
        carrier_index = draw.weighted(CARRIER_WEIGHTS[country])
        order.carrier = carrier_index
        order.shipped_us = order.placed_us + int((0.3 + 1.2 * draw.uniform() + sale) * DAY)
        if order.shipped_us >= self.end:
            return
        self.events.add(order.shipped_us, KIND["Order Shipped"], person, DELIVERY, ref=index)
        promised = self.cal.day_of(order.shipped_us) + timedelta(days=2)
        order.promised = promised
        factor = catalog.CARRIERS[carrier_index].late_factor
        pressure = self.pressure[country][self.day_index(order.placed_us)]
        order.late = draw.chance(calendar.late_probability(pressure, country, factor))
        arrival = self.midnight(promised)
        if order.late:
            order.delay_days = 1 + min(9, draw.poisson(1.3))
            arrival += order.delay_days * DAY
        else:
            arrival -= DAY * draw.integer(2)
        arrival += 2 * HOUR + draw.integer(10 * 60) * MINUTE  # 9:00 to 19:00 local time
        order.delivered_us = max(order.shipped_us + 6 * HOUR, arrival)
        order.defective = any(draw.chance(catalog.PRODUCTS[p].defect_rate) for p, _ in order.items)
        if order.delivered_us < self.end:
            self.events.add(
                order.delivered_us, KIND["Order Delivered"], person, DELIVERY, ref=index
            )

    def midnight(self, day: date) -> int:
        return self.start + (day - self.cal.start.date()).days * DAY

    def after_delivery(self, order: Order, index: int, mood: float, story: Story) -> bool:
        """Chats, refunds, the survey, a review, a referral; True when a chat about a
        problem with the order solved it."""
        draw, person, at = self.draw, order.person, order.delivered_us
        solved = False
        if order.late and order.promised is not None:
            story.problems.append((at, "late"))
            if draw.chance(fx.CHAT_IF_LATE):
                asked = self.midnight(order.promised) + 10 * HOUR
                solved = self.chat(
                    person, asked, "late_delivery", index, fx.SOLVED_LATE, mood, story
                )
        if order.defective:
            story.problems.append((at, "defect"))
            if draw.chance(fx.CHAT_IF_DEFECT):
                asked = at + int(draw.exp(12 * HOUR))
                solved = self.chat(
                    person, asked, "defective_item", index, fx.SOLVED_DEFECT, mood, story
                )
            if draw.chance(0.8):
                order.refunded_us = at + (2 + draw.integer(5)) * DAY
                if order.refunded_us < self.end:
                    self.events.add(
                        order.refunded_us, KIND["Order Refunded"], person, DELIVERY, ref=index
                    )
        elif draw.chance(fx.CHAT_OTHER):
            asked = at + int(draw.exp(DAY))
            self.chat(person, asked, "order_question", index, fx.SOLVED_OTHER, mood, story)
        if draw.chance(fx.ANSWER_DELIVERY):
            self.delivery_survey(order, index, mood, solved)
        if draw.chance(fx.REVIEW + fx.REVIEW_IF_DEFECT * order.defective):
            self.review(order, index, mood)
        if not order.late and not order.defective and mood > 0.3 and draw.chance(fx.REFERRAL):
            ts = at + (1 + draw.integer(10)) * DAY
            if ts < self.end:
                self.events.add(
                    ts,
                    KIND["Referral Sent"],
                    person,
                    self.people.platform[person],
                    ref=draw.integer(len(catalog.REFERRAL_CHANNELS)),
                )
                self.referrals.append((person, ts))
        return solved

    def decide(self, order: Order, mood: float, story: Story, at: int, *, solved: bool) -> bool:
        """Whether the customer stops ordering after this order: the churn effect."""
        chance = fx.CHURN_BASE - fx.CHURN_MOOD * mood
        if order.late:
            chance += fx.CHURN_LATE * (1 - fx.SOLVED_LATE_SHARE * solved)
            chance += fx.CHURN_LATE_LONG * (order.delay_days > 3)
        if order.defective:
            chance += fx.CHURN_DEFECT * (1 - fx.SOLVED_DEFECT_SHARE * solved)
        if self.draw.chance(min(0.9, max(0.03, chance))):
            story.churned_at = at
            return True
        return False
