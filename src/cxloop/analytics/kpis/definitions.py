"""The KPI packs: for each business model, the figures that tell how it is doing.

The lists follow the usual grouping of metrics by business model (e-commerce, SaaS, free
mobile app, media site, user-generated content, two-sided marketplace). Every KPI has a
definition in English, names in English, Vietnamese and Thai, a unit and a formula over the
measures of :mod:`cxloop.analytics.kpis.formulas`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cxloop.analytics.kpis.formulas import Formula, Ratio


class Unit(StrEnum):
    SHARE = "share"  # 0..1
    COUNT = "count"
    MONEY = "money"  # in the workspace's currency
    NUMBER = "number"
    SECONDS = "seconds"
    RATING = "rating"


@dataclass(frozen=True)
class Kpi:
    id: str
    names: dict[str, str]  # en, vi, th
    definition: str
    unit: Unit
    formula: Formula
    higher_is_better: bool = True


def _k(
    id: str,
    en: str,
    vi: str,
    th: str,
    definition: str,
    unit: Unit,
    formula: Formula,
    higher_is_better: bool = True,
) -> Kpi:
    return Kpi(id, {"en": en, "vi": vi, "th": th}, definition, unit, formula, higher_is_better)


REVENUE = "sum:purchase:revenue"

CAC = _k(
    "cac",
    "Customer acquisition cost (CAC)",
    "Chi phí thu hút khách hàng (CAC)",
    "ต้นทุนการได้มาซึ่งลูกค้า (CAC)",
    "Marketing spend of the period divided by the customers who paid for the first time in "
    "it (spend imported per day and channel, in the workspace's currency).",
    Unit.MONEY,
    Ratio("spend", "new:purchase"),
    higher_is_better=False,
)
CHURN = _k(
    "churn_rate",
    "Churn rate",
    "Tỷ lệ rời bỏ (churn)",
    "อัตราการเลิกใช้ (churn)",
    "Share of the customers active at the start of the period (an action in the N days "
    "before it; N is the workspace's churn window, 30 by default) with no action in the N "
    "days before its end.",
    Unit.SHARE,
    "churn",
    higher_is_better=False,
)
LTV = _k(
    "ltv",
    "Customer lifetime value (LTV)",
    "Giá trị vòng đời khách hàng (LTV)",
    "มูลค่าตลอดช่วงชีวิตลูกค้า (LTV)",
    "Revenue per active customer in the period divided by the period's churn rate: what a "
    "customer brings in over the periods they are expected to stay.",
    Unit.MONEY,
    Ratio(Ratio(REVENUE, "active"), "churn"),
)
REVENUE_PER_CUSTOMER = _k(
    "revenue_per_customer",
    "Revenue per customer",
    "Doanh thu trên mỗi khách hàng",
    "รายได้ต่อลูกค้า",
    "Revenue of completed orders divided by the customers who completed one.",
    Unit.MONEY,
    Ratio(REVENUE, "customers:purchase"),
)

ECOMMERCE = (
    _k(
        "conversion_rate",
        "Conversion rate",
        "Tỷ lệ chuyển đổi",
        "อัตราคอนเวอร์ชัน",
        "Share of active customers (any action in the period) who completed an order.",
        Unit.SHARE,
        Ratio("customers:purchase", "active"),
    ),
    _k(
        "average_cart_size",
        "Average shopping cart size",
        "Giá trị giỏ hàng trung bình",
        "มูลค่าตะกร้าสินค้าเฉลี่ย",
        "Revenue per completed order (Order Completed: revenue, else total).",
        Unit.MONEY,
        Ratio(REVENUE, "events:purchase"),
    ),
    _k(
        "purchase_frequency",
        "Purchase frequency per period",
        "Tần suất mua hàng theo kỳ",
        "ความถี่ในการซื้อต่อช่วงเวลา",
        "Completed orders per purchasing customer in the period (per day, week or month of "
        "the series).",
        Unit.NUMBER,
        Ratio("events:purchase", "customers:purchase"),
    ),
    _k(
        "cart_abandonment",
        "Cart abandonment rate",
        "Tỷ lệ bỏ giỏ hàng",
        "อัตราการละทิ้งตะกร้าสินค้า",
        "Share of the customers who started a checkout in the period and completed no order in it.",
        Unit.SHARE,
        Ratio("both:checkout:purchase", "customers:checkout", complement=True),
        higher_is_better=False,
    ),
    CAC,
    REVENUE_PER_CUSTOMER,
    _k(
        "recommendation_acceptance",
        "Recommendation acceptance rate",
        "Tỷ lệ chấp nhận gợi ý",
        "อัตราการยอมรับสินค้าแนะนำ",
        "Clicks on recommended products per recommendation list shown (Product Clicked / "
        "Product List Viewed with list_id 'recommended').",
        Unit.SHARE,
        Ratio("events:recommendation_clicked", "events:recommendation_shown"),
    ),
    _k(
        "virality",
        "Virality (referred sign-ups per active customer)",
        "Hệ số lan truyền (đăng ký nhờ giới thiệu)",
        "อัตราการบอกต่อ (การสมัครจากการแนะนำ)",
        "Sign-ups that name a referrer, per active customer of the period: the viral coefficient.",
        Unit.NUMBER,
        Ratio("events:referred_signup", "active"),
    ),
    _k(
        "email_click_through",
        "Mailing-list click-through rate",
        "Tỷ lệ nhấp qua email",
        "อัตราการคลิกผ่านอีเมล",
        "Customers who clicked a link in an email, per customer an email was delivered to.",
        Unit.SHARE,
        Ratio("customers:email_clicked", "customers:email_delivered"),
    ),
)

SAAS = (
    _k(
        "signups",
        "Sign-ups (enrolment)",
        "Lượt đăng ký",
        "จำนวนการสมัครใช้งาน",
        "Signed Up events in the period.",
        Unit.COUNT,
        "events:signup",
    ),
    _k(
        "paid_conversion",
        "Conversion to paying",
        "Tỷ lệ chuyển đổi sang trả phí",
        "อัตราการเปลี่ยนเป็นลูกค้าที่ชำระเงิน",
        "Customers paying for the first time in the period per sign-up in the period.",
        Unit.SHARE,
        Ratio("new:purchase", "events:signup"),
    ),
    LTV,
    _k(
        "dau",
        "Daily active users (DAU)",
        "Người dùng hoạt động hằng ngày (DAU)",
        "ผู้ใช้งานรายวัน (DAU)",
        "Mean number of customers with an action per day of the period.",
        Unit.NUMBER,
        "dau",
    ),
    _k(
        "wau",
        "Weekly active users (WAU)",
        "Người dùng hoạt động hằng tuần (WAU)",
        "ผู้ใช้งานรายสัปดาห์ (WAU)",
        "Customers with an action in the 7 days before the end of the period.",
        Unit.COUNT,
        "wau",
    ),
    _k(
        "mau",
        "Monthly active users (MAU)",
        "Người dùng hoạt động hằng tháng (MAU)",
        "ผู้ใช้งานรายเดือน (MAU)",
        "Customers with an action in the 30 days before the end of the period.",
        Unit.COUNT,
        "mau",
    ),
    _k(
        "stickiness",
        "Stickiness (DAU/MAU)",
        "Độ gắn bó (DAU/MAU)",
        "ความเหนียวแน่นของผู้ใช้ (DAU/MAU)",
        "DAU divided by MAU: the share of the month's users who come back on a given day.",
        Unit.SHARE,
        Ratio("dau", "mau"),
    ),
    _k(
        "retention_rate",
        "Retention rate",
        "Tỷ lệ giữ chân khách hàng",
        "อัตราการรักษาลูกค้า",
        "1 - churn rate: share of the customers active at the start of the period still "
        "active at its end.",
        Unit.SHARE,
        "retention",
    ),
    REVENUE_PER_CUSTOMER,
    CAC,
    CHURN,
    _k(
        "upsell_rate",
        "Upsell rate",
        "Tỷ lệ bán thêm (upsell)",
        "อัตราการขายเพิ่ม (upsell)",
        "Customers who upgraded their subscription per paying customer of the period.",
        Unit.SHARE,
        Ratio("customers:upgrade", "customers:purchase"),
    ),
)

MOBILE_APP = (
    _k(
        "installs",
        "Downloads (installs)",
        "Lượt cài đặt",
        "จำนวนการติดตั้ง",
        "Application Installed events in the period.",
        Unit.COUNT,
        "events:install",
    ),
    _k(
        "cac",
        "Customer acquisition cost (CAC)",
        "Chi phí thu hút người dùng (CAC)",
        "ต้นทุนการได้มาซึ่งผู้ใช้ (CAC)",
        "Marketing spend of the period per customer who installed the app for the first time.",
        Unit.MONEY,
        Ratio("spend", "new:install"),
        higher_is_better=False,
    ),
    _k(
        "launch_rate",
        "Launch rate",
        "Tỷ lệ mở ứng dụng sau cài đặt",
        "อัตราการเปิดแอปหลังติดตั้ง",
        "Share of the customers who installed the app in the period who also opened it.",
        Unit.SHARE,
        Ratio("both:install:open", "customers:install"),
    ),
    _k(
        "active_share",
        "Percent of active users",
        "Tỷ lệ người dùng hoạt động",
        "สัดส่วนผู้ใช้ที่ใช้งานอยู่",
        "Customers with an action in the period per customer known by its end.",
        Unit.SHARE,
        Ratio("active", "known"),
    ),
    _k(
        "paying_share",
        "Percentage of users who pay",
        "Tỷ lệ người dùng trả tiền",
        "สัดส่วนผู้ใช้ที่ชำระเงิน",
        "Active customers of the period who completed a purchase in it.",
        Unit.SHARE,
        Ratio("customers:purchase", "active"),
    ),
    _k(
        "time_to_first_purchase",
        "Time to first purchase",
        "Thời gian đến lần mua đầu tiên",
        "ระยะเวลาถึงการซื้อครั้งแรก",
        "Median time from a customer's first action to their first purchase, over the "
        "customers whose first purchase falls in the period.",
        Unit.SECONDS,
        "ttf:purchase",
        higher_is_better=False,
    ),
    _k(
        "arpu",
        "Average revenue per user (ARPU)",
        "Doanh thu trung bình trên mỗi người dùng (ARPU)",
        "รายได้เฉลี่ยต่อผู้ใช้ (ARPU)",
        "Revenue of the period per active customer (monthly ARPU with a monthly series).",
        Unit.MONEY,
        Ratio(REVENUE, "active"),
    ),
    _k(
        "rating_click_through",
        "Rating click-through",
        "Tỷ lệ nhấp đánh giá ứng dụng",
        "อัตราการคลิกให้คะแนนแอป",
        "Customers who tapped the rating prompt per customer it was shown to.",
        Unit.SHARE,
        Ratio("customers:rating_clicked", "customers:rating_prompt"),
    ),
    CHURN,
    LTV,
)

MEDIA = (
    _k(
        "audience",
        "Audience",
        "Lượng khán giả",
        "จำนวนผู้ชม",
        "Customers who viewed content (a page, a screen or a video) in the period.",
        Unit.COUNT,
        "customers:content_view",
    ),
    CHURN,
    _k(
        "ad_inventory",
        "Ad inventory (impressions)",
        "Lượng hiển thị quảng cáo",
        "ปริมาณการแสดงโฆษณา",
        "Ad impressions served in the period (Video Ad Started, Ad Viewed).",
        Unit.COUNT,
        "events:ad_impression",
    ),
    _k(
        "ad_rate",
        "Ad rate (eCPM)",
        "Giá quảng cáo (eCPM)",
        "อัตราค่าโฆษณา (eCPM)",
        "Ad revenue (the impressions' revenue property) per thousand impressions.",
        Unit.MONEY,
        Ratio("sum:ad_impression:revenue", "events:ad_impression", scale=1000.0),
    ),
    _k(
        "ad_click_through",
        "Ad click-through rate",
        "Tỷ lệ nhấp quảng cáo",
        "อัตราการคลิกโฆษณา",
        "Ad clicks per ad impression.",
        Unit.SHARE,
        Ratio("events:ad_click", "events:ad_impression"),
    ),
    _k(
        "ad_balance",
        "Content/advertising balance",
        "Cân bằng nội dung/quảng cáo",
        "สัดส่วนโฆษณาต่อเนื้อหา",
        "Ad impressions per content view: how much advertising each piece of content carries.",
        Unit.NUMBER,
        Ratio("events:ad_impression", "events:content_view"),
        higher_is_better=False,
    ),
)

UGC = (
    _k(
        "engaged_visitors",
        "Engaged visitors",
        "Khách truy cập có tương tác",
        "ผู้เข้าชมที่มีส่วนร่วม",
        "Customers who created, liked, commented on or shared content in the period.",
        Unit.COUNT,
        "customers:engagement",
    ),
    _k(
        "content_created",
        "Content creation",
        "Nội dung được tạo",
        "จำนวนเนื้อหาที่สร้าง",
        "Content Created events in the period.",
        Unit.COUNT,
        "events:content_created",
    ),
    _k(
        "creator_share",
        "Engagement funnel: share of creators",
        "Phễu tương tác: tỷ lệ người tạo nội dung",
        "กรวยการมีส่วนร่วม: สัดส่วนผู้สร้างเนื้อหา",
        "Active customers who created content; its change between periods shows the "
        "engagement funnel moving.",
        Unit.SHARE,
        Ratio("customers:content_created", "active"),
    ),
    _k(
        "content_value",
        "Value of created content (views per item)",
        "Giá trị nội dung (lượt xem mỗi nội dung)",
        "มูลค่าของเนื้อหา (ยอดชมต่อชิ้น)",
        "Views of user-created content per item created in the period.",
        Unit.NUMBER,
        Ratio("events:content_viewed", "events:content_created"),
    ),
    _k(
        "content_sharing",
        "Content sharing and virality",
        "Chia sẻ nội dung và lan truyền",
        "การแชร์เนื้อหาและการบอกต่อ",
        "Content shares per active customer.",
        Unit.NUMBER,
        Ratio("events:content_shared", "active"),
    ),
    _k(
        "notification_effectiveness",
        "Notification effectiveness",
        "Hiệu quả thông báo đẩy",
        "ประสิทธิภาพการแจ้งเตือน",
        "Customers who tapped a push notification per customer who received one.",
        Unit.SHARE,
        Ratio("customers:push_tapped", "customers:push_received"),
    ),
)

MARKETPLACE = (
    _k(
        "buyer_growth",
        "Buyer growth",
        "Tăng trưởng người mua",
        "การเติบโตของผู้ซื้อ",
        "Customers who completed their first order in the period.",
        Unit.COUNT,
        "new:purchase",
    ),
    _k(
        "seller_growth",
        "Seller growth",
        "Tăng trưởng người bán",
        "การเติบโตของผู้ขาย",
        "Customers who created their first listing in the period.",
        Unit.COUNT,
        "new:listing_created",
    ),
    _k(
        "inventory_growth",
        "Inventory growth",
        "Tăng trưởng hàng hóa đăng bán",
        "การเติบโตของสินค้าที่ลงขาย",
        "Listings created in the period.",
        Unit.COUNT,
        "events:listing_created",
    ),
    _k(
        "search_effectiveness",
        "Search effectiveness",
        "Hiệu quả tìm kiếm",
        "ประสิทธิภาพการค้นหา",
        "Share of the customers who searched who also clicked a product in the period.",
        Unit.SHARE,
        Ratio("both:search:product_clicked", "customers:search"),
    ),
    _k(
        "search_conversion",
        "Conversion funnel (search to order)",
        "Phễu chuyển đổi (tìm kiếm đến đặt hàng)",
        "กรวยคอนเวอร์ชัน (ค้นหาถึงสั่งซื้อ)",
        "Share of the customers who searched who also completed an order in the period.",
        Unit.SHARE,
        Ratio("both:search:purchase", "customers:search"),
    ),
    _k(
        "average_rating",
        "Ratings",
        "Điểm đánh giá trung bình",
        "คะแนนรีวิวเฉลี่ย",
        "Mean rating of the Product Reviewed events of the period.",
        Unit.RATING,
        "avg:review:rating",
    ),
    _k(
        "refund_rate",
        "Signs of fraud (refunds per order)",
        "Dấu hiệu gian lận (tỷ lệ hoàn tiền)",
        "สัญญาณการฉ้อโกง (อัตราการคืนเงิน)",
        "Refunded orders per completed order in the period.",
        Unit.SHARE,
        Ratio("events:refund", "events:purchase"),
        higher_is_better=False,
    ),
    _k(
        "average_price",
        "Pricing (average listing price)",
        "Giá niêm yết trung bình",
        "ราคาเฉลี่ยของรายการ",
        "Mean price property of the listings created in the period.",
        Unit.MONEY,
        "avg:listing_created:price",
    ),
)

PACKS: dict[str, tuple[Kpi, ...]] = {
    "ecommerce": ECOMMERCE,
    "saas": SAAS,
    "mobile_app": MOBILE_APP,
    "media": MEDIA,
    "ugc": UGC,
    "marketplace": MARKETPLACE,
}

PACK_NAMES: dict[str, dict[str, str]] = {
    "ecommerce": {"en": "E-commerce", "vi": "Thương mại điện tử", "th": "อีคอมเมิร์ซ"},
    "saas": {
        "en": "Software as a service",
        "vi": "Phần mềm dạng dịch vụ (SaaS)",
        "th": "ซอฟต์แวร์แบบบริการ (SaaS)",
    },
    "mobile_app": {"en": "Free mobile app", "vi": "Ứng dụng di động miễn phí", "th": "แอปมือถือฟรี"},
    "media": {"en": "Media site", "vi": "Trang truyền thông", "th": "เว็บไซต์สื่อ"},
    "ugc": {
        "en": "User-generated content",
        "vi": "Nội dung do người dùng tạo",
        "th": "เนื้อหาที่ผู้ใช้สร้าง",
    },
    "marketplace": {
        "en": "Two-sided marketplace",
        "vi": "Sàn giao dịch hai phía",
        "th": "ตลาดกลางสองฝั่ง",
    },
}


def find(kpi_id: str) -> list[tuple[str, Kpi]]:
    """Every (pack, KPI) with this id (CAC, churn and LTV are in several packs)."""
    return [(pack, k) for pack, kpis in PACKS.items() for k in kpis if k.id == kpi_id]
