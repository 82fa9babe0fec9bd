"""Pages and citizen/staff API reads: the citizen's certificates, QR, PDF, scoping, the
verifier page, key/revocation/rule administration."""

import uuid

import pytest

from covidhub.audit.models import AuditEvent
from covidhub.certificates.models import IssuedCertificate, Revocation, StatusRuleSet
from covidhub.certificates.services import certificate_issue_vaccination

pytestmark = pytest.mark.django_db


@pytest.fixture
def family_certificate(signing_key, citizen, make_person, vaccination_facts):
    child = make_person(
        full_name="Nguyễn Bảo Ngọc", birth="01/06/2012", managed_by=citizen, relationship="child"
    )
    return certificate_issue_vaccination(facts=vaccination_facts(child))


def test_citizen_sees_own_and_family_certificates_and_status(
    login, citizen, citizen_person, family_certificate, vaccination_facts
):
    own = certificate_issue_vaccination(facts=vaccination_facts(citizen_person, dose=1))
    client = login(citizen)
    page = client.get("/certificates/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nguyễn Bảo Ngọc" in html and citizen_person.full_name in html
    assert (
        f"/certificates/{own.uuid}/" in html and f"/certificates/{family_certificate.uuid}/" in html
    )
    assert 'data-colour="yellow"' in html
    detail = client.get(f"/certificates/{family_certificate.uuid}/")
    assert detail.status_code == 200
    assert "<svg" in detail.content.decode()
    assert "Nguyễn Bảo Ngọc" in detail.content.decode()
    assert client.get(f"/certificates/{family_certificate.uuid}/qr/").status_code == 200
    api = client.get("/api/v1/certificates/mine").json()["items"]
    assert {row["full_name"] for row in api} == {citizen_person.full_name, "Nguyễn Bảo Ngọc"}


@pytest.mark.parametrize("size", ["a4", "card"])
def test_pdf_download(login, citizen, family_certificate, size):
    response = login(citizen).get(f"/certificates/{family_certificate.uuid}/pdf/{size}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"DejaVu" in response.content
    api = login(citizen).get(f"/api/v1/certificates/{family_certificate.uuid}/pdf?size={size}")
    assert api.status_code == 200 and api.content.startswith(b"%PDF")


def test_pdf_text_keeps_vietnamese_diacritics(family_certificate):
    from covidhub.certificates.pdf import certificate_pdf, certificate_rows

    title, rows = certificate_rows(family_certificate)
    assert title.startswith("Giấy chứng nhận") and "vaccination certificate" in title
    assert rows[0].value == "Nguyễn Bảo Ngọc"
    assert certificate_pdf(certificate=family_certificate, size="card").startswith(b"%PDF")


def test_another_citizen_gets_404(login, make_citizen, family_certificate):
    stranger = login(make_citizen("+84987654321", full_name="Hoàng Văn Lạ"))
    assert stranger.get(f"/certificates/{family_certificate.uuid}/").status_code == 404
    assert stranger.get(f"/certificates/{family_certificate.uuid}/pdf/a4/").status_code == 404
    assert (
        stranger.get(f"/api/v1/certificates/certificates/{family_certificate.uuid}").status_code
        == 404
    )
    assert stranger.get(f"/certificates/{uuid.uuid4()}/").status_code == 404
    assert stranger.get(f"/certificates/{family_certificate.uuid}/pdf/a5/").status_code == 404


def test_officer_in_scope_reads_audited_neighbour_gets_404(
    login, commune_officer, neighbour_officer, family_certificate
):
    url = f"/api/v1/certificates/{family_certificate.uuid}"
    response = login(commune_officer).get(url)
    assert response.status_code == 200
    assert response.json()["hc1"] == family_certificate.hc1
    assert AuditEvent.objects.filter(
        action="certificates.certificate.viewed",
        person_uuid=family_certificate.person.uuid,
        actor=commune_officer,
    ).exists()
    assert login(neighbour_officer).get(url).status_code == 404
    status_url = f"/api/v1/certificates/status/{family_certificate.person.uuid}"
    assert login(commune_officer).get(status_url).json()["colour"] == "green"
    assert login(neighbour_officer).get(status_url).status_code == 404


def test_mine_list_query_count_is_flat(
    login,
    citizen,
    citizen_person,
    make_person,
    signing_key,
    vaccination_facts,
    django_assert_max_num_queries,
):
    for index in range(3):
        member = make_person(
            full_name="Nguyễn Văn " + "ABC"[index], managed_by=citizen, relationship="child"
        )
        certificate_issue_vaccination(facts=vaccination_facts(member))
    client = login(citizen)
    client.get("/api/v1/certificates/mine")
    with django_assert_max_num_queries(20):
        client.get("/api/v1/certificates/mine")


def test_verifier_page_without_javascript(login, make_staff, family_certificate):
    client = login(make_staff("checker", "sampler", unit_kind="site", unit_uuid=uuid.uuid4()))
    page = client.get("/staff/certificates/verify/")
    assert page.status_code == 200
    assert "verifier.js" in page.content.decode()
    valid = client.post("/staff/certificates/verify/", {"text": family_certificate.hc1})
    html = valid.content.decode()
    assert 'class="verdict valid"' in html and "Nguyễn" in html and "2012-06-01" in html
    invalid = client.post("/staff/certificates/verify/", {"text": "HC1:NOPE"})
    assert 'class="verdict invalid"' in invalid.content.decode()
    assert "Nguyễn" not in invalid.content.decode().split('id="result"')[1]
    assert client.get("/staff/certificates/verify/sw.js").status_code == 200


def test_citizen_cannot_open_the_verifier(login, citizen):
    response = login(citizen).get("/staff/certificates/verify/")
    assert response.status_code == 302


def test_admin_pages_are_for_administrators_only(
    login, commune_officer, province_admin, signing_key
):
    officer = login(commune_officer)
    assert officer.get("/staff/certificates/keys/").status_code == 404
    assert officer.get("/staff/certificates/revocations/").status_code == 404
    admin = login(province_admin)
    keys = admin.get("/staff/certificates/keys/")
    assert keys.status_code == 200 and signing_key.kid in keys.content.decode()


def test_admin_revokes_a_certificate_and_a_key(login, province_admin, family_certificate):
    admin = login(province_admin)
    response = admin.post(
        "/staff/certificates/revocations/",
        {"uvci": family_certificate.uvci, "reason": "issued in error"},
    )
    assert response.status_code == 302
    family_certificate.refresh_from_db()
    assert family_certificate.revoked_at is not None
    bad = admin.post("/staff/certificates/revocations/", {"uvci": "x", "reason": ""})
    assert bad.status_code == 200 and Revocation.objects.count() == 1
    kid = family_certificate.kid
    response = admin.post(
        "/staff/certificates/keys/", {"kid": kid.upper(), "reason": "compromised", "reissue": ""}
    )
    assert response.status_code == 302
    assert Revocation.objects.filter(kind="kid", value=kid).exists()


def test_api_revocation_for_administrators(
    login, province_admin, commune_officer, family_certificate
):
    body = {"uvci": family_certificate.uvci, "reason": "fraud"}
    url = "/api/v1/certificates/revocations"
    assert (
        login(commune_officer).post(url, body, content_type="application/json").status_code == 404
    )
    response = login(province_admin).post(url, body, content_type="application/json")
    assert response.status_code == 200
    assert IssuedCertificate.objects.get(pk=family_certificate.pk).revoked_at is not None


def test_rules_pages_draft_preview_activate(
    login, province_admin, commune_officer, family_certificate
):
    admin = login(province_admin)
    assert admin.get("/staff/certificates/status-rules/").status_code == 200
    response = admin.post(
        "/staff/certificates/status-rules/",
        {
            "green_full_series_days": 14,
            "green_recovery_days": 180,
            "green_negative_test_hours": 0,
            "yellow_negative_test_hours": 72,
            "case_colour": "red",
            "case_days": 14,
            "isolation_colour": "red",
            "isolation_days": 14,
            "retest_colour": "yellow",
            "retest_days": 7,
            "refuse_checkin": "on",
            "note": "no yellow for one dose",
        },
    )
    assert response.status_code == 302
    preview = admin.get(response["Location"])
    assert preview.status_code == 200
    officer = login(commune_officer)
    assert officer.get(response["Location"]).status_code == 200
    assert officer.post(response["Location"]).status_code == 404
    assert admin.post(response["Location"]).status_code == 302
    assert StatusRuleSet.objects.get().state == "active"
    invalid = admin.post("/staff/certificates/status-rules/", {"green_full_series_days": -1})
    assert invalid.status_code == 200 and StatusRuleSet.objects.count() == 1


def test_rules_api(login, province_admin, commune_officer, family_certificate):
    admin = login(province_admin)
    created = admin.post(
        "/api/v1/certificates/status-rules",
        {"yellow_one_dose": False, "note": "x"},
        content_type="application/json",
    )
    assert created.status_code == 201
    version = created.json()["version"]
    preview = admin.get(f"/api/v1/certificates/status-rules/{version}/preview").json()
    assert preview["people"] >= 1
    assert (
        login(commune_officer)
        .post(f"/api/v1/certificates/status-rules/{version}/activate")
        .status_code
        == 404
    )
    assert (
        admin.post(f"/api/v1/certificates/status-rules/{version}/activate").json()["state"]
        == "active"
    )
    bad = admin.post(
        "/api/v1/certificates/status-rules",
        {"green_recovery_days": 999},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "green_recovery_days" in bad.json()["details"]["fields"]
