"""The status card: colours under the rules, versions, the population preview, provider."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from covidhub.certificates.facts import RecoveryFacts
from covidhub.certificates.models import StatusRuleSet
from covidhub.certificates.services import (
    certificate_issue_recovery,
    certificate_issue_test,
    certificate_issue_vaccination,
    certificate_revoke,
)
from covidhub.certificates.status_rules import (
    PersonFacts,
    StatusRules,
    colour_for,
    person_status,
    status_rules_activate,
    status_rules_clean,
    status_rules_draft_create,
    status_rules_preview,
)
from covidhub.core.errors import InvalidInput
from covidhub.people.status import status_for

pytestmark = pytest.mark.django_db
NOW = timezone.now()
TODAY = timezone.localdate(NOW)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (PersonFacts(), ("red", "none")),
        (PersonFacts(has_dose=True), ("yellow", "one_dose")),
        (
            PersonFacts(has_dose=True, series_completed_on=TODAY - timedelta(days=14)),
            ("green", "full_series"),
        ),
        (
            PersonFacts(has_dose=True, series_completed_on=TODAY - timedelta(days=13)),
            ("yellow", "series_recent"),
        ),
        (PersonFacts(recovery_first_positive=TODAY - timedelta(days=10)), ("green", "recovered")),
        (PersonFacts(recovery_first_positive=TODAY - timedelta(days=9)), ("red", "none")),
        (PersonFacts(recovery_first_positive=TODAY - timedelta(days=180)), ("red", "none")),
        (PersonFacts(negative_test_at=NOW - timedelta(hours=71)), ("yellow", "negative_test")),
        (PersonFacts(negative_test_at=NOW - timedelta(hours=73)), ("red", "none")),
    ],
)
def test_default_rules(facts, expected):
    assert colour_for(facts, StatusRules(), now=NOW) == expected


def test_clauses_switch_off_and_negative_test_can_make_green():
    rules = StatusRules(yellow_one_dose=False, green_negative_test_hours=24)
    assert colour_for(PersonFacts(has_dose=True), rules, now=NOW) == ("red", "none")
    recent = PersonFacts(negative_test_at=NOW - timedelta(hours=5))
    assert colour_for(recent, rules, now=NOW) == ("green", "negative_test")


def test_rules_are_validated():
    with pytest.raises(InvalidInput) as caught:
        status_rules_clean({"green_full_series_days": "x", "yellow_negative_test_hours": 500})
    assert set(caught.value.details["fields"]) == {
        "green_full_series_days",
        "yellow_negative_test_hours",
    }
    assert status_rules_clean({"yellow_one_dose": "off"}).yellow_one_dose is False


def test_status_from_live_certificates_and_provider(
    signing_key, make_person, vaccination_facts, test_facts
):
    person = make_person()
    assert person_status(person=person).colour == "red"
    first = certificate_issue_vaccination(facts=vaccination_facts(person, dose=1, total=2))
    assert person_status(person=person).colour == "yellow"
    certificate_issue_vaccination(
        facts=vaccination_facts(person, dose=2, total=2, on=TODAY - timedelta(days=20))
    )
    status = person_status(person=person)
    assert status.colour == "green" and status.reason_code == "full_series"
    assert status_for(person).colour == "green"
    assert status_for(person).reason
    certificate_revoke(certificate=first, reason="test", actor=None)
    assert person_status(person=person).colour == "green"
    tested = make_person(full_name="Lê Thị Hoa")
    certificate_issue_test(facts=test_facts(tested, hours_ago=10))
    assert person_status(person=tested).colour == "yellow"
    recovered = make_person(full_name="Phạm Văn Bình")
    certificate_issue_recovery(
        facts=RecoveryFacts(
            person=recovered,
            source_type="testing.result",
            source_id="r",
            first_positive_on=TODAY - timedelta(days=30),
        )
    )
    assert person_status(person=recovered).colour == "green"


def test_versions_preview_and_activation(
    signing_key, make_person, vaccination_facts, province_admin, commune_officer, area_tree
):
    one_dose = make_person(full_name="Một Mũi")
    certificate_issue_vaccination(facts=vaccination_facts(one_dose, dose=1, total=2))
    full = make_person(full_name="Đủ Mũi", commune=area_tree["far_commune"])
    certificate_issue_vaccination(
        facts=vaccination_facts(full, dose=2, total=2, on=date(2021, 9, 1))
    )
    make_person(full_name="Không Có")
    stricter = status_rules_clean({"yellow_one_dose": False})
    draft = status_rules_draft_create(actor=province_admin, rules=stricter, note="no yellow dose")
    assert draft.version == 1 and draft.state == "draft"
    preview = status_rules_preview(actor=province_admin, candidate=stricter)
    assert preview.people == 3
    assert preview.current == {"green": 1, "yellow": 1, "red": 1}
    assert preview.candidate == {"green": 1, "yellow": 0, "red": 2}
    assert preview.transitions == {"yellow→red": 1}
    # A commune officer sees only their commune's people.
    local = status_rules_preview(actor=commune_officer, candidate=stricter)
    assert local.people == 2 and local.changed == 1
    assert person_status(person=one_dose).colour == "yellow"
    status_rules_activate(actor=province_admin, rule_set=draft)
    from covidhub.certificates.status_rules import rules_cache_clear

    rules_cache_clear()
    status = person_status(person=one_dose)
    assert status.colour == "red" and status.rules_version == 1
    second = status_rules_draft_create(actor=province_admin, rules=StatusRules())
    status_rules_activate(actor=province_admin, rule_set=second)
    assert StatusRuleSet.objects.get(version=1).state == "retired"
    assert StatusRuleSet.objects.filter(state="active").count() == 1
    with pytest.raises(InvalidInput):
        status_rules_activate(actor=province_admin, rule_set=draft)


def test_preview_query_count_does_not_grow_with_people(
    signing_key, make_person, vaccination_facts, province_admin, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def preview_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            status_rules_preview(actor=province_admin, candidate=StatusRules(yellow_one_dose=False))
        return len(captured.captured_queries)

    names = iter("ABCDEFGHIJKL")
    for _index in range(3):
        person = make_person(full_name="Người Thứ " + next(names))
        certificate_issue_vaccination(facts=vaccination_facts(person, dose=1, total=2))
    preview_queries()  # once for what is cached per process (the rules in force, protocols)
    few = preview_queries()
    for _index in range(9):
        person = make_person(full_name="Người Thứ " + next(names))
        certificate_issue_vaccination(facts=vaccination_facts(person, dose=1, total=2))
    # Four times the people, the same statements: the certificates, and each health-measure
    # provider's one query (cases, isolation, pools, home-care releases), as constant.
    assert preview_queries() == few
    with django_assert_max_num_queries(9):
        status_rules_preview(actor=province_admin, candidate=StatusRules(yellow_one_dose=False))


def test_each_rule_version_compiles_to_certlogic_run_by_the_verifier_engine():
    from covidhub.certificates.dcc.certlogic_validation import certlogic_validate
    from covidhub.certificates.status_rules import status_clauses, status_rules_logic

    rules = StatusRules(green_negative_test_hours=24)
    logic = status_rules_logic(rules)
    assert [clause["code"] for clause in logic][-6:] == [
        "full_series",
        "recovered",
        "negative_test",
        "series_recent",
        "one_dose",
        "negative_test",
    ]
    for clause in logic:
        assert certlogic_validate(clause["logic"]) == []
    assert status_clauses(rules) is status_clauses(rules)  # compiled once per version
    # Switched-off clauses are not compiled at all.
    off = StatusRules(yellow_one_dose=False, green_full_series_days=0)
    codes = [clause["code"] for clause in status_rules_logic(off)]
    assert "one_dose" not in codes and "full_series" not in codes
