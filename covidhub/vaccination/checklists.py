"""The questions asked at registration and the Ministry of Health's pre-vaccination
screening checklist (Decision 3802/QĐ-BYT), with what a "yes" leads to."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Question:
    key: str
    text: str | Promise
    # What a "yes" leads to at screening: "refer" (vaccinate only in hospital), "postpone",
    # "caution" (vaccinate, watched more closely) or "" (information only).
    effect: str = ""


HEALTH_QUESTIONS: tuple[Question, ...] = (
    Question("anaphylaxis", _("Have you ever had a severe allergic reaction (anaphylaxis)?")),
    Question("chronic", _("Do you have a chronic disease (heart, lungs, diabetes, cancer…)?")),
    Question(
        "immunosuppressed",
        _("Do you have a weakened immune system or take medicines that weaken it?"),
    ),
    Question("pregnant", _("Are you pregnant or breastfeeding?")),
    Question("covid_recent", _("Have you had COVID-19 in the last 6 months?")),
)

SCREENING_CHECKLIST: tuple[Question, ...] = (
    Question(
        "anaphylaxis_vaccine", _("Anaphylaxis after a previous dose of a COVID-19 vaccine"), "refer"
    ),
    Question(
        "anaphylaxis_other",
        _("History of anaphylaxis (grade 2 or above) to any other allergen"),
        "refer",
    ),
    Question(
        "immunodeficiency",
        _("Immunodeficiency, end-stage cancer, removed spleen, decompensated cirrhosis"),
        "refer",
    ),
    Question("chronic_progressing", _("Chronic disease that is progressing"), "refer"),
    Question("consciousness", _("Disturbed consciousness or behaviour"), "refer"),
    Question("acute_illness", _("Acute illness"), "postpone"),
    Question("fever", _("Fever (37.5 °C or above) or abnormal vital signs"), "postpone"),
    Question("covid_recent", _("COVID-19 in the last 3 months"), "postpone"),
    Question("other_vaccine", _("Another vaccine in the last 14 days"), "postpone"),
    Question(
        "immunosuppressants",
        _("Immunosuppressants or high-dose corticosteroids in the last 14 days"),
        "postpone",
    ),
    Question("pregnant_early", _("Pregnant, less than 13 weeks"), "postpone"),
    Question("chronic_stable", _("Chronic disease, treated and stable"), "caution"),
    Question("allergy_other", _("Allergy to other substances"), "caution"),
    Question("bleeding", _("Bleeding disorder or taking anticoagulants"), "caution"),
    Question("age_65", _("Aged 65 or over"), "caution"),
    Question("pregnant_late", _("Pregnant, 13 weeks or more"), "caution"),
)


def screening_suggestion(answers: dict[str, bool], temperature: float | None) -> str:
    """The conclusion the answers lead to: "refer", "postpone" or "vaccinate"."""
    effects = {q.effect for q in SCREENING_CHECKLIST if answers.get(q.key)}
    if temperature is not None and temperature >= 37.5:
        effects.add("postpone")
    if "refer" in effects:
        return "refer"
    if "postpone" in effects:
        return "postpone"
    return "vaccinate"
