"""What the demo shop sells, who delivers it, where its showrooms are, and the names its
customers go by. Plain data: the simulator picks from it."""

from __future__ import annotations

from dataclasses import dataclass

CURRENCY = "USD"


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    category: str
    price: float
    # how often a product arrives broken or not as described (refund and a support chat)
    defect_rate: float


PRODUCTS = (
    Product("sku-1001", "Wireless earbuds Lite", "electronics", 24.90, 0.05),
    Product("sku-1002", "Fast charger 33W", "electronics", 12.50, 0.03),
    Product("sku-1003", "Power bank 20000 mAh", "electronics", 21.00, 0.06),
    Product("sku-1004", "Smart watch Active 2", "electronics", 59.00, 0.04),
    Product("sku-1005", "Phone case, clear", "electronics", 6.90, 0.01),
    Product("sku-2001", "Sunscreen SPF50 PA++++", "beauty", 11.20, 0.01),
    Product("sku-2002", "Vitamin C serum", "beauty", 16.80, 0.02),
    Product("sku-2003", "Cushion foundation", "beauty", 14.50, 0.02),
    Product("sku-2004", "Lip tint set", "beauty", 9.90, 0.01),
    Product("sku-3001", "Rice cooker 1.8 L", "home", 38.00, 0.03),
    Product("sku-3002", "Air fryer 4.5 L", "home", 64.00, 0.04),
    Product("sku-3003", "Cotton bed sheet set", "home", 22.00, 0.02),
    Product("sku-3004", "Stainless water bottle", "home", 8.50, 0.01),
    Product("sku-3005", "Desk fan, quiet", "home", 27.00, 0.05),
    Product("sku-4001", "Linen shirt", "fashion", 18.00, 0.02),
    Product("sku-4002", "Running shoes Flex", "fashion", 45.00, 0.02),
    Product("sku-4003", "Áo dài silk scarf", "fashion", 15.00, 0.01),
    Product("sku-4004", "Canvas tote bag", "fashion", 7.50, 0.01),
    Product("sku-5001", "Baby diapers, pack of 60", "baby", 13.90, 0.01),
    Product("sku-5002", "Formula milk 800 g", "baby", 27.50, 0.01),
    Product("sku-5003", "Baby stroller compact", "baby", 119.00, 0.04),
    Product("sku-6001", "Jasmine rice 5 kg", "grocery", 9.80, 0.01),
    Product("sku-6002", "Instant coffee 3-in-1, 50 sachets", "grocery", 6.40, 0.01),
    Product("sku-6003", "Dried mango 500 g", "grocery", 5.90, 0.01),
)
# how popular each product is (a heavy tail: accessories and groceries sell most)
PRODUCT_WEIGHTS = (
    9,
    8,
    6,
    3,
    10,
    8,
    5,
    5,
    6,
    3,
    3,
    3,
    6,
    3,
    4,
    3,
    3,
    5,
    5,
    4,
    1,
    6,
    7,
    5,
)


@dataclass(frozen=True)
class Carrier:
    name: str
    country: int
    share: float
    late_factor: float  # times the country's base rate of late deliveries


CARRIERS = (
    Carrier("GHN", 0, 0.40, 1.0),
    Carrier("GHTK", 0, 0.35, 1.5),
    Carrier("Viettel Post", 0, 0.25, 0.8),
    Carrier("Kerry Express", 1, 0.40, 1.0),
    Carrier("Flash Express", 1, 0.35, 1.4),
    Carrier("Thailand Post", 1, 0.25, 0.9),
)


@dataclass(frozen=True)
class Store:
    id: str
    name: str
    city: str
    country: int


STORES = (
    Store("store-hcm-1", "Showroom Quận 1", "Ho Chi Minh City", 0),
    Store("store-hn-1", "Showroom Hoàn Kiếm", "Hanoi", 0),
    Store("store-bkk-1", "Showroom Siam", "Bangkok", 1),
)
CITIES = (
    (("Ho Chi Minh City", 0.45), ("Hanoi", 0.35), ("Da Nang", 0.10), ("Can Tho", 0.10)),
    (("Bangkok", 0.60), ("Chiang Mai", 0.15), ("Khon Kaen", 0.10), ("Phuket", 0.15)),
)
STORE_CITIES = {"Ho Chi Minh City": 0, "Hanoi": 1, "Bangkok": 2}


# Marketing channels: what a day of spend costs at the default size (20,000 customers) and
# how many app installs among the visitors each brings. ``country`` limits a channel to one
# market (Zalo is Vietnamese, LINE Thai).
@dataclass(frozen=True)
class Channel:
    id: str
    source: str
    medium: str
    daily_budget: float
    app_share: float
    country: int | None = None


CHANNELS = (
    Channel("google_ads", "google", "cpc", 340.0, 0.30),
    Channel("facebook_ads", "facebook", "paid_social", 290.0, 0.45),
    Channel("tiktok_ads", "tiktok", "paid_social", 210.0, 0.60),
    Channel("zalo_ads", "zalo", "paid_social", 80.0, 0.40, 0),
    Channel("line_ads", "line", "paid_social", 75.0, 0.45, 1),
    Channel("affiliate", "accesstrade", "affiliate", 55.0, 0.20),
)
EMAIL_DAILY_COST = 14.0  # the email service, spent whether or not anyone buys
ORGANIC = "organic"
REFERRAL = "referral"
ORGANIC_APP_SHARE = 0.35
REFERRAL_APP_SHARE = 0.40

WEB_PAGES = (
    ("Home", "/"),
    ("Category", "/c/deals"),
    ("Search", "/search"),
    ("Product", "/p"),
    ("Cart", "/cart"),
    ("Account", "/account"),
    ("Help", "/help"),
)
APP_SCREENS = ("Home", "Category", "Search", "Product Detail", "Cart", "Account", "Orders")
PAYMENT_METHODS = (
    (("cod", 0.42), ("momo", 0.25), ("card", 0.20), ("bank_transfer", 0.13)),
    (("promptpay", 0.40), ("card", 0.30), ("cod", 0.20), ("truemoney", 0.10)),
)
CHAT_REASONS = ("late_delivery", "defective_item", "app_problem", "order_question", "refund")
REFERRAL_CHANNELS = ("zalo", "line", "facebook", "copy_link")

VI_FAMILY = (
    ("Nguyễn", "nguyen"),
    ("Trần", "tran"),
    ("Lê", "le"),
    ("Phạm", "pham"),
    ("Hoàng", "hoang"),
    ("Huỳnh", "huynh"),
    ("Phan", "phan"),
    ("Vũ", "vu"),
    ("Võ", "vo"),
    ("Đặng", "dang"),
    ("Bùi", "bui"),
    ("Đỗ", "do"),
    ("Hồ", "ho"),
    ("Ngô", "ngo"),
    ("Dương", "duong"),
)
VI_GIVEN = (
    ("Văn An", "an"),
    ("Thị Bình", "binh"),
    ("Minh Châu", "chau"),
    ("Tiến Dũng", "dung"),
    ("Thu Hà", "ha"),
    ("Đức Hải", "hai"),
    ("Thị Hạnh", "hanh"),
    ("Minh Hiếu", "hieu"),
    ("Quỳnh Hoa", "hoa"),
    ("Văn Hùng", "hung"),
    ("Thu Hương", "huong"),
    ("Bảo Khánh", "khanh"),
    ("Ngọc Lan", "lan"),
    ("Thùy Linh", "linh"),
    ("Hoàng Long", "long"),
    ("Tuyết Mai", "mai"),
    ("Hoài Nam", "nam"),
    ("Thanh Phong", "phong"),
    ("Mai Phương", "phuong"),
    ("Minh Quân", "quan"),
    ("Thanh Tâm", "tam"),
    ("Phương Thảo", "thao"),
    ("Huyền Trang", "trang"),
    ("Quốc Trung", "trung"),
    ("Anh Tuấn", "tuan"),
    ("Tường Vy", "vy"),
    ("Hải Yến", "yen"),
)
TH_GIVEN = (
    ("สมชาย", "somchai"),
    ("ศิริพร", "siriporn"),
    ("ณัฐพงศ์", "nattapong"),
    ("กัญญา", "kanya"),
    ("พิมพ์ชนก", "pimchanok"),
    ("ธนากร", "thanakorn"),
    ("วิชัย", "wichai"),
    ("สุดา", "suda"),
    ("อนงค์", "anong"),
    ("กิตติศักดิ์", "kittisak"),
    ("พลอย", "ploy"),
    ("ณภัทร", "napat"),
    ("ปิยะพงษ์", "piyapong"),
    ("วรรณา", "wanna"),
    ("อภิชาติ", "apichat"),
    ("จิราพร", "jiraporn"),
    ("ธีรวัฒน์", "teerawat"),
    ("มาลัย", "malai"),
)
TH_FAMILY = (
    ("ใจดี", "jaidee"),
    ("ศรีสุข", "srisuk"),
    ("วงศ์ไทย", "wongthai"),
    ("แก้วมณี", "kaewmanee"),
    ("บุญมา", "boonma"),
    ("ทองดี", "thongdee"),
    ("สุขสวัสดิ์", "suksawat"),
    ("รัตนพันธ์", "rattanapan"),
    ("จันทร์เพ็ญ", "chanpen"),
    ("ประเสริฐ", "prasert"),
)
EN_GIVEN = (
    "James",
    "Emily",
    "Daniel",
    "Sarah",
    "Michael",
    "Olivia",
    "David",
    "Chloe",
    "Thomas",
    "Hannah",
    "Lucas",
    "Grace",
)
EN_FAMILY = ("Smith", "Brown", "Wilson", "Taylor", "Lee", "Martin", "Clarke", "Walker", "Evans")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
