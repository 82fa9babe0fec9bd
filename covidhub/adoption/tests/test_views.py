from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from covidhub.adoption.models import RosterMember, RosterUpload
from covidhub.adoption.tests.conftest import roster_csv, staff_row
from covidhub.audit.models import AuditEvent
from covidhub.notifications.models import Message

pytestmark = pytest.mark.django_db


def _upload(client: Any, agency: Any, data: bytes, name: str = "roster.csv") -> Any:
    return client.post(
        reverse("adoption:roster_upload", args=[agency.uuid]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def test_head_uploads_checks_and_imports_only_good_rows(
    agencies: dict[str, Any], head: Any, login: Any
) -> None:
    client = login(head)
    bad = staff_row(2)
    bad[3] = "12345"
    response = _upload(client, agencies["ward"], roster_csv([staff_row(1), bad, staff_row(3)]))
    assert response.status_code == 302
    upload = RosterUpload.objects.get()
    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "12345" not in text  # reasons only, never the typed values
    assert ">3<" in text  # the bad row's number (heading is row 1)
    assert RosterMember.objects.count() == 0  # nothing imported before the decision
    client.post(response["Location"], {"decision": "import"})
    upload.refresh_from_db()
    assert upload.status == "applied" and upload.joined_count == 2
    assert RosterMember.objects.count() == 2
    # The result page names the joiners: that read is audited, one row per person shown.
    result = client.get(response["Location"]).content.decode()
    assert "Nguyễn Văn Cán Bộ" in result
    assert AuditEvent.objects.filter(action="adoption.roster_member.viewed").count() == 2


def test_workspace_links_to_the_reports(agencies: dict[str, Any], head: Any, login: Any) -> None:
    page = login(head).get(reverse("accounts:workspace")).content.decode()
    assert reverse("adoption:staff_home") in page


def test_import_nothing_from_the_page(agencies: dict[str, Any], head: Any, login: Any) -> None:
    client = login(head)
    response = _upload(client, agencies["district"], roster_csv([staff_row(1)]))
    client.post(response["Location"], {"decision": "discard"})
    assert RosterUpload.objects.get().status == "discarded"
    assert RosterMember.objects.count() == 0


def test_bad_files_get_a_message_and_save_nothing(
    agencies: dict[str, Any], head: Any, login: Any, settings: Any
) -> None:
    client = login(head)
    wrong_columns = _upload(client, agencies["district"], b"a,b,c\n1,2,3\n")
    assert wrong_columns.status_code == 422
    assert 'role="alert"' in wrong_columns.content.decode()
    wrong_encoding = _upload(
        client,
        agencies["district"],
        "Ho va ten,Ngay sinh,So CCCD,So dien thoai\nLê Văn Tâm,1985,030085000001,0913000001\n".encode(
            "cp1258"
        ),
    )
    assert wrong_encoding.status_code == 422
    settings.ADOPTION_ROSTER_MAX_BYTES = 1024
    too_big = _upload(
        client, agencies["district"], roster_csv([staff_row(n) for n in range(1, 60)])
    )
    assert too_big.status_code == 422
    assert RosterUpload.objects.count() == 0


def test_head_of_another_agency_gets_404(
    agencies: dict[str, Any], upload_roster: Any, other_head: Any, head: Any, login: Any
) -> None:
    upload = upload_roster(agencies["ward"], [staff_row(1)])
    client = login(other_head)
    ward = agencies["ward"].uuid
    for url in [
        reverse("adoption:agency", args=[ward]),
        reverse("adoption:roster", args=[ward]),
        reverse("adoption:roster_upload", args=[ward]),
        reverse("adoption:upload", args=[upload.uuid]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("adoption:reminders_send", args=[ward])).status_code == 404
    assert (
        client.post(
            reverse("adoption:upload", args=[upload.uuid]), {"decision": "discard"}
        ).status_code
        == 404
    )
    # The report lists only their own agency.
    report = client.get(reverse("adoption:staff_home")).content.decode()
    assert "Cẩm Thượng" not in report and "Sở Thông tin" in report
    # A head of a ward cannot look up at the district either.


def test_ward_head_cannot_see_the_district(
    agencies: dict[str, Any], make_staff: Any, login: Any
) -> None:
    ward_head = make_staff(
        "wardhead", "agency_head", unit_kind="agency", unit_uuid=agencies["ward"].uuid
    )
    client = login(ward_head)
    assert (
        client.get(reverse("adoption:agency", args=[agencies["district"].uuid])).status_code == 404
    )
    assert client.get(reverse("adoption:agency", args=[agencies["ward"].uuid])).status_code == 200


def test_officers_see_reports_but_not_rosters(
    agencies: dict[str, Any], district_officer: Any, commune_officer: Any, login: Any
) -> None:
    client = login(district_officer)
    assert client.get(reverse("adoption:agency", args=[agencies["ward"].uuid])).status_code == 200
    assert client.get(reverse("adoption:roster", args=[agencies["ward"].uuid])).status_code == 404
    # Outside the district: not found.
    assert (
        client.get(reverse("adoption:agency", args=[agencies["department"].uuid])).status_code
        == 404
    )
    # A commune officer has no adoption role at all.
    assert login(commune_officer).get(reverse("adoption:staff_home")).status_code == 404


def test_roster_page_is_audited_and_shows_no_health_data(
    agencies: dict[str, Any],
    upload_roster: Any,
    head: Any,
    login: Any,
    django_assert_max_num_queries: Any,
) -> None:
    from covidhub.core.indicators import register_person_indicator, unregister_person_indicator

    register_person_indicator("vaccinated", lambda ids: ids, label="Vaccinated-indicator")
    try:
        _roster_page_checks(agencies, upload_roster, head, login, django_assert_max_num_queries)
    finally:
        unregister_person_indicator("vaccinated")


def _roster_page_checks(
    agencies: Any, upload_roster: Any, head: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    upload_roster(agencies["ward"], [staff_row(n) for n in range(1, 6)])
    client = login(head)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("adoption:roster", args=[agencies["ward"].uuid]))
    text = response.content.decode()
    assert response.status_code == 200
    # Per person: account and activity only; the health measures exist but are not shown.
    assert "Vaccinated-indicator" not in text
    assert "030085000001" not in text  # identity numbers are not listed
    assert AuditEvent.objects.filter(action="adoption.roster_member.viewed").count() == 5


def test_report_pages_export_and_print(
    agencies: dict[str, Any], upload_roster: Any, head: Any, login: Any
) -> None:
    upload_roster(agencies["ward"], [staff_row(n) for n in range(1, 6)])
    client = login(head)
    for name in ("staff_home", "report_print", "report_areas"):
        assert client.get(reverse(f"adoption:{name}")).status_code == 200
    export = client.get(reverse("adoption:report_export"))
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert (
        client.get(reverse("adoption:agency", args=[agencies["district"].uuid])).status_code == 200
    )


def test_reminders_are_limited_deduplicated_and_respect_opt_out(
    agencies: dict[str, Any], upload_roster: Any, head: Any, login: Any, make_citizen: Any
) -> None:
    upload_roster(agencies["ward"], [staff_row(1), staff_row(2), staff_row(3)])
    make_citizen("+84913000003", full_name="Có Tài Khoản")  # member 3 has an account
    from covidhub.adoption.services import roster_members_match

    roster_members_match()
    opted = RosterMember.objects.get(id_number__endswith="2")
    client = login(head)
    # Opt-out through the link's page.
    stop = reverse("adoption:opt_out", args=[opted.opt_out_token])
    assert client.get(stop).status_code == 200
    client.post(stop)
    opted.refresh_from_db()
    assert opted.opted_out_at is not None
    assert client.get(reverse("adoption:opt_out", args=["nope-not-a-token"])).status_code == 404

    url = reverse("adoption:reminders_send", args=[agencies["ward"].uuid])
    client.post(url)
    messages = list(Message.objects.filter(channel="sms"))
    assert [m.to for m in messages] == ["+84913000001"]
    body = messages[0].body
    assert "02203.897.353" in body and "http" in body and "/adoption/stop/" in body
    # Again the same day: refused; nothing new.
    response = client.post(url, follow=True)
    assert Message.objects.filter(channel="sms").count() == 1
    assert response.status_code == 200
    # A day later, the person reminded this week is not reminded again.
    agency = agencies["ward"]
    agency.last_reminded_at = timezone.now() - datetime.timedelta(days=2)
    agency.save()
    client.post(url)
    assert Message.objects.filter(channel="sms").count() == 1
    # A week later: a second reminder, with its own dedupe key; at most three in all.
    for _ in range(4):
        RosterMember.objects.update(last_reminded_at=timezone.now() - datetime.timedelta(days=8))
        agency.last_reminded_at = None
        agency.save()
        client.post(url)
    assert Message.objects.filter(channel="sms").count() == 3
    assert RosterMember.objects.get(id_number__endswith="1").reminders_sent == 3


def test_promotion_kit(client: Any, db: None) -> None:
    page = client.get(reverse("adoption:kit"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    poster = client.get(reverse("adoption:kit_poster"))
    assert poster.status_code == 200 and poster.content.startswith(b"%PDF")
    qr = client.get(reverse("adoption:kit_qr"))
    assert qr.content.startswith(b"\x89PNG")
    assert b"DejaVu" in poster.content  # the Unicode font is embedded for Vietnamese text


def test_the_opt_out_token_is_not_stored_and_the_reminders_link_still_works(
    agencies: dict[str, Any], upload_roster: Any, head: Any, login: Any
) -> None:
    """Issue 16: the opt-out token was kept in clear (`opt_out_token`); the row now holds
    only a keyed hash, and the link in the reminder still stops reminders."""
    from django.db import connection

    upload_roster(agencies["ward"], [staff_row(1)])
    member = RosterMember.objects.get()
    login(head).post(reverse("adoption:reminders_send", args=[agencies["ward"].uuid]))
    [message] = Message.objects.filter(channel="sms")
    link = reverse("adoption:opt_out", args=[member.opt_out_token])
    assert link in message.body
    table = connection.ops.quote_name(RosterMember._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - a table name from model metadata
        raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert member.opt_out_token not in raw
    assert member.opt_out_token_hash in raw
    anonymous = Client()
    assert anonymous.get(link).status_code == 200
    anonymous.post(link)
    member.refresh_from_db()
    assert member.opted_out_at is not None
    # The stored hash is not a token: presenting it finds nobody.
    assert (
        anonymous.get(reverse("adoption:opt_out", args=[member.opt_out_token_hash])).status_code
        == 404
    )
