"""Wording that a new user saw wrong: one translation per message (Django merges the apps'
catalogues, so "Person" translated for testing labelled the check-in history), English
that is the source text, one date format per language, no stored keys on screen."""

import datetime
import importlib.util
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import formats, translation

ROOT = Path(__file__).resolve().parents[3]
# Aliases, so that makemessages does not take the tests' strings for messages of core.
look_up, look_up_in = translation.gettext, translation.pgettext


def _i18n_script():
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_translation_per_message_and_english_is_the_source():
    i18n = _i18n_script()
    for language in ("vi", "en"):
        paths = [p for p in i18n.catalogues() if p.parts[-3] == language]
        assert i18n.merged_conflicts(paths) == []
    for path in i18n.catalogues():
        if path.parts[-3] == "en":
            assert i18n.english_mismatches(path) == []


def test_words_with_two_meanings_say_which():
    from covidhub.testing.models import Appointment

    with translation.override("vi"):
        assert look_up("Person") == "Người dân"  # check-in history, cases, adverse events
        assert look_up_in("vaccination", "Site") == "Điểm tiêm"
        assert look_up("Site") == "Điểm lấy mẫu"
        assert look_up_in("testing round", "Name") == "Tên đợt xét nghiệm"
        assert str(Appointment.Status.COLLECTED.label) == "Đã lấy mẫu"
    with translation.override("en"):
        assert look_up("Booking confirmed") == "Booking confirmed"


def test_one_date_format_per_language():
    day = datetime.date(2021, 10, 11)
    with translation.override("vi"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "11/10/2021"
    with translation.override("en"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "11 Oct 2021"
    hard_coded = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("covidhub/**/templates/**/*.html")
        if 'date:"d/m' in path.read_text(encoding="utf-8")
    ]
    assert hard_coded == []


def test_screening_shows_the_registration_questions_not_their_keys():
    from types import SimpleNamespace

    from covidhub.vaccination import rules
    from covidhub.vaccination.models import Registration
    from covidhub.vaccination.selectors import PersonVaccinationView

    view = PersonVaccinationView(
        person=SimpleNamespace(
            full_name="Nguyễn Văn An",
            birth=SimpleNamespace(display="1985"),
            get_sex_display="Nam",
            id_number_masked="0300****01",
        ),
        registration=Registration(health_answers={"chronic": True, "pregnant": False}),
        doses=[],
        bookings=[],
        next_dose=rules.NextDose("", 0, 0, None, None, None),
    )
    with translation.override("en"):
        html = render_to_string("vaccination/_person_summary.html", {"view": view, "booking": None})
    assert "chronic disease" in html
    assert "chronic " not in html.replace("chronic disease", "")
    assert "pregnant" not in html.lower()


def test_the_empty_choice_of_a_select_list_is_in_vietnamese() -> None:
    # Django 6.1's "- Select an option -" has no Vietnamese in Django's own catalogue.
    from django.db.models import fields
    from django.utils import translation

    with translation.override("vi"):
        assert str(fields.BLANK_CHOICE_LABEL) == "- Chọn một mục -"
    with translation.override("en"):
        assert str(fields.BLANK_CHOICE_LABEL) == "- Select an option -"
