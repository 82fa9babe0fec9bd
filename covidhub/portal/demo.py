"""Demo data of the portal: two announcements and a first rollup of the statistics."""

from __future__ import annotations

from typing import Any

from covidhub.accounts.models import User
from covidhub.portal.models import Announcement, Category

DEMO_ANNOUNCEMENTS = (
    (
        "vi",
        "chi-dao",
        "Hướng dẫn sử dụng nền tảng covidhub Hải Dương",
        "Người dân khai báo y tế, đăng ký xét nghiệm, đăng ký tiêm chủng và tra cứu chứng "
        "nhận trên một nền tảng duy nhất.",
        "<p>Thực hiện chỉ đạo của UBND tỉnh, Sở Y tế đề nghị người dân sử dụng nền tảng "
        "covidhub để khai báo y tế, đăng ký xét nghiệm, tra cứu kết quả, đăng ký tiêm chủng "
        'và tra cứu chứng nhận tiêm chủng.</p><p>Xem <a href="/portal/guides/">hướng dẫn '
        "cài đặt và sử dụng</a>. Đường dây hỗ trợ: <strong>02203.897.353</strong>.</p>",
    ),
    (
        "en",
        "chi-dao",
        "How to use the covidhub Hải Dương platform",
        "Health declarations, tests, vaccination and certificates on one platform.",
        "<p>The provincial Department of Health asks everyone to use covidhub for health "
        "declarations, test registration and results, vaccination registration and "
        'certificates.</p><p>See the <a href="/portal/guides/">installation and usage '
        "guides</a>. Support line: <strong>02203.897.353</strong>.</p>",
    ),
)


def portal_seed(**context: Any) -> list[str]:
    from django.utils import timezone

    from covidhub.portal.rollup import stats_rollup

    editor = User.objects.filter(username="bientap").first()
    if editor is not None:
        for language, category_slug, title, summary, body in DEMO_ANNOUNCEMENTS:
            category = Category.objects.filter(slug=category_slug).first()
            if category is None or Announcement.objects.filter(title=title).exists():
                continue
            now = timezone.now()
            Announcement.objects.create(
                slug=f"demo-{language}-huong-dan",
                language=language,
                title=title,
                summary=summary,
                body=body,
                category=category,
                status=Announcement.Status.PUBLISHED,
                publish_at=now,
                published_at=now,
                created_by=editor,
                updated_by=editor,
            )
    _tickets_seed(editor)
    result = stats_rollup()
    return [f"  portal: statistics rolled up ({result.cells} cells in {result.seconds:.1f} s)"]


# Questions sent through the contact form: one answered by the editor, one still open.
DEMO_TICKETS = (
    (
        "Lê Thị Mai",
        "0912 345 678",
        "certificate",
        "Tôi đã tiêm đủ 2 mũi ở Trạm Y tế phường Bình Hàn nhưng chưa thấy chứng nhận tiêm "
        "chủng trong ứng dụng. Tôi cần làm gì?",
        "Chứng nhận được cấp sau khi trạm y tế ghi nhận mũi tiêm. Chị đăng nhập bằng số điện "
        "thoại đã đăng ký và mở mục Chứng nhận; nếu vẫn chưa có, chị gọi 02203.897.353.",
    ),
    (
        "Hoàng Văn Nam",
        "0913 222 333",
        "testing",
        "Kết quả xét nghiệm của mẹ tôi (không dùng điện thoại thông minh) tra cứu ở đâu? "
        "Mẹ tôi lấy mẫu hôm qua tại nhà văn hóa khu 3.",
        "",
    ),
)


def _tickets_seed(editor: User | None) -> None:
    from covidhub.portal.models import SupportTicket
    from covidhub.portal.services import ticket_answer, ticket_input_clean, ticket_open

    if editor is None or SupportTicket.objects.exists():
        return
    for name, phone, topic, message, answer in DEMO_TICKETS:
        ticket = ticket_open(
            data=ticket_input_clean(
                {"name": name, "phone": phone, "topic": topic, "message": message}
            ),
            client_address=None,
            language="vi",
        )
        if answer:
            ticket_answer(actor=editor, ticket=ticket, body=answer)
