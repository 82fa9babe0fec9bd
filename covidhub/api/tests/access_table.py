"""The access matrix's table: every route that takes an object id, what object it takes
and which roles legitimately reach it.

A route that is added to the URLconf or the API without an entry here fails
`test_access_matrix.py::test_every_route_with_an_id_has_an_entry`.

`sees`: the roles that reach the object when it is within their reach (their commune,
district or province; their own unit; for a citizen, their own household). Every other
role, and every role for an object beyond its reach, must get 404 without the object's
identifying bytes. `who`: the kind of account the route serves at all ("citizen", "staff",
"any"); an account of the other kind may instead be sent to its sign-in (302) or refused
(401/403) — before anything is looked up. `province_wide`: a record without an area (an
announcement, a key): only the roles decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CITIZEN = frozenset({"citizen"})
OFFICERS = frozenset({"commune_officer", "district_officer", "province_officer", "administrator"})
PLANNERS = frozenset({"district_officer", "province_officer", "administrator"})
SAMPLING = frozenset({"sampler"})  # the world's site manager runs a vaccination site
VACCINATING = frozenset({"vaccinator", "site_manager"})
LAB = frozenset({"lab_technician"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Entry:
    kind: str
    sees: frozenset[str]
    who: str = "staff"
    method: str = "GET"
    province_wide: bool = False
    # Only the account that made it sees it (a background job): served at "own" only.
    own_only: bool = False
    # Fields that get a request past validation to the look-up, beyond the schema's
    # smallest example.
    body: dict[str, Any] | None = None
    # Why the look-up also depends on a second object named in the body, which the matrix
    # does not build: the served side then accepts any answer below 500 but 401/403, and
    # the refused side also accepts a 422 given before the look-up (the bytes are still
    # checked).
    loose: str = ""


@dataclass(frozen=True)
class Exempt:
    """A route whose id is not an object of someone's (a public code, a capability token
    that is itself the secret, a language): why, and where its own tests are."""

    reason: str


PUBLIC_TOKEN = Exempt("the token is the secret (random, unguessable); see its app's tests")
PUBLIC_AREA = Exempt("public statistics of an area code (suppressed small counts)")
PUBLIC_TEXT = Exempt("public page addressed by slug or language")

PAGES: dict[str, Entry | Exempt] = {
    ".well-known/crl/<str:kid>.json": Exempt(
        "the public revocation list of a published SMART Health Card key (test_healthcards)"
    ),
    "tasks/<slug:key>/": Exempt("a background task's progress key (random, per account)"),
    "me/household/<uuid:person_uuid>/": Entry("person", CITIZEN, "citizen"),
    "me/health-records/<uuid:person_uuid>/fhir.json": Entry("person", CITIZEN, "citizen"),
    # The FHIR surface answers OperationOutcome JSON with its own reader (bearer token or
    # session) and is tested per resource type in covidhub/fhir/tests/test_access.py.
    "fhir/bulkstatus/<uuid:job_uuid>": Exempt(
        "FHIR bulk export status: the requester's own job only (fhir/tests/test_bulk.py)"
    ),
    "fhir/bulkfiles/<uuid:job_uuid>/<str:file_name>": Exempt(
        "FHIR bulk export file: the requester's own job only (fhir/tests/test_bulk.py)"
    ),
    "fhir/Patient/<str:resource_id>/$everything": Exempt(
        "FHIR Patient/$everything: scoped like the people pages (fhir/tests/test_access.py)"
    ),
    "fhir/<str:resource_type>": Exempt("FHIR search: scoped per type (fhir/tests/test_access.py)"),
    "fhir/<str:resource_type>/<str:resource_id>": Exempt(
        "FHIR read: scoped per type (fhir/tests/test_access.py)"
    ),
    "staff/people/<uuid:person_uuid>/": Entry("person", OFFICERS),
    "me/household/<uuid:person_uuid>/correction/": Entry("person", CITIZEN, "citizen", "POST"),
    "staff/people/<uuid:person_uuid>/correction/": Entry("person", OFFICERS),
    "staff/corrections/<uuid:request_uuid>/": Entry("correction", OFFICERS),
    "declarations/<uuid:person_uuid>/new/": Entry("person", CITIZEN, "citizen"),
    "declarations/<uuid:person_uuid>/qr/": Entry("person", CITIZEN, "citizen"),
    "declarations/<uuid:person_uuid>/card/": Entry("person", CITIZEN, "citizen"),
    "declarations/checkins/<uuid:checkin_uuid>/checkout/": Entry(
        "checkin", CITIZEN, "citizen", "POST"
    ),
    "v/<str:code>/": PUBLIC_TOKEN,
    "homecare/orders/<uuid:order_uuid>/check/": Entry("homecare_order", CITIZEN, "citizen"),
    "homecare/orders/<uuid:order_uuid>/release.pdf": Entry(
        "homecare_order_released", CITIZEN, "citizen"
    ),
    "homecare/verify/<str:token>/": PUBLIC_TOKEN,
    "staff/homecare/contacts/<uuid:candidate_uuid>/open/": Entry(
        "exposure_candidate", OFFICERS, method="POST"
    ),
    "staff/homecare/people/<uuid:person_uuid>/open/": Entry("person", OFFICERS),
    "staff/homecare/orders/<uuid:order_uuid>/": Entry("homecare_order", OFFICERS),
    "staff/homecare/orders/<uuid:order_uuid>/chain/": Entry("homecare_order", OFFICERS),
    "staff/homecare/orders/<uuid:order_uuid>/action/": Entry(
        "homecare_order", OFFICERS, method="POST"
    ),
    "staff/homecare/orders/<uuid:order_uuid>/release.pdf": Entry(
        "homecare_order_released", OFFICERS
    ),
    "staff/homecare/alerts/<uuid:alert_uuid>/": Entry("homecare_alert", OFFICERS),
    "staff/homecare/alerts/<uuid:alert_uuid>/action/": Entry(
        "homecare_alert", OFFICERS, method="POST"
    ),
    "declarations/venues/<uuid:venue_uuid>/": Entry("venue", CITIZEN | OFFICERS, "any"),
    "declarations/venues/<uuid:venue_uuid>/poster.pdf": Entry("venue", CITIZEN | OFFICERS, "any"),
    "declarations/venues/<uuid:venue_uuid>/scan/": Entry("venue", CITIZEN | OFFICERS, "any"),
    "staff/declarations/followups/<uuid:followup_uuid>/": Entry("followup", OFFICERS),
    "staff/declarations/followups/<uuid:followup_uuid>/case/": Entry(
        "followup", OFFICERS, method="POST"
    ),
    "staff/declarations/cases/<uuid:case_uuid>/": Entry("declaration_case", OFFICERS),
    "testing/appointments/<uuid:appointment_uuid>/": Entry("appointment", CITIZEN, "citizen"),
    "testing/results/<uuid:result_uuid>/pdf/": Entry("result", CITIZEN, "citizen"),
    "testing/lookup/pdf/<str:token>/": PUBLIC_TOKEN,
    "testing/verify/<str:token>/": PUBLIC_TOKEN,
    "staff/testing/sessions/<uuid:session_uuid>/": Entry("sampling_session", SAMPLING),
    "staff/testing/sessions/<uuid:session_uuid>/walk-in/": Entry("sampling_session", SAMPLING),
    "staff/testing/sessions/<uuid:session_uuid>/action/": Entry(
        "sampling_session", SAMPLING, method="POST"
    ),
    "staff/testing/shipments/<uuid:shipment_uuid>/": Entry("shipment", SAMPLING | LAB),
    "staff/testing/labs/<uuid:lab_uuid>/action/": Entry("lab", LAB, method="POST"),
    "staff/testing/imports/<uuid:import_uuid>/": Entry("import", LAB),
    "staff/testing/cases/<uuid:case_uuid>/": Entry("testing_case", OFFICERS),
    "staff/testing/import-jobs/<uuid:job_uuid>/": Entry("lab_import_job", LAB, own_only=True),
    "vaccination/book/<uuid:person_uuid>/": Entry("person", CITIZEN, "citizen"),
    "vaccination/me/reaction/<uuid:person_uuid>/": Entry("person", CITIZEN, "citizen"),
    "vaccination/me/bookings/<uuid:booking_uuid>/qr.svg": Entry("booking", CITIZEN, "citizen"),
    "vaccination/me/bookings/<uuid:booking_uuid>/cancel/": Entry(
        "booking", CITIZEN, "citizen", "POST"
    ),
    "vaccination/me/bookings/<uuid:booking_uuid>/respond/": Entry(
        "booking", CITIZEN, "citizen", "POST"
    ),
    "staff/vaccination/sites/<uuid:site_uuid>/": Entry("vaccination_site", VACCINATING | OFFICERS),
    "staff/vaccination/sites/<uuid:site_uuid>/wastage/": Entry(
        "vaccination_site", VACCINATING | PLANNERS
    ),
    "staff/vaccination/bookings/<uuid:booking_uuid>/screening/": Entry("booking", VACCINATING),
    "staff/vaccination/bookings/<uuid:booking_uuid>/dose/": Entry("booking", VACCINATING),
    "staff/vaccination/campaigns/<uuid:campaign_uuid>/sessions/new/": Entry("campaign", PLANNERS),
    "staff/vaccination/sessions/<uuid:session_uuid>/invite/": Entry(
        "vaccination_session", OFFICERS
    ),
    "staff/vaccination/people/<uuid:person_uuid>/": Entry("person", OFFICERS),
    "staff/vaccination/import/jobs/<uuid:job_uuid>/": Entry(
        "import_job", frozenset({"commune_officer"}), own_only=True
    ),
    "staff/exchange/import/jobs/<uuid:job_uuid>/": Entry(
        "inbound_import_job", frozenset({"commune_officer"}), own_only=True
    ),
    "certificates/<uuid:certificate_uuid>/": Entry("certificate", CITIZEN, "citizen"),
    "certificates/<uuid:certificate_uuid>/qr/": Entry("certificate", CITIZEN, "citizen"),
    "certificates/<uuid:certificate_uuid>/pdf/<str:size>/": Entry(
        "certificate", CITIZEN, "citizen"
    ),
    "certificates/<uuid:certificate_uuid>/health-card/": Entry("certificate", CITIZEN, "citizen"),
    "certificates/<uuid:certificate_uuid>/health-card/download/": Entry(
        "certificate", CITIZEN, "citizen"
    ),
    "certificates/<uuid:certificate_uuid>/ddcc-vs.json": Entry("certificate", CITIZEN, "citizen"),
    "staff/certificates/print/people/<uuid:person_uuid>/": Entry("person", OFFICERS),
    "staff/certificates/print/<uuid:certificate_uuid>/pdf/<str:size>/": Entry(
        "certificate", OFFICERS
    ),
    "staff/certificates/print/<uuid:certificate_uuid>/qr/": Entry("certificate", OFFICERS),
    # Machine clients: the province's administrators manage every one granted within their
    # province (another served province's clients are its administrators').
    "staff/clients/<uuid:client_uuid>/": Entry("machine_client", frozenset({"administrator"})),
    "staff/clients/<uuid:client_uuid>/secret/": Entry(
        "machine_client", frozenset({"administrator"}), method="POST"
    ),
    "staff/clients/<uuid:client_uuid>/revoke/": Entry(
        "machine_client", frozenset({"administrator"}), method="POST"
    ),
    "staff/certificates/keys/<uuid:key_uuid>/retire/": Entry(
        "signing_key", frozenset({"administrator"}), method="POST", province_wide=True
    ),
    "staff/certificates/acceptance-rules/<str:purpose>/": Exempt(
        "a purpose (venue, event, travel), not an object: province-wide rules for officers"
        " (certificates/tests/test_value_sets_rules.py)"
    ),
    "staff/certificates/acceptance-rules/<str:purpose>/<int:version>/": Entry(
        "acceptance_rules", OFFICERS, province_wide=True
    ),
    "staff/certificates/status-rules/<int:version>/": Entry(
        "status_rules", OFFICERS, province_wide=True
    ),
    "portal/provinces/<str:code>/": PUBLIC_AREA,
    "portal/districts/<str:code>/": PUBLIC_AREA,
    "portal/communes/<str:code>/": PUBLIC_AREA,
    "portal/charts/<int:level>/<str:code>/<slug:kind>.<str:language>.svg": PUBLIC_AREA,
    "portal/announcements/<slug:slug>/": PUBLIC_TEXT,
    "portal/feed/<str:language>.atom": PUBLIC_TEXT,
    "portal/images/<uuid:uuid>/": Exempt("published images of public announcements"),
    "portal/guides/<slug:key>/": PUBLIC_TEXT,
    r"^portal/data/daily/(?P<code>\d{1,10})\.(?P<extension>csv|json)$": PUBLIC_AREA,
    r"^portal/data/daily/(?P<code>\d{1,10})/(?P<period>recent)\.(?P<extension>csv|json)$": (
        PUBLIC_AREA
    ),
    "staff/portal/announcements/<uuid:uuid>/": Entry(
        "announcement", frozenset({"portal_editor", "administrator"}), province_wide=True
    ),
    "staff/portal/announcements/<uuid:uuid>/publish/": Entry(
        "announcement",
        frozenset({"portal_editor", "administrator"}),
        method="POST",
        province_wide=True,
    ),
    "staff/portal/announcements/<uuid:uuid>/withdraw/": Entry(
        "announcement",
        frozenset({"portal_editor", "administrator"}),
        method="POST",
        province_wide=True,
    ),
    "staff/portal/official-counts/<uuid:uuid>/remove/": Entry(
        "official_count",
        frozenset({"province_officer", "administrator"}),
        method="POST",
        province_wide=True,
    ),
    "staff/portal/tickets/<uuid:uuid>/": Entry(
        "ticket", frozenset({"portal_editor", "administrator"}), province_wide=True
    ),
    "staff/adoption/agencies/<uuid:agency_uuid>/": Entry(
        "agency", frozenset({"agency_head"}) | PLANNERS
    ),
    "staff/adoption/agencies/<uuid:agency_uuid>/roster/": Entry(
        "agency", frozenset({"agency_head", "administrator"})
    ),
    "staff/adoption/agencies/<uuid:agency_uuid>/roster/upload/": Entry(
        "agency", frozenset({"agency_head", "administrator"})
    ),
    "staff/adoption/agencies/<uuid:agency_uuid>/reminders/": Entry(
        "agency", frozenset({"agency_head", "administrator"}), method="POST"
    ),
    "staff/adoption/uploads/<uuid:upload_uuid>/": Entry(
        "roster", frozenset({"agency_head", "administrator"})
    ),
    "adoption/stop/<str:token>/": PUBLIC_TOKEN,
}

API: dict[str, Entry | Exempt] = {
    "PUT /household/{person_uuid}": Entry("person", CITIZEN),
    "GET /staff/people/{person_uuid}": Entry("person", OFFICERS),
    "PUT /staff/people/{person_uuid}": Entry("person", OFFICERS),
    "POST /household/{person_uuid}/corrections": Entry("person", CITIZEN),
    "POST /staff/people/{person_uuid}/corrections": Entry("person", OFFICERS),
    "GET /staff/people/corrections/{request_uuid}": Entry("correction", OFFICERS),
    "POST /staff/people/corrections/{request_uuid}/approve": Entry("correction", OFFICERS),
    "POST /staff/people/corrections/{request_uuid}/reject": Entry("correction", OFFICERS),
    "POST /inbox/{message_uuid}/read": Entry("message", CITIZEN),
    "POST /homecare/orders/{order_uuid}/checks": Entry(
        "homecare_order", CITIZEN, body={"client_key": "matrix-key-0001", "no_symptoms": True}
    ),
    "GET /homecare/staff/orders/{order_uuid}": Entry("homecare_order", OFFICERS),
    "POST /homecare/alerts/{alert_uuid}/take": Entry("homecare_alert", OFFICERS),
    "POST /homecare/alerts/{alert_uuid}/close": Entry(
        "homecare_alert", OFFICERS, body={"outcome": "called"}
    ),
    "GET /declarations/people/{person_uuid}/prefill": Entry("person", CITIZEN),
    "GET /declarations/people/{person_uuid}/qr": Entry("person", CITIZEN),
    "POST /declarations/checkins/{checkin_uuid}/checkout": Entry("checkin", CITIZEN),
    "GET /declarations/venues/{venue_uuid}": Entry("venue", CITIZEN | OFFICERS),
    "GET /declarations/venues/{venue_uuid}/poster.pdf": Entry("venue", CITIZEN | OFFICERS),
    "GET /declarations/venues/{venue_uuid}/staff": Entry("venue", CITIZEN | OFFICERS),
    "POST /declarations/venues/{venue_uuid}/staff": Entry(
        "venue", CITIZEN, loose="the account added by its phone"
    ),
    "DELETE /declarations/venues/{venue_uuid}/staff/{user_uuid}": Entry(
        "venue_staff", CITIZEN, loose="the staff member removed"
    ),
    "POST /declarations/venues/{venue_uuid}/scan": Entry(
        "venue", CITIZEN | OFFICERS, loose="the scanned personal QR code"
    ),
    "GET /declarations/staff/followups/{followup_uuid}": Entry("followup", OFFICERS),
    "POST /declarations/staff/followups/{followup_uuid}/calls": Entry("followup", OFFICERS),
    "GET /declarations/staff/cases/{case_uuid}": Entry("declaration_case", OFFICERS),
    "POST /declarations/staff/cases/{case_uuid}/approve": Entry("declaration_case", OFFICERS),
    "POST /declarations/staff/cases/{case_uuid}/reject": Entry("declaration_case", OFFICERS),
    "POST /declarations/staff/cases/{case_uuid}/trace": Entry("declaration_case", OFFICERS),
    "GET /declarations/staff/cases/{case_uuid}/candidates": Entry("declaration_case", OFFICERS),
    "POST /declarations/staff/cases/{case_uuid}/notify": Entry("declaration_case", OFFICERS),
    "GET /testing/people/{person_uuid}/rounds": Entry("person", CITIZEN),
    "GET /testing/appointments/{appointment_uuid}": Entry("appointment", CITIZEN),
    "POST /testing/appointments/{appointment_uuid}/cancel": Entry("appointment", CITIZEN),
    "POST /testing/appointments/{appointment_uuid}/move": Entry(
        "appointment", CITIZEN, loose="the slot to move to"
    ),
    "GET /testing/results/{result_uuid}/document": Entry("result", CITIZEN),
    "GET /testing/verify/{token}": PUBLIC_TOKEN,
    "GET /testing/sessions/{session_uuid}": Entry("sampling_session", SAMPLING),
    "POST /testing/sessions/{session_uuid}/scan": Entry("sampling_session", SAMPLING),
    "POST /testing/sessions/{session_uuid}/find": Entry("sampling_session", SAMPLING),
    "POST /testing/sessions/{session_uuid}/collect": Entry(
        "sampling_session_with_person", SAMPLING
    ),
    "POST /testing/sessions/{session_uuid}/walk-ins": Entry("sampling_session", SAMPLING),
    "POST /testing/sessions/{session_uuid}/shipments": Entry("sampling_session_with_lab", SAMPLING),
    "POST /testing/tubes/{tube_uuid}/close": Entry("tube", SAMPLING),
    "POST /testing/tubes/{tube_uuid}/rapid-result": Entry(
        "tube", SAMPLING, body={"value": "negative"}
    ),
    "POST /testing/samples/{sample_uuid}/remove": Entry("sample", SAMPLING),
    "POST /testing/samples/{sample_uuid}/move": Entry("sample", SAMPLING),
    "GET /testing/labs/{lab_uuid}/shipments": Entry("lab", LAB),
    "GET /testing/shipments/{shipment_uuid}": Entry("shipment", SAMPLING | LAB),
    "POST /testing/shipments/{shipment_uuid}/receive": Entry("shipment", LAB),
    "POST /testing/labs/{lab_uuid}/tubes/receive": Entry("lab", LAB, loose="the tube's barcode"),
    "POST /testing/labs/{lab_uuid}/results": Entry("lab", LAB),
    "POST /testing/labs/{lab_uuid}/imports": Entry("lab", LAB),
    "GET /testing/imports/{import_uuid}": Entry("import", LAB),
    "POST /testing/imports/{import_uuid}/commit": Entry("import", LAB),
    "POST /testing/tube-results/{tube_result_uuid}/amendments": Entry("tube_result", LAB),
    "GET /testing/labs/{lab_uuid}/amendments": Entry("lab", LAB),
    "POST /testing/amendments/{amendment_uuid}/decide": Entry("amendment", LAB),
    "POST /testing/sites/{site_uuid}/slots": Entry("testing_site", OFFICERS | SAMPLING),
    "GET /testing/cases/{case_uuid}": Entry("testing_case", OFFICERS),
    "GET /testing/import-jobs/{job_uuid}": Entry("lab_import_job", LAB, own_only=True),
    "POST /vaccination/me/bookings/{booking_uuid}/cancel": Entry("booking", CITIZEN),
    "POST /vaccination/me/bookings/{booking_uuid}/respond": Entry("booking", CITIZEN),
    "GET /vaccination/staff/sites/{site_uuid}/queue": Entry(
        "vaccination_site", VACCINATING | OFFICERS
    ),
    "POST /vaccination/staff/sites/{site_uuid}/checkin": Entry(
        "vaccination_site_with_booking", VACCINATING
    ),
    "POST /vaccination/staff/bookings/{booking_uuid}/screening": Entry("booking", VACCINATING),
    "POST /vaccination/staff/bookings/{booking_uuid}/dose": Entry("booking", VACCINATING),
    "GET /vaccination/staff/sites/{site_uuid}/observation": Entry(
        "vaccination_site", VACCINATING | OFFICERS
    ),
    "GET /vaccination/staff/sites/{site_uuid}/lots": Entry(
        "vaccination_site", VACCINATING | OFFICERS
    ),
    "POST /vaccination/staff/sites/{site_uuid}/wastage": Entry(
        "vaccination_site_with_lot", VACCINATING | PLANNERS
    ),
    "POST /vaccination/staff/campaigns/{campaign_uuid}/sessions": Entry(
        "campaign_with_site", PLANNERS
    ),
    "GET /vaccination/staff/sessions/{session_uuid}": Entry(
        "vaccination_session", OFFICERS | VACCINATING
    ),
    "POST /vaccination/staff/sessions/{session_uuid}/invitations": Entry(
        "vaccination_session", OFFICERS
    ),
    "POST /vaccination/staff/sessions/{session_uuid}/bookings": Entry(
        "vaccination_session_with_person", OFFICERS
    ),
    "POST /vaccination/staff/bookings/{booking_uuid}/cancel": Entry(
        "booking", OFFICERS | VACCINATING
    ),
    "POST /vaccination/staff/lots/{lot_uuid}/allocations": Entry("lot_with_site", PLANNERS),
    "GET /vaccination/staff/people/{person_uuid}": Entry("person", OFFICERS),
    "GET /vaccination/staff/registrations/import-jobs/{job_uuid}": Entry(
        "import_job", frozenset({"commune_officer"}), own_only=True
    ),
    "GET /exchange/inbound/jobs/{job_uuid}": Entry(
        "inbound_import_job", frozenset({"commune_officer"}), own_only=True
    ),
    "POST /vaccination/staff/people/{person_uuid}/doses-elsewhere": Entry("person", OFFICERS),
    "POST /vaccination/staff/doses/{dose_uuid}/void": Entry(
        "dose", OFFICERS, loose="a dose given here, with its site's lot"
    ),
    "GET /certificates/{certificate_uuid}": Entry("certificate", CITIZEN | OFFICERS),
    "GET /certificates/{certificate_uuid}/pdf": Entry("certificate", CITIZEN | OFFICERS),
    "GET /certificates/{certificate_uuid}/health-card": Entry("certificate", CITIZEN | OFFICERS),
    "GET /certificates/{certificate_uuid}/ddcc-vs": Entry("certificate", CITIZEN | OFFICERS),
    # The deprecated paths of API 1.0 (removed in 1.2): the same views.
    "GET /certificates/certificates/{certificate_uuid}": Entry("certificate", CITIZEN | OFFICERS),
    "GET /certificates/certificates/{certificate_uuid}/pdf": Entry(
        "certificate", CITIZEN | OFFICERS
    ),
    "GET /certificates/certificates/{certificate_uuid}/health-card": Entry(
        "certificate", CITIZEN | OFFICERS
    ),
    "GET /certificates/certificates/{certificate_uuid}/ddcc-vs": Entry(
        "certificate", CITIZEN | OFFICERS
    ),
    "GET /certificates/status/{person_uuid}": Entry("person", CITIZEN | OFFICERS),
    "GET /certificates/acceptance-rules/{purpose}/versions": Exempt(
        "a purpose (venue, event, travel), not an object: province-wide rules for officers"
        " (certificates/tests/test_value_sets_rules.py)"
    ),
    "POST /certificates/acceptance-rules/{purpose}": Exempt(
        "a purpose, not an object: creates a draft (administrators and province officers;"
        " certificates/tests/test_value_sets_rules.py)"
    ),
    "GET /certificates/acceptance-rules/{purpose}/{version}/preview": Entry(
        "acceptance_rules", OFFICERS, province_wide=True
    ),
    "POST /certificates/acceptance-rules/{purpose}/{version}/activate": Entry(
        "acceptance_rules",
        frozenset({"administrator", "province_officer"}),
        province_wide=True,
    ),
    "GET /certificates/status-rules/{version}/preview": Entry(
        "status_rules", OFFICERS, province_wide=True
    ),
    "POST /certificates/status-rules/{version}/activate": Entry(
        "status_rules", frozenset({"administrator", "province_officer"}), province_wide=True
    ),
    "GET /portal/daily/{code}": PUBLIC_AREA,
    "GET /adoption/agencies/{agency_uuid}": Entry("agency", frozenset({"agency_head"}) | PLANNERS),
    "POST /adoption/agencies/{agency_uuid}/rosters": Entry(
        "agency", frozenset({"agency_head", "administrator"})
    ),
    "GET /adoption/rosters/{upload_uuid}": Entry(
        "roster", frozenset({"agency_head", "administrator"})
    ),
    "POST /adoption/rosters/{upload_uuid}/apply": Entry(
        "roster", frozenset({"agency_head", "administrator"})
    ),
    "POST /adoption/rosters/{upload_uuid}/discard": Entry(
        "roster", frozenset({"agency_head", "administrator"})
    ),
}
