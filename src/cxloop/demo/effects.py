"""The causal structure of the demo shop, in one place: every number the simulator uses to
decide what an experience does to a customer. docs/demo.md explains each one and what the
dashboard should therefore find.
"""

from __future__ import annotations

# -- churn: the chance of placing no further order after a delivered order -------------------
CHURN_BASE = 0.14
CHURN_LATE = 0.24  # added after a late delivery
CHURN_LATE_LONG = 0.04  # added again when it was more than three days late
CHURN_DEFECT = 0.30  # added after a broken or wrong item
CHURN_MOOD = 0.04  # taken away per standard deviation of the customer's good mood
SOLVED_LATE_SHARE = 0.75  # share of the late delivery's extra churn a solved chat removes
SOLVED_DEFECT_SHARE = 0.6  # share of the broken item's extra churn a solved chat removes
CHURNED_BROWSING = 0.2  # a customer who stopped ordering still browses, this much as often

# -- post-delivery survey: CSAT (1-5) and NPS (0-10) -----------------------------------------
CSAT_MEAN, CSAT_MOOD, CSAT_NOISE = 4.35, 0.35, 0.55
CSAT_LATE, CSAT_PER_DAY, CSAT_DEFECT, CSAT_SOLVED = 1.5, 0.25, 1.9, 0.5
NPS_MEAN, NPS_MOOD, NPS_NOISE = 8.3, 1.0, 1.3
NPS_LATE, NPS_PER_DAY, NPS_DEFECT, NPS_SOLVED = 2.6, 0.35, 3.0, 1.0

# -- relationship NPS: what the last 120 days did to the customer ----------------------------
REL_MEAN, REL_MOOD, REL_NOISE = 8.1, 1.1, 1.4
REL_LATE = 1.6  # per late delivery, at most two counted
REL_DEFECT, REL_UNSOLVED, REL_SOLVED, REL_CHURNED = 1.8, 2.2, 0.5, 1.2

# -- support chats ---------------------------------------------------------------------------
CHAT_IF_LATE, CHAT_IF_DEFECT, CHAT_OTHER, CHAT_IF_CRASH = 0.30, 0.65, 0.03, 0.04
SOLVED_LATE, SOLVED_DEFECT, SOLVED_APP, SOLVED_OTHER = 0.65, 0.75, 0.50, 0.90
CHAT_CSAT_SOLVED, CHAT_CSAT_UNSOLVED, CHAT_CSAT_MOOD, CHAT_CSAT_NOISE = 4.3, 1.9, 0.3, 0.65

# -- the app release 3.2.0: sign-up crashes for three weeks ----------------------------------
SIGNUP_WEB = 0.30  # share of web visitors who sign up
SIGNUP_APP = 0.50  # share of app installs that sign up
SIGNUP_APP_BAD = 0.22  # ... when installed while 3.2.0 was current
SIGNUP_REFERRED = 0.15  # added for visitors a friend referred
FIRST_ORDER, FIRST_ORDER_BAD = 0.72, 0.50  # share of new customers who order at all
APP_CSAT_MEAN, APP_CSAT_BAD, APP_CSAT_MOOD, APP_CSAT_NOISE = 4.1, 2.3, 0.4, 0.7
CRASH_AT_SIGNUP_BAD, CRASH_IN_SESSION_BAD = 0.6, 0.12

# -- reviews and referrals -------------------------------------------------------------------
REVIEW, REVIEW_IF_DEFECT = 0.03, 0.24
RATING_MEAN, RATING_MOOD, RATING_DEFECT, RATING_LATE, RATING_NOISE = 4.4, 0.4, 2.5, 0.6, 0.7
REFERRAL = 0.10  # after a good delivery, by customers in a good mood
REFERRAL_JOINS = 0.35  # share of referrals that bring the friend to the shop

# -- who answers the surveys and who writes a comment ----------------------------------------
ANSWER_DELIVERY, ANSWER_CHAT, ANSWER_APP = 0.10, 0.35, 0.20
INVITE_RELATIONSHIP, ANSWER_RELATIONSHIP, ANSWER_RELATIONSHIP_CHURNED = 0.30, 0.22, 0.08
COMMENT_DELIVERY, COMMENT_CHAT, COMMENT_APP, COMMENT_REVIEW = 0.22, 0.3, 0.3, 0.4
COMMENT_DETRACTOR, COMMENT_PASSIVE, COMMENT_PROMOTER = 0.45, 0.25, 0.3

# -- email -----------------------------------------------------------------------------------
OPTED_IN, OPEN, OPEN_MOOD, OPEN_CHURNED, CLICK = 0.85, 0.28, 0.05, 0.06, 0.20
