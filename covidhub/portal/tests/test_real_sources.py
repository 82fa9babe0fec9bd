"""Reconciliation through a capability that has landed: health declarations made with the
declarations app's own service are what the portal publishes."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from covidhub.core import metrics
from covidhub.portal.models import StatCell
from covidhub.portal.rollup import stats_rollup
from covidhub.portal.tests.conftest import REAL_SOURCES

pytestmark = pytest.mark.django_db


def test_declarations_reconcile(monkeypatch, make_citizen, area_tree):
    if "declarations" not in REAL_SOURCES:
        pytest.skip("the declarations app registers no daily counts")
    from covidhub.declarations.models import Declaration
    from covidhub.declarations.services import declaration_submit
    from covidhub.declarations.validation import declaration_input_clean

    monkeypatch.setattr(metrics, "_sources", dict(REAL_SOURCES))
    plan = {"commune": 7, "neighbour_commune": 2, "far_commune": 6}
    for n, (key, count) in enumerate(plan.items()):
        for i in range(count):
            account = make_citizen(f"+849130{n}{i:04d}", commune=area_tree[key])
            person = account.people.get(relationship="self")
            raw = {
                "phone": f"09130{n}{i:04d}",
                "commune": area_tree[key].code,
                "address_line": "Số 1 Lê Lợi",
                "travelled": False,
                "travel_places": "",
                "symptoms": [],
                "no_symptoms": True,
                "other_symptoms": "",
                "contact_case": False,
                "contact_outbreak_area": False,
                "contact_symptomatic": False,
                "chronic_conditions": "",
                "consent": True,
            }
            declaration_submit(actor=account, person=person, data=declaration_input_clean(raw))
    stats_rollup()
    day = timezone.localdate()
    expected = Counter()
    for declaration in Declaration.objects.select_related("commune__parent__parent"):
        commune = declaration.commune
        for area in (commune, commune.parent, commune.parent.parent):
            expected[area.code] += 1
    published = {
        cell.area.code: cell
        for cell in StatCell.objects.filter(metric="declarations", day=day).select_related("area")
    }
    assert {code: cell.value for code, cell in published.items()} == dict(expected)
    assert published["30"].shown == 15
    assert published["10510"].shown is None  # 2 declarations: a small count
