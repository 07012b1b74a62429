"""The shop's side of a customer's year: support chats, reviews, the surveys it sends and
the answers they get, newsletters, showroom visits and app updates.

:class:`cxloop.demo.lifecycle.Shop` adds browsing and orders on top of this.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cxloop.demo import calendar, catalog
from cxloop.demo import effects as fx
from cxloop.demo.comments import comment, sentiment_of_csat, sentiment_of_nps
from cxloop.demo.dataset import (
    APP,
    CHAT,
    EMAIL,
    FIRST_DEVICE,
    KIND,
    LANGUAGES,
    NO_DEVICE,
    SECOND_DEVICE,
    STORE,
    WEB,
    Answer,
    Campaign,
    Chat,
    Events,
    Order,
    People,
    Review,
)
from cxloop.demo.draws import Stream, cumulative

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
EMAIL_LANDING = -2  # ``ref2`` of a page reached from a newsletter
# hours of the day (local time, UTC+7) when people shop
LOCAL_HOURS = [
    *(0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.2, 1.3, 1.3, 1.5),  # 0:00 to 11:00
    *(1.7, 1.5, 1.3, 1.3, 1.4, 1.5, 1.6, 1.9, 2.2, 2.3, 1.8, 0.9),  # 12:00 to 23:00
]
HOUR_WEIGHTS = cumulative([LOCAL_HOURS[(h + 7) % 24] for h in range(24)])  # by UTC hour
PROMOTER_THEMES = (("general", "delivery", "product_quality", "price"), (0.3, 0.3, 0.25, 0.15))
PASSIVE_THEMES = (("price", "delivery", "app_website"), (0.45, 0.35, 0.2))
DELIVERY_THEMES = {
    "positive": (("delivery", "product_quality", "price", "general"), (0.45, 0.3, 0.1, 0.15)),
    "neutral": (("delivery", "price", "product_quality"), (0.35, 0.4, 0.25)),
    "negative": (("product_quality", "price", "delivery"), (0.4, 0.3, 0.3)),
}
# a detractor's main complaint: (survey choice, comment theme) by what happened to them
REASONS = {
    "late": ("delivery", "delivery"),
    "defect": ("product", "product_quality"),
    "unsolved": ("service", "customer_support"),
    "app": ("website_app", "app_website"),
}


@dataclass
class Story:
    """What happened to a customer, for the surveys that ask them later."""

    problems: list[tuple[int, str]] = field(default_factory=list)  # (time, kind)
    churned_at: int | None = None

    def recent(self, now: int, kind: str, days: int = 120) -> int:
        return sum(1 for ts, k in self.problems if k == kind and now - days * DAY <= ts < now)


def clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


class ShopBase:
    def __init__(
        self,
        cal: calendar.Calendar,
        draw: Stream,
        people: People,
        demand: list[list[float]],
        campaigns: list[Campaign],
        waves: list[int],
    ) -> None:
        self.cal, self.draw, self.people, self.demand = cal, draw, people, demand
        self.peak = [max(days) for days in demand]  # for thinning: the busiest day
        self.campaigns = campaigns
        self.campaign_times = [c.sent_us for c in campaigns]
        self.waves = waves
        self.start = calendar.to_micros(cal.start)
        self.end = calendar.to_micros(cal.end)
        self.days = cal.days
        first = cal.start.date()
        self.pressure = [
            [calendar.late_pressure(first + timedelta(days=i), c) for i in range(cal.days)]
            for c in (calendar.VN, calendar.TH)
        ]
        self.releases = [
            (i, calendar.to_micros(datetime.combine(r.day, datetime.min.time(), UTC)))
            for i, r in enumerate(cal.releases)
        ]
        self.events = Events()
        self.orders: list[Order] = []
        self.chats: list[Chat] = []
        self.reviews: list[Review] = []
        self.answers: list[Answer] = []
        self.referrals: list[tuple[int, int]] = []  # (referrer, time)
        bad_from, bad_until = cal.bad_window
        self.bad = (calendar.to_micros(bad_from), calendar.to_micros(bad_until))

    # -- time ------------------------------------------------------------------------------

    def day_index(self, ts: int) -> int:
        return max(0, min(self.days - 1, (ts - self.start) // DAY))

    def moment(self, day: int) -> int:
        """A time on ``day`` (index into the period) at an hour people shop."""
        hour = self.draw.weighted(HOUR_WEIGHTS)
        return self.start + day * DAY + hour * HOUR + self.draw.integer(HOUR // SECOND) * SECOND

    def in_bad_window(self, ts: int) -> bool:
        return self.bad[0] <= ts < self.bad[1]

    def language(self, person: int) -> str:
        return LANGUAGES[self.people.language[person]]

    def theme(self, choices: tuple[tuple[str, ...], tuple[float, ...]]) -> str:
        names, weights = choices
        return names[self.draw.weighted(cumulative(weights))]

    # -- support ---------------------------------------------------------------------------

    def chat(
        self,
        person: int,
        ts: int,
        reason: str,
        order: int,
        solve_chance: float,
        mood: float,
        story: Story,
    ) -> bool:
        """A support chat; True when it solved the problem."""
        draw = self.draw
        if ts >= self.end:
            return False
        solved = draw.chance(solve_chance)
        ended = ts + (4 + draw.integer(30)) * MINUTE
        index = len(self.chats)
        self.chats.append(Chat(person, ts, ended, reason, order, solved))
        self.events.add(ts, KIND["Support Chat Started"], person, CHAT, ref=index)
        self.events.add(ended, KIND["Support Chat Ended"], person, CHAT, ref=index)
        story.problems.append((ts, "solved" if solved else "unsolved"))
        if not draw.chance(fx.ANSWER_CHAT):
            return solved
        mean = fx.CHAT_CSAT_SOLVED if solved else fx.CHAT_CSAT_UNSOLVED
        score = clip(mean + fx.CHAT_CSAT_MOOD * mood + fx.CHAT_CSAT_NOISE * draw.normal(), 1, 5)
        answers: dict[str, object] = {"csat": score}
        if draw.chance(fx.COMMENT_CHAT):
            theme = "customer_support"
            if reason == "late_delivery" and not solved and draw.chance(0.3):
                theme = "delivery"
            answers["comment"] = comment(
                draw, self.language(person), theme, sentiment_of_csat(score), days=3
            )
        self.answer("support_chat", person, ended + int(draw.exp(2 * HOUR)), "chat", answers)
        return solved

    def answer(
        self,
        survey: str,
        person: int,
        ts: int,
        channel: str,
        answers: dict[str, object],
        about: int = -1,
    ) -> None:
        if ts < self.end:
            self.answers.append(
                Answer(survey, person, ts, channel, self.language(person), answers, about)
            )

    # -- after a delivery ------------------------------------------------------------------

    def delivery_survey(self, order: Order, index: int, mood: float, solved: bool) -> None:
        draw = self.draw
        late, defect = float(order.late), float(order.defective)
        extra = max(0, order.delay_days - 1)
        fixed = float(bool(order.defective and solved))
        csat = clip(
            fx.CSAT_MEAN
            + fx.CSAT_MOOD * mood
            - fx.CSAT_LATE * late
            - fx.CSAT_PER_DAY * extra
            - fx.CSAT_DEFECT * defect
            + fx.CSAT_SOLVED * fixed
            + fx.CSAT_NOISE * draw.normal(),
            1,
            5,
        )
        nps = clip(
            fx.NPS_MEAN
            + fx.NPS_MOOD * mood
            - fx.NPS_LATE * late
            - fx.NPS_PER_DAY * extra
            - fx.NPS_DEFECT * defect
            + fx.NPS_SOLVED * fixed
            + fx.NPS_NOISE * draw.normal(),
            0,
            10,
        )
        answers: dict[str, object] = {"csat": csat, "nps": nps}
        sentiment = sentiment_of_csat(csat)
        if draw.chance(fx.COMMENT_DELIVERY + 0.2 * (csat <= 2)):
            if order.late:
                theme = "delivery"
            elif order.defective:
                theme = "product_quality"
            else:
                theme = self.theme(DELIVERY_THEMES[sentiment])
            product = catalog.PRODUCTS[order.items[0][0]].name
            carrier = catalog.CARRIERS[order.carrier].name if order.carrier >= 0 else ""
            answers["comment"] = comment(
                draw,
                self.language(order.person),
                theme,
                sentiment,
                days=order.delay_days,
                product=product,
                carrier=carrier,
            )
        channel = "app" if order.channel == APP else "email"
        ts = order.delivered_us + HOUR + int(draw.exp(20 * HOUR))
        self.answer("delivery", order.person, ts, channel, answers, index)

    def review(self, order: Order, index: int, mood: float) -> None:
        draw, person = self.draw, order.person
        ts = order.delivered_us + (1 + draw.integer(5)) * DAY
        if ts >= self.end:
            return
        rating = clip(
            fx.RATING_MEAN
            + fx.RATING_MOOD * mood
            - fx.RATING_DEFECT * order.defective
            - fx.RATING_LATE * order.late
            + fx.RATING_NOISE * draw.normal(),
            1,
            5,
        )
        product = order.items[0][0]
        body = None
        if draw.chance(fx.COMMENT_REVIEW):
            theme = "delivery" if order.late and draw.chance(0.4) else "product_quality"
            body = comment(
                draw,
                self.language(person),
                theme,
                sentiment_of_csat(rating),
                days=order.delay_days,
                product=catalog.PRODUCTS[product].name,
            )
        self.reviews.append(Review(person, index, product, rating, body))
        self.events.add(
            ts,
            KIND["Product Reviewed"],
            person,
            self.people.platform[person],
            ref=len(self.reviews) - 1,
        )

    # -- asked later -----------------------------------------------------------------------

    def relationship_nps(self, person: int, since: int, mood: float, story: Story) -> None:
        """The quarterly NPS survey by email, to a sample of customers."""
        draw = self.draw
        for wave in self.waves:
            if wave < since + 21 * DAY or not draw.chance(fx.INVITE_RELATIONSHIP):
                continue
            gone = story.churned_at is not None and story.churned_at + 30 * DAY < wave
            if not draw.chance(fx.ANSWER_RELATIONSHIP_CHURNED if gone else fx.ANSWER_RELATIONSHIP):
                continue
            ts = wave + HOUR + int(draw.exp(2 * DAY))
            counts = {kind: story.recent(ts, kind) for kind in ("late", "defect", "unsolved")}
            counts["solved"] = story.recent(ts, "solved")
            counts["app"] = story.recent(ts, "app")
            score = clip(
                fx.REL_MEAN
                + fx.REL_MOOD * mood
                - fx.REL_LATE * min(2, counts["late"])
                - fx.REL_DEFECT * min(1, counts["defect"])
                - fx.REL_UNSOLVED * min(1, counts["unsolved"])
                + fx.REL_SOLVED * min(1, counts["solved"])
                - fx.REL_CHURNED * gone
                + fx.REL_NOISE * draw.normal(),
                0,
                10,
            )
            self.answer(
                "relationship", person, ts, "email", self.nps_answers(person, score, counts)
            )

    def nps_answers(self, person: int, score: int, counts: dict[str, int]) -> dict[str, object]:
        draw, language = self.draw, self.language(person)
        answers: dict[str, object] = {"nps": score}
        sentiment = sentiment_of_nps(score)
        if score <= 6:
            found = [kind for kind in ("late", "defect", "unsolved", "app") if counts[kind]]
            choice, theme = REASONS[found[0]] if found else ("price", "price")
            if draw.chance(0.7):
                answers["detractor_reason"] = choice
            if draw.chance(fx.COMMENT_DETRACTOR):
                answers["detractor_comment"] = comment(draw, language, theme, sentiment, days=3)
        elif score <= 8:
            if draw.chance(fx.COMMENT_PASSIVE):
                theme = self.theme(PASSIVE_THEMES)
                answers["passive_improve"] = comment(draw, language, theme, sentiment)
        else:
            if draw.chance(fx.COMMENT_PROMOTER):
                theme = self.theme(PROMOTER_THEMES)
                answers["promoter_highlight"] = comment(draw, language, theme, sentiment)
            if draw.chance(0.3):
                answers["promoter_review"] = "yes" if draw.chance(0.5) else "later"
        return answers

    def app_survey(self, person: int, signed_up: int, mood: float, bad: bool) -> None:
        """The in-app CSAT a day after signing up in the app."""
        draw = self.draw
        mean = fx.APP_CSAT_BAD if bad else fx.APP_CSAT_MEAN
        score = clip(mean + fx.APP_CSAT_MOOD * mood + fx.APP_CSAT_NOISE * draw.normal(), 1, 5)
        answers: dict[str, object] = {"csat": score}
        if draw.chance(fx.COMMENT_APP):
            answers["comment"] = comment(
                draw, self.language(person), "app_website", sentiment_of_csat(score)
            )
        ts = signed_up + 2 * HOUR + int(draw.exp(DAY))
        self.answer("app_onboarding", person, ts, "app", answers)

    # -- the shop reaching out ---------------------------------------------------------------

    def read_emails(self, person: int, since: int, stopped: int, mood: float) -> None:
        draw, add = self.draw, self.events.add
        if not draw.chance(fx.OPTED_IN):
            return
        for index in range(bisect_left(self.campaign_times, since), len(self.campaigns)):
            sent = self.campaign_times[index]
            # every campaign reaches the inbox of whoever opted in, a minute or so after it is
            # sent (no draw: the rest of the shop stays as it was)
            delivered = sent + (1 + person % 90) * SECOND
            if delivered < self.end:
                add(delivered, KIND["Email Delivered"], person, EMAIL, ref=index)
            chance = fx.OPEN + fx.OPEN_MOOD * mood if sent < stopped else fx.OPEN_CHURNED
            if not draw.chance(chance):
                continue
            opened = max(sent + int(draw.exp(8 * HOUR)), delivered + SECOND)
            if opened >= self.end:
                continue
            add(opened, KIND["Email Opened"], person, EMAIL, ref=index)
            if draw.chance(fx.CLICK):
                clicked = opened + (1 + draw.integer(240)) * SECOND
                add(clicked, KIND["Email Link Clicked"], person, EMAIL, ref=index)
                add(
                    clicked + 3 * SECOND,
                    KIND["page"],
                    person,
                    WEB,
                    device=NO_DEVICE,
                    ref=1,
                    ref2=EMAIL_LANDING,
                )

    def visit_store(self, person: int, since: int, stopped: int) -> None:
        draw = self.draw
        store = catalog.STORE_CITIES[self.people.city[person]]
        for _ in range(draw.poisson(0.5 / 30 * max(0, stopped - since) / DAY)):
            ts = self.moment(self.day_index(since + int(draw.uniform() * (stopped - since))))
            self.events.add(ts, KIND["Store Visited"], person, STORE, ref=store)

    def update_app(self, person: int, since: int, stopped: int, second_from: int) -> None:
        """App users update to each new release within days of it (while still around)."""
        first_app = self.people.platform[person] == APP
        if not first_app and second_from >= self.end:
            return
        device = FIRST_DEVICE if first_app else SECOND_DEVICE
        begin = since if first_app else second_from
        for index, released in self.releases[1:]:
            if released <= begin or released >= min(self.end, stopped + 30 * DAY):
                continue
            if self.draw.chance(0.75):
                ts = released + int(self.draw.exp(3 * DAY))
                if ts < self.end:
                    self.events.add(
                        ts, KIND["Application Updated"], person, APP, device=device, ref=index
                    )
