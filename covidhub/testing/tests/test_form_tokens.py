"""Each testing page form sent twice with its token (a double tap, a retried request)
creates once; the second lands on the first's result (covidhub.core.formtokens)."""

from __future__ import annotations

import pytest

from covidhub.core.testing import post_form_twice
from covidhub.people.models import Person
from covidhub.people.personal_qr import personal_qr_text
from covidhub.testing import collection
from covidhub.testing.models import Appointment, Sample, SamplingSession

pytestmark = pytest.mark.django_db


def _replayed(first, second):
    assert first.status_code == 302, getattr(first, "content", b"")[:2000]
    assert second.status_code == 303 and second["Location"] == first["Location"]
    return True


def test_test_registration_form_twice_registers_once(citizen, citizen_person, slot, login):
    first, second = post_form_twice(
        login(citizen),
        "/testing/register/",
        {"person": str(citizen_person.uuid), "choice": f"slot:{slot.uuid}"},
    )
    assert _replayed(first, second)
    assert Appointment.objects.filter(person=citizen_person).count() == 1


def test_opening_a_sampling_session_twice_opens_one(sampler, site, login):
    first, second = post_form_twice(
        login(sampler),
        "/staff/testing/sampling/",
        {"site": str(site.uuid), "test_type": "pcr", "pool_size": "1"},
    )
    assert _replayed(first, second)
    assert SamplingSession.objects.filter(site=site).count() == 1


def test_scanning_a_person_into_a_tube_twice_takes_one_sample(
    sampler, citizen_person, pcr_session, login
):
    session = pcr_session(pool_size=5)
    collection.scan_handle(actor=sampler, session=session, text="TUBE09001")
    page = f"/staff/testing/sessions/{session.uuid}/"
    first, second = post_form_twice(
        login(sampler), page, {"scan": personal_qr_text(citizen_person)}
    )
    assert _replayed(first, second)
    assert Sample.objects.filter(person=citizen_person).count() == 1


def test_a_walk_in_form_twice_registers_one_person(sampler, pcr_session, login):
    session = pcr_session(pool_size=5)
    collection.scan_handle(actor=sampler, session=session, text="TUBE09002")
    first, second = post_form_twice(
        login(sampler),
        f"/staff/testing/sessions/{session.uuid}/walk-in/",
        {
            "full_name": "Lê Văn Vãng",
            "birth": "1970",
            "sex": "M",
            "id_type": "",
            "id_number": "",
            "phone": "",
            "commune": "10507",
        },
    )
    assert _replayed(first, second)
    assert Person.objects.filter(full_name="Lê Văn Vãng").count() == 1
    assert Sample.objects.filter(person__full_name="Lê Văn Vãng").count() == 1
