"""Machine clients with their real OAuth tokens on the FHIR surface: scopes (403), limits
(429 with Retry-After, audited), revocation (401)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from covidhub.audit.models import AuditEvent
from covidhub.clients import services as clients

pytestmark = pytest.mark.django_db

FHIR = {"HTTP_ACCEPT": "application/fhir+json"}


def test_client_limits_apply_on_fhir(province_admin: Any, area_tree: dict[str, Any]) -> None:
    credentials = clients.client_register(
        actor=province_admin,
        name="Nền tảng quốc gia",
        kind="national",
        access={"people": "read"},
        area=area_tree["commune"],
        rate_per_minute=1,
    )
    basic = base64.b64encode(
        f"{credentials.client_id}:{credentials.client_secret}".encode()
    ).decode()
    token = Client().post(
        "/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    assert api.get("/fhir/Patient", **FHIR).status_code == 200
    refused = api.get("/fhir/Patient", **FHIR)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    statuses = [
        e.details["status"]
        for e in AuditEvent.objects.filter(
            action="clients.api.called", actor=credentials.client.account
        ).order_by("id")
    ]
    assert statuses == [200, 429]


def test_real_client_token_is_scoped_on_fhir(
    province_admin: Any, area_tree: dict[str, Any], make_person: Any
) -> None:
    credentials = clients.client_register(
        actor=province_admin,
        name="Hệ thống xét nghiệm",
        kind="national",
        access={"testing": "read"},
        area=area_tree["commune"],
    )
    basic = base64.b64encode(
        f"{credentials.client_id}:{credentials.client_secret}".encode()
    ).decode()
    token = Client().post(
        "/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    person = make_person()
    assert api.get(f"/fhir/Patient/{person.uuid}", **FHIR).status_code == 403  # people:read
    assert api.get("/fhir/Observation", **FHIR).status_code == 200
    clients.client_revoke(actor=province_admin, client=credentials.client)
    assert api.get("/fhir/Observation", **FHIR).status_code == 401


def _client_api(admin: Any, area: Any, access: dict[str, str]) -> Client:
    credentials = clients.client_register(
        actor=admin,
        name=f"Sổ sức khỏe điện tử ({', '.join(sorted(access))})",
        kind="national",
        access=access,
        area=area,
    )
    basic = base64.b64encode(
        f"{credentials.client_id}:{credentials.client_secret}".encode()
    ).decode()
    token = Client().post(
        "/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")


def test_everything_and_export_hold_only_what_the_client_scopes_cover(
    province_admin: Any,
    area_tree: dict[str, Any],
    make_person: Any,
    make_records: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"
    person = make_person()
    make_records(person, doses=2, results=1)
    everything = f"/fhir/Patient/{person.uuid}/$everything"

    def types(api: Client) -> set[str]:
        response = api.get(everything, **FHIR)
        assert response.status_code == 200, response.content
        return {entry["resource"]["resourceType"] for entry in response.json()["entry"]}

    people_only = _client_api(province_admin, area_tree["commune"], {"people": "read"})
    seen = types(people_only)
    assert "Patient" in seen
    assert not seen & {"Immunization", "Observation", "DiagnosticReport", "Specimen"}

    with_doses = _client_api(
        province_admin, area_tree["commune"], {"people": "read", "vaccination": "read"}
    )
    seen = types(with_doses)
    assert "Immunization" in seen and not seen & {"Observation", "DiagnosticReport"}

    full = _client_api(
        province_admin,
        area_tree["commune"],
        {"people": "read", "vaccination": "read", "testing": "read"},
    )
    assert {"Immunization", "Observation", "DiagnosticReport", "Specimen"} <= types(full)

    asked = people_only.get(
        "/fhir/$export", {"_type": "Patient,Immunization"}, HTTP_PREFER="respond-async", **FHIR
    )
    assert asked.status_code == 403
    kicked = people_only.get("/fhir/$export", HTTP_PREFER="respond-async", **FHIR)
    assert kicked.status_code == 202, kicked.content
    from covidhub.fhir.models import ExportJob

    assert ExportJob.objects.get().resource_types == ["Patient"]
