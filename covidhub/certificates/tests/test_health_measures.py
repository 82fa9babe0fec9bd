"""The status card follows a person's current health measures (a confirmed case, an
isolation, a positive pool awaiting the retest) by the province's rules: the colour, the
reason on the person's own card, what the checkpoint is told, and whether it checks them in.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from covidhub.audit.models import AuditEvent
from covidhub.certificates.services import certificate_issue_vaccination
from covidhub.certificates.status_rules import (
    PersonFacts,
    StatusRules,
    colour_for,
    person_status,
    rules_cache_clear,
    status_rules_activate,
    status_rules_clean,
    status_rules_draft_create,
    status_rules_preview,
)
from covidhub.core.errors import InvalidInput
from covidhub.declarations.models import Case, CheckIn, FollowUp, VenueStaff
from covidhub.declarations.services import checkin_scan, venue_register
from covidhub.declarations.validation import venue_input_clean
from covidhub.people.health_status import AWAITING_RETEST, CONFIRMED_CASE, ISOLATING
from covidhub.people.personal_qr import personal_qr_text

pytestmark = pytest.mark.django_db
NOW = timezone.now()
TODAY = timezone.localdate(NOW)
MEASURES = (CONFIRMED_CASE, ISOLATING, AWAITING_RETEST)
VACCINATION = {
    "none": PersonFacts(),
    "one_dose": PersonFacts(has_dose=True),
    "full": PersonFacts(has_dose=True, series_completed_on=TODAY - timedelta(days=60)),
}
WITHOUT_MEASURE = {"none": ("red", "none"), "one_dose": ("yellow", "one_dose")}
WITHOUT_MEASURE["full"] = ("green", "full_series")


def _facts(vaccination: str, **measures) -> PersonFacts:
    base = VACCINATION[vaccination]
    return PersonFacts(
        has_dose=base.has_dose, series_completed_on=base.series_completed_on, measures=measures
    )


# Every measure × every vaccination state -------------------------------------------------


@pytest.mark.parametrize("vaccination", VACCINATION)
@pytest.mark.parametrize("measure", MEASURES)
def test_a_measure_in_force_makes_red_whatever_the_vaccination(measure, vaccination):
    facts = _facts(vaccination, **{measure: TODAY - timedelta(days=2)})
    assert colour_for(facts, StatusRules(), now=NOW) == ("red", measure)


@pytest.mark.parametrize("vaccination", VACCINATION)
@pytest.mark.parametrize("measure", MEASURES)
def test_a_measure_set_to_yellow_or_off_by_the_province(measure, vaccination):
    prefix = {CONFIRMED_CASE: "case", ISOLATING: "isolation", AWAITING_RETEST: "retest"}[measure]
    facts = _facts(vaccination, **{measure: TODAY - timedelta(days=2)})
    yellow = StatusRules(**{f"{prefix}_colour": "yellow"})
    assert colour_for(facts, yellow, now=NOW) == ("yellow", measure)
    off = StatusRules(**{f"{prefix}_colour": "off"})
    assert colour_for(facts, off, now=NOW) == WITHOUT_MEASURE[vaccination]


@pytest.mark.parametrize("vaccination", VACCINATION)
@pytest.mark.parametrize("measure", MEASURES)
def test_a_measure_ends_after_its_days(measure, vaccination):
    days = StatusRules().measure_clause(measure)[1]
    ended = _facts(vaccination, **{measure: TODAY - timedelta(days=days)})
    assert colour_for(ended, StatusRules(), now=NOW) == WITHOUT_MEASURE[vaccination]
    last_day = _facts(vaccination, **{measure: TODAY - timedelta(days=days - 1)})
    assert colour_for(last_day, StatusRules(), now=NOW)[0] == "red"


def test_the_most_serious_measure_gives_the_reason():
    facts = _facts("full", awaiting_retest=TODAY, isolating=TODAY, confirmed_case=TODAY)
    rules = StatusRules(case_colour="yellow")
    assert colour_for(facts, rules, now=NOW) == ("yellow", CONFIRMED_CASE)


def test_measure_rules_are_validated():
    with pytest.raises(InvalidInput) as caught:
        status_rules_clean({"case_colour": "green", "isolation_days": 61, "retest_days": "x"})
    assert set(caught.value.details["fields"]) == {"case_colour", "isolation_days", "retest_days"}
    rules = status_rules_clean({"refuse_checkin": "off", "checkpoint_names_measure": "on"})
    assert rules.refuse_checkin is False and rules.checkpoint_names_measure is True
    assert status_rules_clean({}).case_colour == "red"  # versions saved before: the defaults


# From the records: confirmed case, isolation ----------------------------------------------


def _confirmed(person, officer, *, days_ago=3):
    return Case.objects.create(
        person=person,
        commune_path=person.commune_path,
        onset_date=TODAY - timedelta(days=days_ago),
        window_minutes=60,
        status=Case.Status.CONFIRMED,
        source=Case.Source.OFFICER,
        decided_by=officer,
        decided_at=timezone.now(),
    )


def _isolating(person):
    return FollowUp.objects.create(
        person=person,
        commune=person.commune,
        commune_path=person.commune_path,
        reasons=["contact_case"],
        urgency=FollowUp.Urgency.HIGH,
        status=FollowUp.Status.CLOSED,
        outcome=FollowUp.Outcome.HOME_ISOLATION,
        last_called_at=timezone.now() - timedelta(days=1),
    )


def _fully_vaccinated(person, vaccination_facts):
    certificate_issue_vaccination(
        facts=vaccination_facts(person, dose=2, total=2, on=TODAY - timedelta(days=90))
    )


def test_a_fully_vaccinated_confirmed_case_is_red_with_the_reason_on_their_card(
    signing_key, citizen, citizen_person, commune_officer, vaccination_facts, login
):
    _fully_vaccinated(citizen_person, vaccination_facts)
    assert person_status(person=citizen_person).colour == "green"
    _confirmed(citizen_person, commune_officer)
    status = person_status(person=citizen_person)
    assert (status.colour, status.reason_code, status.admit) == ("red", CONFIRMED_CASE, False)
    page = login(citizen).get("/certificates/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-colour="red"' in page and "confirmed COVID-19 case" in page
    vi = login(citizen).get("/certificates/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "ca bệnh COVID-19" in vi
    api = login(citizen).get("/api/v1/certificates/mine").json()["items"]
    assert api[0]["status"]["colour"] == "red" and api[0]["status"]["admit"] is False


def test_a_pending_or_old_case_does_not_count(
    signing_key, citizen_person, commune_officer, vaccination_facts
):
    _fully_vaccinated(citizen_person, vaccination_facts)
    _confirmed(citizen_person, commune_officer, days_ago=30)
    Case.objects.create(
        person=citizen_person,
        commune_path=citizen_person.commune_path,
        onset_date=TODAY,
        window_minutes=60,
        source=Case.Source.TESTING,
    )  # awaiting the officer's approval: not yet a confirmed case
    assert person_status(person=citizen_person).colour == "green"


def test_isolation_is_red_and_only_for_that_person(signing_key, citizen_person, make_person):
    _isolating(citizen_person)
    neighbour = make_person(full_name="Hàng Xóm")
    assert person_status(person=citizen_person).reason_code == ISOLATING
    assert person_status(person=neighbour).reason_code == "none"


# At the checkpoint -------------------------------------------------------------------------


@pytest.fixture
def checkpoint(make_citizen, area_tree):
    owner = make_citizen("+84912111222", full_name="Nguyễn Văn Chủ")
    venue = venue_register(
        actor=owner,
        data=venue_input_clean(
            {
                "name": "Chợ Cẩm Thượng",
                "kind": "market",
                "address_line": "Phố Cẩm Thượng",
                "commune": area_tree["commune"],
                "contact_name": "Nguyễn Văn Chủ",
                "contact_phone": "0912 111 222",
            }
        ),
    )
    worker = make_citizen("+84912000777", full_name="Người Soát Vé")
    VenueStaff.objects.create(venue=venue, user=worker, added_by=owner)
    return venue, worker


def _use_rules(admin, **changes):
    row = status_rules_draft_create(actor=admin, rules=StatusRules(**changes))
    status_rules_activate(actor=admin, rule_set=row)
    rules_cache_clear()


def test_a_confirmed_case_scanned_at_a_checkpoint_is_red_and_not_checked_in(
    signing_key, citizen_person, commune_officer, vaccination_facts, checkpoint, login
):
    venue, worker = checkpoint
    _fully_vaccinated(citizen_person, vaccination_facts)
    _confirmed(citizen_person, commune_officer)
    outcome = checkin_scan(actor=worker, venue=venue, token=personal_qr_text(citizen_person))
    assert outcome.checkin is None and outcome.card.status_colour == "red"
    assert not outcome.card.admitted
    assert not CheckIn.objects.filter(person=citizen_person).exists()
    scanned = AuditEvent.objects.get(action="declarations.person.scanned", actor=worker)
    assert scanned.details["refused"] == "status_rules"
    page = login(worker).post(
        f"/declarations/venues/{venue.uuid}/scan/",
        {"token": personal_qr_text(citizen_person)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = page.content.decode()
    assert "Not checked in" in html and "A health measure of the province applies" in html
    # By default the checkpoint is not told which measure, nor any date of it.
    assert "confirmed" not in html.lower() and "onset" not in html.lower()
    api = login(worker).post(
        f"/api/v1/declarations/venues/{venue.uuid}/scan",
        {"token": personal_qr_text(citizen_person)},
        content_type="application/json",
    )
    assert api.status_code == 200
    assert api.json()["admitted"] is False and api.json()["checkin"] is None
    assert not CheckIn.objects.filter(person=citizen_person).exists()


def test_the_province_decides_what_the_checkpoint_reads_and_whether_it_admits(
    signing_key, citizen_person, province_admin, checkpoint
):
    venue, worker = checkpoint
    _isolating(citizen_person)
    token = personal_qr_text(citizen_person)
    _use_rules(province_admin, checkpoint_names_measure=True, refuse_checkin=False)
    outcome = checkin_scan(actor=worker, venue=venue, token=token)
    assert outcome.card.status_colour == "red" and outcome.checkin is not None
    assert outcome.card.status_reason == "Đang cách ly."
    _use_rules(province_admin, isolation_colour="yellow")
    assert person_status(person=citizen_person).colour == "yellow"
    assert checkin_scan(actor=worker, venue=venue, token=token).card.admitted


def test_without_a_measure_the_checkpoint_checks_in_as_before(
    signing_key, citizen_person, vaccination_facts, checkpoint
):
    venue, worker = checkpoint
    outcome = checkin_scan(actor=worker, venue=venue, token=personal_qr_text(citizen_person))
    assert outcome.card.status_colour == "red" and outcome.checkin is not None  # no vaccine
    assert outcome.card.admitted


# Scoping: the rules page and the preview --------------------------------------------------


def test_rules_are_edited_by_the_province_only_and_audited(province_admin, commune_officer, login):
    form = {
        "green_full_series_days": 14,
        "green_recovery_days": 180,
        "green_negative_test_hours": 0,
        "yellow_one_dose": "on",
        "yellow_negative_test_hours": 72,
        "case_colour": "red",
        "case_days": 10,
        "isolation_colour": "yellow",
        "isolation_days": 14,
        "retest_colour": "off",
        "retest_days": 7,
        "refuse_checkin": "on",
    }
    officer = login(commune_officer)
    assert officer.post("/staff/certificates/status-rules/", form).status_code == 404
    admin = login(province_admin)
    bad = admin.post("/staff/certificates/status-rules/", {**form, "case_colour": "green"})
    assert (
        bad.status_code == 200
        and not AuditEvent.objects.filter(action="certificates.status_rules.drafted").exists()
    )
    made = admin.post("/staff/certificates/status-rules/", form)
    assert made.status_code == 302
    drafted = AuditEvent.objects.get(action="certificates.status_rules.drafted")
    assert drafted.details["isolation_colour"] == "yellow" and drafted.details["case_days"] == 10


def test_the_preview_counts_measures_in_the_actors_area_only(
    signing_key,
    make_person,
    commune_officer,
    neighbour_officer,
    province_admin,
    vaccination_facts,
    area_tree,
):
    here = make_person(full_name="Ca Bệnh Ở Đây")
    _fully_vaccinated(here, vaccination_facts)
    _confirmed(here, commune_officer)
    isolated = make_person(full_name="Cách Ly", commune=area_tree["neighbour_commune"])
    _isolating(isolated)
    lenient = StatusRules(case_colour="off", isolation_colour="off")
    province = status_rules_preview(actor=province_admin, candidate=lenient)
    assert province.current == {"green": 0, "yellow": 0, "red": 2}
    assert province.transitions == {"red→green": 1}  # the isolated one stays red: no vaccine
    local = status_rules_preview(actor=commune_officer, candidate=lenient)
    assert local.people == 1 and local.transitions == {"red→green": 1}
    neighbour = status_rules_preview(actor=neighbour_officer, candidate=lenient)
    assert neighbour.people == 1 and neighbour.transitions == {}


def test_the_rules_api_takes_the_measures_with_their_choices(province_admin, login):
    admin = login(province_admin)
    made = admin.post(
        "/api/v1/certificates/status-rules",
        {"retest_colour": "yellow", "checkpoint_names_measure": True},
        content_type="application/json",
    )
    assert made.status_code == 201
    assert made.json()["rules"]["retest_colour"] == "yellow"
    refused = admin.post(
        "/api/v1/certificates/status-rules",
        {"case_colour": "green"},
        content_type="application/json",
    )
    assert refused.status_code in (400, 422)
