"""The contact form opens a support ticket; staff answer (by SMS or e-mail) and close it.
Junk is refused with a clear message; the form is rate-limited."""

from __future__ import annotations

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.core.testing import form_tokens_in
from covidhub.notifications.models import Message
from covidhub.portal.models import SupportTicket

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Trần Thị Bình",
    "phone": "0912 345 678",
    "email": "",
    "topic": "testing",
    "message": "Tôi đã xét nghiệm hôm qua nhưng chưa thấy kết quả trên ứng dụng.",
    "website": "",
}


def _stamp():
    from covidhub.portal.forms import contact_stamp

    return contact_stamp()


def _post(client, **changes):
    return client.post("/portal/contact/", {**GOOD, "stamp": _stamp(), **changes})


def test_contact_form_opens_a_ticket(client, area_tree):
    page = client.get("/portal/contact/")
    assert page.status_code == 200
    assert "02203.897.353" in page.content.decode()
    response = _post(client)
    assert response.status_code == 302
    ticket = SupportTicket.objects.get()
    assert ticket.phone == "+84912345678" and ticket.status == "open"
    assert ticket.reference.startswith("HT-")
    sent = client.get(response["Location"])
    assert ticket.reference in sent.content.decode()
    assert AuditEvent.objects.filter(action="portal.ticket.opened").exists()


def test_staff_answer_and_close(client, area_tree, editor, login, commune_officer):
    _post(client, email="binh@example.vn", phone="")
    ticket = SupportTicket.objects.get()
    assert login(commune_officer).get(f"/staff/portal/tickets/{ticket.uuid}/").status_code == 404
    staff = login(editor)
    listing = staff.get("/staff/portal/tickets/")
    assert ticket.reference in listing.content.decode()
    detail = staff.get(f"/staff/portal/tickets/{ticket.uuid}/")
    assert "chưa thấy kết quả" in detail.content.decode()
    response = staff.post(
        f"/staff/portal/tickets/{ticket.uuid}/",
        {"body": "Kết quả sẽ có trong 24 giờ. <b>Xin cảm ơn</b>"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "answered"
    message = Message.objects.get(channel="email")
    assert message.to == "binh@example.vn"
    assert "Kết quả sẽ có trong 24 giờ" in message.body and "<b>" not in message.body
    staff.post(f"/staff/portal/tickets/{ticket.uuid}/", {"action": "close"})
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.closed_by == editor
    # a closed ticket takes no more answers
    again = staff.post(f"/staff/portal/tickets/{ticket.uuid}/", {"body": "Thêm"})
    assert again.status_code == 400
    assert ticket.replies.count() == 1
    assert AuditEvent.objects.filter(action="portal.ticket.closed").exists()


def test_answer_by_sms_when_a_phone_is_given(client, area_tree, editor, login):
    _post(client)
    ticket = SupportTicket.objects.get()
    login(editor).post(f"/staff/portal/tickets/{ticket.uuid}/", {"body": "Đã kiểm tra."})
    assert Message.objects.get().channel == "sms"


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"message": "buy now http://a.example http://b.example http://c.example cheap"}, "spam"),
        ({"message": "$$$$$$$$ 1234567890 !!!!!!!! $$$$$$$$ 1234567890"}, "spam"),
        ({"message": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "spam"),
        ({"website": "http://spam.example"}, "spam"),
        ({"stamp": "forged"}, "spam"),
        ({"message": "ngắn"}, "20"),
        ({"phone": "", "email": ""}, "e-mail"),
        ({"phone": "12"}, "phone"),
    ],
)
def test_junk_is_refused_with_a_clear_message(client, area_tree, settings, changes, text):
    settings.LANGUAGE_CODE = "en"
    response = client.post(
        "/portal/contact/",
        {**GOOD, "stamp": _stamp(), **changes},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert text in response.content.decode()
    assert not SupportTicket.objects.exists()


def test_too_fast_submissions_are_refused(client, area_tree, settings):
    settings.PORTAL_CONTACT_MIN_SECONDS = 30
    response = _post(client)
    assert response.status_code == 400
    assert not SupportTicket.objects.exists()


def test_script_in_a_ticket_is_stripped_and_escaped(client, area_tree, editor, login):
    _post(client, message="Xin hỏi <script>alert('x')</script> về <b>kết quả</b> xét nghiệm")
    ticket = SupportTicket.objects.get()
    assert "<script>" not in ticket.message and "alert" not in ticket.message
    page = login(editor).get(f"/staff/portal/tickets/{ticket.uuid}/").content.decode()
    assert "<b>kết quả</b>" not in page


def test_contact_form_is_rate_limited(client, area_tree, settings):
    settings.PORTAL_TICKETS_PER_HOUR = 2
    for n in range(2):
        assert (
            _post(client, message=GOOD["message"] + f" lần {['một', 'hai'][n]}").status_code == 302
        )
    response = _post(client, message=GOOD["message"] + " lần ba")
    assert response.status_code == 400
    assert "Quá nhiều" in response.content.decode() or "Too many" in response.content.decode()
    assert SupportTicket.objects.count() == 2


def test_a_resubmitted_form_opens_one_ticket(client, area_tree):
    [token] = form_tokens_in(client.get("/portal/contact/"))
    data = {**GOOD, "stamp": _stamp(), "form_token": token}
    first = client.post("/portal/contact/", data)
    second = client.post("/portal/contact/", data)
    assert first.status_code == 302 and second.status_code == 303
    assert SupportTicket.objects.count() == 1
