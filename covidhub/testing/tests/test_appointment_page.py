"""The citizen's test appointment page: the QR code fills its box (a viewBox, no fixed size:
a fixed-size drawing in the stylesheet's box left blank space under it, or cropped it), the
other slots of the district are a list of choices a phone shows whole (the province's list
was one select cut off before the time), and cancelling is not styled as the main action."""

import datetime
import re

import pytest
from django.utils import timezone

from covidhub.testing import registration
from covidhub.testing.models import Appointment, Site, Slot

pytestmark = pytest.mark.django_db


def _slot(site, *, hours):
    start = timezone.now() + datetime.timedelta(hours=hours)
    return Slot.objects.create(
        site=site, starts_at=start, ends_at=start + datetime.timedelta(hours=1), capacity=5
    )


def test_appointment_page_qr_slot_choices_and_cancel(
    citizen, citizen_person, site, far_site, area_tree, login
):
    neighbour_site = Site.objects.create(
        name="Điểm lấy mẫu Bình Hàn", commune=area_tree["neighbour_commune"]
    )
    booked, later = _slot(site, hours=3), _slot(site, hours=6)
    neighbour, far = _slot(neighbour_site, hours=4), _slot(far_site, hours=4)
    appointment = registration.appointment_book(actor=citizen, person=citizen_person, slot=booked)
    client = login(citizen)
    url = f"/testing/appointments/{appointment.uuid}/"

    page = client.get(url).content.decode()
    svg = re.search(r"<svg[^>]*>", page).group(0)
    assert "viewBox=" in svg and "width=" not in svg and "height=" not in svg
    choices = re.findall(r'<input type="radio" name="slot" id="slot-\d+" value="([^"]+)"', page)
    assert choices == [str(neighbour.uuid), str(later.uuid)]  # the district's, soonest first
    assert str(far.uuid) not in page
    assert '<select name="slot"' not in page
    assert re.search(r'<button type="submit" class="danger">[^<]*</button>', page)

    response = client.post(url, {"action": "move", "slot": str(later.uuid)})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.slot_id == later.pk
    moved = client.get(url).content.decode()
    choices = re.findall(r'<input type="radio" name="slot" id="slot-\d+" value="([^"]+)"', moved)
    assert choices == [str(booked.uuid), str(neighbour.uuid)]

    client.post(url, {"action": "cancel"})
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
