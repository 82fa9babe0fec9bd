"""Editors write, schedule, publish and withdraw announcements; text is sanitised; the
Atom feed and the home page show what is published, and only that."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.core.testing import run_queued_tasks
from covidhub.portal.models import Announcement, Category
from covidhub.portal.sanitise import rich_text_clean
from covidhub.portal.services import (
    announcement_input_clean,
    announcement_publish,
    announcement_publish_due,
    announcement_save,
)

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def _create(editor, title="Tiêm chủng mũi 3", language="vi", body="<p>Nội dung</p>"):
    data = announcement_input_clean(
        {
            "title": title,
            "summary": "Tóm tắt",
            "body": body,
            "language": language,
            "category": Category.objects.get(slug="tiem-chung"),
        }
    )
    return announcement_save(actor=editor, data=data)


def test_editor_creates_and_publishes_through_the_pages(editor, login, client):
    staff = login(editor)
    response = staff.post(
        "/staff/portal/announcements/new/",
        {
            "title": "Lịch tiêm chủng tuần này",
            "language": "vi",
            "category": "tiem-chung",
            "summary": "Các điểm tiêm trong tuần",
            "body": "<h2>Điểm tiêm</h2><p onclick='steal()'>Nhà văn hoá <script>alert(1)</script>"
            "<a href='javascript:alert(1)'>xem</a></p>",
        },
    )
    assert response.status_code == 302
    item = Announcement.objects.get()
    assert item.status == "draft"
    assert "script" not in item.body and "onclick" not in item.body
    assert "javascript:" not in item.body
    assert "<h2>Điểm tiêm</h2>" in item.body
    # drafts are not public
    assert client.get(item.get_absolute_url()).status_code == 404
    assert "Lịch tiêm chủng" not in client.get("/portal/feed/vi.atom").content.decode()

    response = staff.post(f"/staff/portal/announcements/{item.uuid}/publish/", {"publish_at": ""})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "published" and item.published_at is not None
    assert AuditEvent.objects.filter(action="portal.announcement.published").exists()

    public = client.get(item.get_absolute_url())
    assert public.status_code == 200
    assert "<h2>Điểm tiêm</h2>" in public.content.decode()
    assert "alert(1)" not in public.content.decode()
    assert "Lịch tiêm chủng tuần này" in client.get("/portal/").content.decode()


def test_other_staff_cannot_edit_announcements(commune_officer, login):
    staff = login(commune_officer)
    assert staff.get("/staff/portal/announcements/").status_code == 404
    assert staff.get("/staff/portal/announcements/new/").status_code == 404


def test_scheduled_announcement_appears_when_its_time_comes(editor, client):
    item = _create(editor)
    at = timezone.now() + datetime.timedelta(hours=2)
    item = announcement_publish(actor=editor, announcement=item, publish_at=at)
    assert item.status == "scheduled"
    assert announcement_publish_due() == 0
    assert client.get(item.get_absolute_url()).status_code == 404

    assert announcement_publish_due(now=at + datetime.timedelta(seconds=1)) == 1
    item.refresh_from_db()
    assert item.status == "published" and item.published_at == at
    assert client.get(item.get_absolute_url()).status_code == 200


def test_the_minute_job_publishes_due_announcements(editor, django_capture_on_commit_callbacks):
    item = _create(editor)
    past = timezone.now() - datetime.timedelta(minutes=1)
    Announcement.objects.filter(pk=item.pk).update(status="scheduled", publish_at=past)
    from covidhub.portal.tasks import announcement_publish_due as job

    with django_capture_on_commit_callbacks(execute=True):
        job.enqueue()
    run_queued_tasks()
    item.refresh_from_db()
    assert item.status == "published"


def test_feed_lists_published_announcements_in_its_language(editor, client):
    vi = announcement_publish(actor=editor, announcement=_create(editor, "Thông báo số 1"))
    en = announcement_publish(
        actor=editor, announcement=_create(editor, "Notice number one", "en", "Plain text")
    )
    _create(editor, "Bản nháp chưa đăng")
    response = client.get("/portal/feed/vi.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own feed
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert titles == ["Thông báo số 1"]
    ids = [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")]
    assert ids == [f"urn:uuid:{vi.uuid}"]
    english = ET.fromstring(client.get("/portal/feed/en.atom").content)  # noqa: S314
    assert [e.findtext(f"{ATOM}title") for e in english.iter(f"{ATOM}entry")] == [en.title]
    assert client.get("/portal/feed/fr.atom").status_code == 404


def test_withdrawn_announcements_disappear(editor, client, login):
    item = announcement_publish(actor=editor, announcement=_create(editor))
    assert client.get(item.get_absolute_url()).status_code == 200
    login(editor).post(f"/staff/portal/announcements/{item.uuid}/withdraw/")
    item.refresh_from_db()
    assert item.status == "withdrawn"
    assert client.get(item.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    ("dirty", "forbidden"),
    [
        ("<img src=x onerror=alert(1)>", "onerror"),
        ("<a href='javascript:alert(1)'>x</a>", "javascript:"),
        ("<iframe src='https://evil.example'></iframe>", "iframe"),
        ("<svg><script>alert(1)</script></svg>", "script"),
        ("<p style='background:url(javascript:alert(1))'>x</p>", "style"),
        ("<img src='https://tracker.example/x.png'>", "tracker"),
        ("<object data='x.swf'></object>", "object"),
    ],
)
def test_rich_text_is_sanitised(dirty, forbidden):
    assert forbidden not in rich_text_clean(dirty)


def test_images_only_from_the_portal_and_uploads_are_checked(editor, login, tmp_path):
    import io

    from PIL import Image

    staff = login(editor)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "green.png"
    response = staff.post("/staff/portal/images/", {"file": buffer, "alt": "Điểm tiêm"})
    assert response.status_code == 302
    from covidhub.portal.models import PortalImage

    image = PortalImage.objects.get()
    url = image.get_absolute_url()
    assert rich_text_clean(f'<img src="{url}" alt="a">') == f'<img src="{url}" alt="a">'
    served = staff.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    fake = io.BytesIO(b"<script>alert(1)</script>")
    fake.name = "x.png"
    response = staff.post("/staff/portal/images/", {"file": fake, "alt": "Không phải ảnh"})
    assert response.status_code == 400
    assert PortalImage.objects.count() == 1
