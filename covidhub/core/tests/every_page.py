"""The catalogue of pages that the every-page browser suite visits (test_browser_every_page).

Every named route of the URLconf is either a page here — who looks at it and how its
arguments are built from the demo province — or listed in NOT_PAGES with the reason it is
not a page (a file, an action that only answers POST, the API). A route in neither makes the
suite fail, so a new page cannot be added without being looked at in both languages and at
both sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

ANON = "anonymous"
CITIZEN = "citizen"  # the demo citizen 0912 000 001 (Nguyễn Văn An)
CITIZEN_2 = "citizen-2"  # the demo citizen 0912 000 002 (Trần Thị Bình)
CITIZEN_3 = "citizen-3"  # the demo citizen 0912 000 003 (Phạm Văn Cường, under home care)
CITIZEN_PHONES = {
    CITIZEN: "+84912000001",
    CITIZEN_2: "+84912000002",
    CITIZEN_3: "+84912000003",
}
HOME_COMMUNE = "10507"
HOME_DISTRICT = "288"

# One demo account per staff role (covidhub/demo): each visits its workspace and every
# page the workspace links to; the pages with arguments below say which of them looks.
STAFF_PERSONAS = {
    "admin": "administrator",
    "tinh": "province_officer",
    "huyen": "district_officer",
    "xa": "commune_officer",
    "bientap": "portal_editor",
    "laymau": "sampler",
    "xetnghiem": "lab_technician",
    "tiemchung": "vaccinator",
    "diemtiem": "site_manager",
    "sotttt": "agency_head",
    "quocgia": "national_officer",
}

NOT_PAGES: dict[str, str] = {
    "core:manifest": "JSON web-app manifest",
    "core:service_worker": "JavaScript",
    "core:favicon": "redirect to the icon",
    "certificates:verify_sw": "JavaScript",
    "javascript-catalog": "JavaScript",
    "healthz": "JSON probe",
    "readyz": "JSON probe",
    "metrics": "Prometheus exposition, for the monitoring network only",
    "set_language": "POST-only action (the language form on every page)",
    "accounts:sign_out": "POST-only action",
    "declarations:venue_poster": "PDF",
    "declarations:checkout": "POST-only action",
    "declarations:followup_case": "POST-only action",
    "people:correction_request": "POST-only action",
    "declarations:venue_link": "redirect to the check-in form with the venue's code",
    "testing:result_pdf": "PDF",
    "testing:lookup_pdf": "PDF",
    "testing:session_action": "POST-only action",
    "testing:lab_action": "POST-only action",
    "vaccination:booking_qr": "SVG image",
    "vaccination:booking_cancel": "POST-only action",
    "vaccination:booking_respond": "POST-only action",
    "certificates:trust_list_json": "JSON",
    "certificates:revocations_json": "JSON",
    "certificates:value_sets_json": "JSON",
    "certificates:rules_json": "JSON",
    "certificates:pdf": "PDF",
    "certificates:health_card_download": "SMART Health Card file (JSON)",
    "certificates:ddcc": "FHIR JSON document",
    "certificates:jwks": "JSON key set",
    "certificates:health_card_crl": "JSON revocation list",
    "certificates:print_pdf": "PDF",
    "certificates:checkpoint_sw": "JavaScript",
    "certificates:checkpoint_manifest": "JSON web-app manifest",
    "certificates:key_retire": "POST-only action",
    "portal:chart": "SVG image",
    "portal:embed_snippet": "HTML fragment for other sites (no page of ours)",
    "portal:feed": "Atom feed",
    "portal:image": "image file",
    "portal:data_summary": "JSON",
    "portal:data_daily": "CSV/JSON",
    "portal:data_daily_recent": "CSV/JSON",
    "portal:staff_announcement_publish": "POST-only action",
    "portal:staff_announcement_withdraw": "POST-only action",
    "portal:staff_official_count_remove": "POST-only action",
    "adoption:report_export": "spreadsheet",
    "adoption:kit_poster": "PDF",
    "adoption:kit_qr": "PNG image",
    "adoption:reminders_send": "POST-only action",
    "notifications:dev_outbox": "developer tool (DEBUG only, 404 otherwise)",
    "fhir:my_record_download": "FHIR JSON file",
    "clients:token": "OAuth token endpoint (POST, JSON)",
    "clients:rotate": "POST-only action (its answer, the new secret, is checked in clients' tests)",
    "clients:revoke": "POST-only action",
    "exchange:retry": "POST-only action",
    "homecare:release_pdf": "PDF",
    "homecare:staff_release_pdf": "PDF",
    "homecare:order_action": "POST-only action",
    "homecare:alert_action": "POST-only action",
    "homecare:contact_open": "POST-only action",
}
# Pages the demo province has no object for yet, so that the suite cannot open them: each
# is a gap to close by seeding the object (covidhub/demo), not a page exempt from checks.
NO_DEMO_OBJECT: dict[str, str] = {
    "certificates:acceptance_rules_index": "redirect to the venue rules",
}
NOT_PAGE_PREFIXES = ("admin:",)  # Django's admin: administrators only, not daily work
NOT_PAGE_PATHS = ("api/", "fhir")  # the JSON API and the FHIR surface


@dataclass(frozen=True)
class Page:
    persona: str
    build: Callable[[], dict[str, Any]] | None = None  # the URL's arguments


def _first(model: Any, **filters: Any) -> Any:
    found = model.objects.filter(**filters).order_by("pk").first()
    if found is None:
        raise LookupError(f"the demo province has no {model.__name__} with {filters}")
    return found


def _citizen_person() -> Any:
    from covidhub.people.models import Person

    return _first(Person, managed_by__phone="+84912000001", relationship="self")


def _person_in_commune() -> Any:
    from covidhub.people.models import Person

    return _first(Person, commune__code=HOME_COMMUNE)


def _uuid(model_path: str, key: str, **filters: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        from django.apps import apps

        return {key: _first(apps.get_model(model_path), **filters).uuid}

    return build


def _citizen(key: str) -> Callable[[], dict[str, Any]]:
    return lambda: {key: _citizen_person().uuid}


def _agency() -> Any:
    """The agency the demo agency head `sotttt` runs."""
    from covidhub.accounts.models import RoleAssignment
    from covidhub.adoption.models import Agency

    unit = _first(RoleAssignment, user__username="sotttt").unit_uuid
    return _first(Agency, uuid=unit)


def _upload() -> Any:
    from covidhub.adoption.models import RosterUpload

    return _first(RosterUpload, agency=_agency())


def _announcement() -> Any:
    from covidhub.portal.models import Announcement

    return _first(Announcement)


def _result_token() -> str:
    from covidhub.testing.document import verification_token
    from covidhub.testing.models import Result

    return str(verification_token(_first(Result, person=_citizen_person())))


def _opt_out_token() -> str:
    from covidhub.adoption.models import RosterMember

    return str(_first(RosterMember).opt_out_token)


def _certificate() -> dict[str, Any]:
    from covidhub.certificates.models import IssuedCertificate

    return {"certificate_uuid": _first(IssuedCertificate, person=_citizen_person()).uuid}


def _vaccination_certificate() -> dict[str, Any]:
    from covidhub.certificates.models import IssuedCertificate

    return {
        "certificate_uuid": _first(
            IssuedCertificate, person=_citizen_person(), kind="v", revoked_at__isnull=True
        ).uuid
    }


def _certificate_in_commune() -> dict[str, Any]:
    from covidhub.certificates.models import IssuedCertificate

    return {
        "certificate_uuid": _first(
            IssuedCertificate, person__commune__code=HOME_COMMUNE, revoked_at__isnull=True
        ).uuid
    }


def _acceptance_draft() -> dict[str, Any]:
    from covidhub.certificates.models import AcceptanceRuleSet

    draft = _first(AcceptanceRuleSet, state="draft")
    return {"purpose": draft.purpose, "version": draft.version}


def _draft_rules() -> dict[str, Any]:
    from covidhub.certificates.models import StatusRuleSet

    return {"version": _first(StatusRuleSet, state="draft").version}


def _homecare_order() -> dict[str, Any]:
    from covidhub.homecare.models import CareOrder

    order = _first(CareOrder, person__managed_by__phone=CITIZEN_PHONES[CITIZEN_3])
    return {"order_uuid": order.uuid}


def _homecare_token() -> dict[str, Any]:
    from covidhub.homecare.document import verification_token
    from covidhub.homecare.models import CareOrder

    return {"token": verification_token(_first(CareOrder, status="released"))}


# Pages that take arguments, or that no workspace links to: who looks and how to build them.
PAGES: dict[str, Page] = {
    "core:home": Page(CITIZEN),
    "core:task_pending": Page(ANON, lambda: {"key": "declare"}),
    "core:offline": Page(ANON),
    "accounts:citizen_login": Page(ANON),
    "accounts:citizen_code": Page(ANON),
    "accounts:staff_login": Page(ANON),
    "accounts:staff_verify": Page(ANON),
    "accounts:staff_enrol": Page(ANON),
    "people:self_create": Page(CITIZEN),
    "people:household": Page(CITIZEN),
    "people:member_add": Page(CITIZEN),
    "people:member_edit": Page(CITIZEN, _citizen("person_uuid")),
    "people:access_log": Page(CITIZEN),
    "fhir:my_records": Page(CITIZEN),
    "people:staff_people": Page("xa"),
    "people:staff_person": Page("xa", lambda: {"person_uuid": _person_in_commune().uuid}),
    "people:staff_correction_request": Page(
        "xa", lambda: {"person_uuid": _person_in_commune().uuid}
    ),
    "people:staff_correction": Page(
        "xa", _uuid("people.CorrectionRequest", "request_uuid", status="pending")
    ),
    "notifications:inbox": Page(CITIZEN),
    "declarations:home": Page(CITIZEN),
    "declarations:declare": Page(CITIZEN, _citizen("person_uuid")),
    "declarations:personal_qr": Page(CITIZEN, _citizen("person_uuid")),
    "declarations:personal_card": Page(CITIZEN, _citizen("person_uuid")),
    "declarations:checkin": Page(CITIZEN),
    "declarations:checkins": Page(CITIZEN),
    "declarations:venue_list": Page(CITIZEN),
    "declarations:venue_new": Page(CITIZEN),
    "declarations:venue_detail": Page(CITIZEN, _uuid("declarations.Venue", "venue_uuid")),
    "declarations:venue_scan": Page(CITIZEN, _uuid("declarations.Venue", "venue_uuid")),
    "declarations:followup_detail": Page("xa", _uuid("declarations.FollowUp", "followup_uuid")),
    "declarations:case_detail": Page(
        "huyen", _uuid("declarations.Case", "case_uuid", status="confirmed")
    ),
    "testing:register": Page(CITIZEN),
    "testing:my_results": Page(CITIZEN),
    "testing:lookup": Page(ANON),
    "testing:verify": Page(ANON, lambda: {"token": _result_token()}),
    "testing:session": Page("laymau", _uuid("testing.SamplingSession", "session_uuid")),
    "testing:session_walk_in": Page("laymau", _uuid("testing.SamplingSession", "session_uuid")),
    "testing:shipment": Page("xetnghiem", _uuid("testing.Shipment", "shipment_uuid")),
    "testing:staff_case": Page("tinh", _uuid("testing.CaseReport", "case_uuid")),
    "testing:appointment": Page(
        CITIZEN_2, _uuid("testing.Appointment", "appointment_uuid", status="booked")
    ),
    "testing:import_detail": Page("xetnghiem", _uuid("testing.ImportBatch", "import_uuid")),
    "testing:import_job": Page(
        "xetnghiem", _uuid("core.ImportJob", "job_uuid", kind="testing.lab_results")
    ),
    "vaccination:register": Page(CITIZEN),
    "vaccination:book": Page(CITIZEN, _citizen("person_uuid")),
    "vaccination:my_vaccinations": Page(CITIZEN),
    "vaccination:reaction": Page(CITIZEN, _citizen("person_uuid")),
    "vaccination:site_day": Page(
        "diemtiem", _uuid("vaccination.VaccinationSite", "site_uuid", commune__code=HOME_COMMUNE)
    ),
    "vaccination:wastage": Page(
        "diemtiem", _uuid("vaccination.VaccinationSite", "site_uuid", commune__code=HOME_COMMUNE)
    ),
    "vaccination:campaign_create": Page("tinh"),
    "vaccination:session_create": Page("tinh", _uuid("vaccination.Campaign", "campaign_uuid")),
    "vaccination:invite": Page("tinh", _uuid("vaccination.Session", "session_uuid")),
    "vaccination:import": Page("tinh"),
    "vaccination:import_job": Page(
        "tinh", _uuid("core.ImportJob", "job_uuid", kind="vaccination.registration")
    ),
    "vaccination:screening": Page(
        "tiemchung", _uuid("vaccination.Booking", "booking_uuid", status="checked_in")
    ),
    "vaccination:dose": Page(
        "tiemchung", _uuid("vaccination.Booking", "booking_uuid", status="checked_in")
    ),
    "vaccination:staff_person": Page("tinh", lambda: {"person_uuid": _citizen_person().uuid}),
    "certificates:mine": Page(CITIZEN),
    "certificates:detail": Page(CITIZEN, _certificate),
    "certificates:qr_full": Page(CITIZEN, _certificate),
    "certificates:health_card": Page(CITIZEN, _vaccination_certificate),
    "certificates:checkpoint": Page(ANON),
    "certificates:print_person": Page("xa", lambda: {"person_uuid": _person_in_commune().uuid}),
    "certificates:print_qr": Page("xa", _certificate_in_commune),
    "certificates:acceptance_rules": Page("tinh", lambda: {"purpose": "travel"}),
    "certificates:acceptance_rules_preview": Page("tinh", _acceptance_draft),
    "certificates:rules_preview": Page("tinh", _draft_rules),
    "portal:home": Page(ANON),
    "portal:province": Page(ANON, lambda: {"code": "30"}),
    "portal:district": Page(ANON, lambda: {"code": HOME_DISTRICT}),
    "portal:commune": Page(ANON, lambda: {"code": HOME_COMMUNE}),
    "portal:embed": Page(ANON),
    "portal:announcements": Page(ANON),
    "portal:announcement": Page(ANON, lambda: {"slug": _announcement().slug}),
    "portal:guides": Page(ANON),
    "portal:guide": Page(ANON, lambda: {"key": "declare"}),
    "portal:faq": Page(ANON),
    "portal:contact": Page(ANON),
    "portal:contact_sent": Page(ANON),
    "portal:data": Page(ANON),
    "portal:staff_announcement_new": Page("bientap"),
    "portal:staff_announcement": Page("bientap", lambda: {"uuid": _announcement().uuid}),
    "portal:staff_images": Page("bientap"),
    "portal:staff_ticket": Page("bientap", _uuid("portal.SupportTicket", "uuid", status="open")),
    "adoption:kit": Page(ANON),
    "adoption:opt_out": Page(ANON, lambda: {"token": _opt_out_token()}),
    "adoption:report_print": Page("sotttt"),
    "adoption:report_areas": Page("tinh"),
    "adoption:agency": Page("sotttt", lambda: {"agency_uuid": _agency().uuid}),
    "adoption:roster": Page("sotttt", lambda: {"agency_uuid": _agency().uuid}),
    "adoption:roster_upload": Page("sotttt", lambda: {"agency_uuid": _agency().uuid}),
    "adoption:upload": Page("sotttt", lambda: {"upload_uuid": _upload().uuid}),
    "clients:new": Page("admin"),
    "exchange:reconciliation": Page("admin"),
    "homecare:home": Page(CITIZEN_3),
    "homecare:check": Page(CITIZEN_3, _homecare_order),
    "homecare:verify": Page(ANON, _homecare_token),
    "homecare:order_new": Page("xa", lambda: {"person_uuid": _person_in_commune().uuid}),
    "homecare:order_detail": Page("xa", _homecare_order),
    "homecare:chain": Page("xa", _homecare_order),
    "homecare:alert_detail": Page("xa", _uuid("homecare.CareAlert", "alert_uuid")),
    "homecare:duty": Page("xa"),
    "homecare:protocol": Page("tinh"),
    "exchange:import": Page("xa"),
    "exchange:import_job": Page(
        "xa", _uuid("core.ImportJob", "job_uuid", kind="exchange.immunizations")
    ),
    "clients:detail": Page("admin", _uuid("clients.MachineClient", "client_uuid")),
}


def named_routes() -> dict[str, str]:
    """Every named route of the URLconf, `namespace:name` → its pattern."""
    found: dict[str, str] = {}

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.setdefault(namespace + pattern.name, prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "", "")
    return found


def is_not_page(name: str, pattern: str) -> bool:
    return (
        name in NOT_PAGES
        or name in NO_DEMO_OBJECT
        or name.startswith(NOT_PAGE_PREFIXES)
        or pattern.lstrip("^").startswith(NOT_PAGE_PATHS)
    )
