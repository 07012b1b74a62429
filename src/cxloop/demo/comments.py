"""Free-text comments of the demo's customers, in Vietnamese, Thai and English.

A comment is about one theme (delivery, product quality, price, support, the app, or the
shop in general) with a sentiment that follows the score the customer gave. It is put
together from an opening, a core sentence with its details filled in (days late, product,
courier) and a closing, each drawn from several phrasings, so that no two customers sound
alike while the words a reader looks for are there. Some Vietnamese customers type without
diacritics, as many do on a phone.
"""

from __future__ import annotations

from cxloop.demo.draws import Stream
from cxloop.text.normalize import strip_accents

THEMES = ("delivery", "product_quality", "price", "customer_support", "app_website", "general")
SENTIMENTS = ("negative", "neutral", "positive")
# share of Vietnamese comments typed without diacritics
VI_PLAIN_SHARE = 0.12

Phrases = dict[str, dict[str, tuple[str, ...]]]

CORE: dict[str, Phrases] = {
    "vi": {
        "delivery": {
            "negative": (
                "Giao hàng chậm quá, trễ {days} ngày so với hẹn.",
                "Đơn hàng đến muộn {days} ngày mà không ai báo trước.",
                "Shipper {carrier} giao trễ, mình phải gọi mấy lần mới nhận được hàng.",
                "Chờ mãi mới nhận hàng, trễ hẳn {days} ngày, rất thất vọng.",
                "Giao hàng quá lâu, đặt từ đầu tuần mà trễ {days} ngày.",
            ),
            "neutral": (
                "Giao hàng hơi chậm một chút nhưng vẫn nhận được.",
                "Nhận hàng đúng hẹn, shipper bình thường.",
                "Vận chuyển tạm ổn, lần sau mong giao nhanh hơn.",
            ),
            "positive": (
                "Giao hàng nhanh, chỉ một ngày là nhận được.",
                "Shipper thân thiện, giao đúng giờ.",
                "Giao nhanh hơn mình nghĩ, đóng gói cẩn thận.",
                "Nhận hàng sớm, giao hàng rất nhanh.",
            ),
        },
        "product_quality": {
            "negative": (
                "Sản phẩm {product} bị lỗi, dùng hai ngày đã hỏng.",
                "Chất lượng kém, hàng không giống mô tả.",
                "Nhận {product} bị hỏng, phải đổi trả rất mất thời gian.",
                "Hàng lỗi, chất lượng không xứng với giá.",
            ),
            "neutral": (
                "Sản phẩm dùng tạm được, chất lượng bình thường.",
                "Sản phẩm {product} đúng mô tả, không có gì đặc biệt.",
            ),
            "positive": (
                "Sản phẩm {product} chất lượng tốt, đúng như mô tả.",
                "Hàng chính hãng, chất lượng rất tốt.",
                "{product} dùng rất thích, chất lượng ổn định.",
            ),
        },
        "price": {
            "negative": (
                "Giá hơi đắt so với chỗ khác.",
                "Phí vận chuyển cao quá, giá không đáng tiền.",
            ),
            "neutral": (
                "Giá cả hợp lý, mong có thêm khuyến mãi.",
                "Giá ổn, nếu có giảm giá thường xuyên hơn thì tốt.",
                "Mong shop có nhiều mã giảm giá hơn.",
            ),
            "positive": (
                "Giá rẻ, nhiều khuyến mãi, rất đáng tiền.",
                "Đợt sale giá tốt, mua được nhiều đồ rẻ.",
            ),
        },
        "customer_support": {
            "negative": (
                "Chăm sóc khách hàng trả lời rất chậm, không giải quyết được gì.",
                "Nhắn tin cho CSKH mấy lần không ai phản hồi.",
                "Hỗ trợ kém, khiếu nại mãi không xong.",
            ),
            "neutral": (
                "Nhân viên hỗ trợ có phản hồi nhưng hơi lâu.",
                "CSKH trả lời được nhưng chưa rõ ràng lắm.",
            ),
            "positive": (
                "Chăm sóc khách hàng nhiệt tình, hỗ trợ đổi hàng nhanh.",
                "Nhân viên CSKH phản hồi nhanh và rất tận tình.",
                "Được hỗ trợ chu đáo, vấn đề giải quyết ngay.",
            ),
        },
        "app_website": {
            "negative": (
                "Ứng dụng bị lỗi, không đăng nhập được sau khi cập nhật.",
                "App cứ bị văng ra khi đăng ký tài khoản.",
                "Bản cập nhật mới của app lỗi quá, không đặt hàng được.",
                "App lag và hay bị thoát, rất bực.",
            ),
            "neutral": (
                "App dùng được nhưng giao diện hơi rối.",
                "Ứng dụng ổn, đôi khi hơi chậm.",
            ),
            "positive": (
                "App dễ dùng, đặt hàng rất tiện.",
                "Giao diện ứng dụng đẹp, dễ tìm sản phẩm.",
            ),
        },
        "general": {
            "negative": ("Trải nghiệm mua hàng lần này không tốt.",),
            "neutral": ("Mọi thứ tạm ổn.", "Không có gì đặc biệt, bình thường."),
            "positive": (
                "Shop rất uy tín, sẽ ủng hộ dài dài.",
                "Mua nhiều lần rồi, lần nào cũng hài lòng.",
                "Rất hài lòng, sẽ giới thiệu cho bạn bè.",
            ),
        },
    },
    "th": {
        "delivery": {
            "negative": (
                "ส่งของช้ามาก ช้ากว่ากำหนด {days} วัน",
                "รอพัสดุนานมาก ได้รับสินค้าช้าไป {days} วัน",
                "ขนส่ง {carrier} ส่งช้า ไม่มีใครแจ้งอะไรเลย",
                "จัดส่งล่าช้า {days} วัน ผิดหวังมาก",
                "สั่งตั้งแต่ต้นสัปดาห์ พัสดุมาช้าไป {days} วัน",
            ),
            "neutral": (
                "จัดส่งช้านิดหน่อยแต่ก็ได้รับของ",
                "ได้รับสินค้าตามกำหนด คนส่งโอเค",
                "การจัดส่งพอใช้ได้ อยากให้ส่งเร็วกว่านี้",
            ),
            "positive": (
                "ส่งเร็วมาก ได้รับของภายในวันเดียว",
                "จัดส่งไวมาก คนส่งสุภาพ",
                "พัสดุมาถึงเร็วกว่าที่คิด แพ็คมาดี",
                "ได้รับสินค้าเร็ว ส่งไวทันใจ",
            ),
        },
        "product_quality": {
            "negative": (
                "สินค้า {product} ชำรุด ใช้ได้สองวันก็พัง",
                "คุณภาพแย่ ไม่ตรงปก",
                "ได้รับ {product} มาพัง ต้องเคลมวุ่นวายมาก",
                "ของชำรุด คุณภาพไม่สมราคา",
            ),
            "neutral": (
                "สินค้าใช้ได้ คุณภาพกลางๆ",
                "สินค้า {product} ตรงตามรูป ไม่มีอะไรพิเศษ",
            ),
            "positive": (
                "สินค้า {product} คุณภาพดี ตรงปก",
                "ของแท้ คุณภาพดีมาก",
                "{product} ใช้ดีมาก ชอบมาก",
            ),
        },
        "price": {
            "negative": ("ราคาแพงกว่าร้านอื่น", "ค่าส่งแพงไป ไม่คุ้มเลย"),
            "neutral": (
                "ราคาพอรับได้ อยากให้มีโปรโมชั่นมากกว่านี้",
                "ราคาโอเค ถ้ามีส่วนลดบ่อยๆจะดีมาก",
                "อยากได้โค้ดส่วนลดเพิ่ม",
            ),
            "positive": ("ราคาถูก โปรเยอะ คุ้มมาก", "ช่วงลดราคาคุ้มสุดๆ ได้ของถูก"),
        },
        "customer_support": {
            "negative": (
                "ตอบแชทช้ามาก แก้ปัญหาอะไรไม่ได้เลย",
                "ติดต่อไปหลายรอบ ไม่มีใครตอบกลับ",
                "ร้องเรียนไปแล้วเรื่องเงียบ บริการแย่",
            ),
            "neutral": (
                "แอดมินตอบกลับแต่ค่อนข้างนาน",
                "ติดต่อได้ แต่คำตอบยังไม่ชัดเจน",
            ),
            "positive": (
                "แอดมินตอบแชทไว ช่วยเปลี่ยนสินค้าให้เร็วมาก",
                "เจ้าหน้าที่ใส่ใจ ตอบกลับไวมาก",
                "ติดต่อแล้วแก้ปัญหาให้ทันที ประทับใจ",
            ),
        },
        "app_website": {
            "negative": (
                "แอปเด้งออกตอนสมัครสมาชิก",
                "อัพเดทแอปใหม่แล้วล็อกอินไม่ได้",
                "ระบบล่มบ่อย สั่งของในแอปไม่ได้",
                "แอปค้างบ่อยมาก หงุดหงิด",
            ),
            "neutral": ("แอปใช้ได้ แต่หน้าจอรกไปหน่อย", "แอปโอเค บางทีช้านิดหน่อย"),
            "positive": ("แอปใช้ง่าย สั่งของสะดวก", "แอปสวย หาสินค้าง่าย"),
        },
        "general": {
            "negative": ("ประสบการณ์ครั้งนี้ไม่ดีเลย",),
            "neutral": ("โดยรวมโอเค", "ก็ปกติ ไม่มีอะไรพิเศษ"),
            "positive": (
                "ร้านนี้ไว้ใจได้ จะกลับมาซื้ออีก",
                "ซื้อหลายครั้งแล้ว ประทับใจทุกครั้ง",
                "พอใจมาก จะแนะนำให้เพื่อน",
            ),
        },
    },
    "en": {
        "delivery": {
            "negative": (
                "Delivery was {days} days late and nobody told me.",
                "My order arrived {days} days after the promised date.",
                "{carrier} was late again, the courier never called.",
                "Waited forever for the delivery, {days} days late.",
                "Shipping took far too long, {days} days past the date on the tracking page.",
            ),
            "neutral": (
                "Delivery was a bit slow but it arrived.",
                "Arrived on time, nothing special about the delivery.",
                "Shipping was okay, could be faster.",
            ),
            "positive": (
                "Super fast delivery, arrived the next day.",
                "The courier was friendly and on time.",
                "Delivery was quicker than expected and well packed.",
                "Arrived early, great delivery.",
            ),
        },
        "product_quality": {
            "negative": (
                "The {product} was defective and broke after two days.",
                "Poor quality, not what the photos showed.",
                "My {product} arrived broken and the return was a hassle.",
                "Defective item, the quality is not worth the money.",
            ),
            "neutral": (
                "The product is fine, average quality.",
                "The {product} is as described, average quality.",
            ),
            "positive": (
                "The {product} is great quality, exactly as described.",
                "Genuine product and very good quality.",
                "Love my {product}, the quality is excellent.",
            ),
        },
        "price": {
            "negative": (
                "Prices are higher than other shops.",
                "The shipping fee is too expensive, not good value.",
            ),
            "neutral": (
                "Prices are fair, I would like more discounts.",
                "Reasonable price, more promotions would be nice.",
                "Please send more discount codes.",
            ),
            "positive": (
                "Cheap prices and lots of promotions, great value.",
                "The sale had great prices, got a lot for little.",
            ),
        },
        "customer_support": {
            "negative": (
                "Customer service took days to reply and fixed nothing.",
                "I contacted support three times and got no reply.",
                "Terrible support, my complaint went nowhere.",
            ),
            "neutral": (
                "Support replied but it took a while.",
                "Customer service answered, though not very clearly.",
            ),
            "positive": (
                "Customer service was helpful and replaced my item quickly.",
                "Support replied fast and was very friendly.",
                "The support team solved my problem right away.",
            ),
        },
        "app_website": {
            "negative": (
                "The app crashes when I try to sign up.",
                "After the update I cannot log in to the app.",
                "The new app update is full of bugs, I could not place an order.",
                "The app keeps freezing, very annoying.",
            ),
            "neutral": (
                "The app works but the interface is cluttered.",
                "The app is okay, sometimes slow.",
            ),
            "positive": (
                "The app is easy to use, ordering is quick.",
                "Nice app, easy to find products.",
            ),
        },
        "general": {
            "negative": ("Not a good experience this time.",),
            "neutral": ("Everything was okay.", "Nothing special, it was fine."),
            "positive": (
                "A shop I trust, I will keep buying here.",
                "Bought many times and always happy.",
                "Very satisfied, I will recommend you to my friends.",
            ),
        },
    },
}

OPENING: dict[str, dict[str, tuple[str, ...]]] = {
    "vi": {
        "negative": ("", "", "Thật sự không hài lòng.", "Lần này tệ quá."),
        "neutral": ("", "", "Nói chung là được."),
        "positive": ("", "", "Tuyệt vời!", "Rất hài lòng."),
    },
    "th": {
        "negative": ("", "", "ไม่พอใจเลย", "ครั้งนี้แย่มาก"),
        "neutral": ("", "", "โดยรวมก็โอเค"),
        "positive": ("", "", "เยี่ยมมาก!", "ประทับใจมาก"),
    },
    "en": {
        "negative": ("", "", "Really disappointed.", "Not happy this time."),
        "neutral": ("", "", "Overall it was fine."),
        "positive": ("", "", "Great!", "Really happy."),
    },
}
CLOSING: dict[str, dict[str, tuple[str, ...]]] = {
    "vi": {
        "negative": ("", "", "Chắc không mua lại nữa.", "Mong shop cải thiện.", "😡"),
        "neutral": ("", "", "Mong lần sau tốt hơn."),
        "positive": ("", "", "Cảm ơn shop!", "Sẽ mua tiếp.", "👍"),
    },
    "th": {
        "negative": ("", "", "คงไม่ซื้ออีกแล้ว", "ช่วยปรับปรุงด้วย", "😡"),
        "neutral": ("", "", "หวังว่าครั้งหน้าจะดีกว่านี้"),
        "positive": ("", "", "ขอบคุณค่ะ", "จะกลับมาซื้ออีกครับ", "👍"),
    },
    "en": {
        "negative": ("", "", "Probably will not order again.", "Please fix this.", "😡"),
        "neutral": ("", "", "Hope it is better next time."),
        "positive": ("", "", "Thank you!", "Will order again.", "👍"),
    },
}


def sentiment_of_nps(score: int) -> str:
    return "negative" if score <= 6 else "neutral" if score <= 8 else "positive"


def sentiment_of_csat(score: int) -> str:
    return "negative" if score <= 2 else "neutral" if score == 3 else "positive"


def _pick(draw: Stream, options: tuple[str, ...]) -> str:
    return options[draw.integer(len(options))]


def comment(
    draw: Stream,
    language: str,
    theme: str,
    sentiment: str,
    *,
    days: int = 2,
    product: str = "",
    carrier: str = "",
) -> str:
    """A customer's comment about ``theme`` in ``language`` with ``sentiment``."""
    core = _pick(draw, CORE[language][theme][sentiment]).format(
        days=max(1, days),
        product=product or _THING[language],
        carrier=carrier or _COURIER[language],
    )
    core = core[0].upper() + core[1:]
    parts = [
        _pick(draw, OPENING[language][sentiment]),
        core,
        _pick(draw, CLOSING[language][sentiment]),
    ]
    text = " ".join(p for p in parts if p)
    if language == "vi" and draw.chance(VI_PLAIN_SHARE):
        text = strip_accents(text)
    return text


_THING = {"vi": "món hàng", "th": "สินค้า", "en": "item"}
_COURIER = {"vi": "Bên vận chuyển", "th": "บริษัทขนส่ง", "en": "The courier"}
