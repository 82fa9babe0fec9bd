"""In Chromium: a citizen opens their certificate and downloads the PDF; a verifier pastes
the QR text and sees green — online, and offline through the page's own verifier (base45,
DecompressionStream, CBOR, COSE, WebCrypto) against the cached trust list."""

from __future__ import annotations

import uuid
from typing import Any

import base45
import cbor2
import pytest

from conftest import _verified_client, axe_violations
from covidhub.certificates.dcc import hc1_decode, hc1_encode
from covidhub.certificates.services import certificate_issue_vaccination, uvci_revoke

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, user: Any, live_server: Any) -> None:
    client = _verified_client(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_citizen_opens_certificate_and_downloads_pdf(
    page, live_server, signing_key, citizen, citizen_person, vaccination_facts
):
    certificate = certificate_issue_vaccination(facts=vaccination_facts(citizen_person))
    _sign_in(page, citizen, live_server)
    page.goto("/certificates/")
    assert page.locator(".status-card").first.get_attribute("data-colour") == "green"
    assert axe_violations(page) == []
    page.locator(f"a[href='/certificates/{certificate.uuid}/']").click()
    page.wait_for_url(f"**/certificates/{certificate.uuid}/")
    assert page.locator(".cert-qr svg").is_visible()
    assert citizen_person.full_name in page.content()
    assert axe_violations(page) == []
    with page.expect_download() as download_info:
        page.locator(f"a[href='/certificates/{certificate.uuid}/pdf/a4/']").click()
    path = download_info.value.path()
    with open(path, "rb") as handle:
        assert handle.read(4) == b"%PDF"
    page.locator(f"a[href='/certificates/{certificate.uuid}/qr/']").click()
    assert page.locator(".qr-full svg").is_visible()


def _forged(text: str) -> str:
    message = cbor2.loads(hc1_decode(text))
    claims = cbor2.loads(message.value[2])
    claims[-260][1]["nam"]["fn"] = "Giả"
    return hc1_encode(
        cbor2.dumps(
            cbor2.CBORTag(18, [message.value[0], {}, cbor2.dumps(claims), message.value[3]])
        )
    )


def test_verifier_pastes_qr_text_and_sees_green_online_and_offline(
    page, live_server, signing_key, make_person, make_staff, vaccination_facts
):
    person = make_person(full_name="Trịnh Thị Ánh", birth="05/11/1979")
    good = certificate_issue_vaccination(facts=vaccination_facts(person))
    revoked = certificate_issue_vaccination(facts=vaccination_facts(person, dose=1))
    uvci_revoke(uvci=revoked.uvci, reason="test", actor=None)
    staff = make_staff("checker", "sampler", unit_kind="site", unit_uuid=uuid.uuid4())
    _sign_in(page, staff, live_server)
    page.goto("/staff/certificates/verify/")
    page.wait_for_selector("#verifier[data-ready='true']")
    assert axe_violations(page) == []
    field = page.locator("input[name='text']")

    # Online: the server's answer is shown.
    field.fill(good.hc1)
    field.press("Enter")
    verdict = page.locator("#result .verdict")
    verdict.wait_for()
    page.wait_for_selector("#result .verdict.valid:not([data-offline])")
    assert "Trịnh" in verdict.inner_text() and "1979-11-05" in verdict.inner_text()
    # The checkpoint's rules, listed with their outcome in the reader's language.
    page.wait_for_selector("#result [data-verdict='accepted']")
    rule = page.locator("#result .rule-list li[data-rule='VR-VN-0004']")
    assert rule.get_attribute("data-status") == "passed"
    assert "Đã tiêm đủ liều cơ bản" in rule.inner_text()

    # Offline: the API is unreachable, the page verifies by itself.
    page.route("**/api/v1/certificates/verify", lambda route: route.abort())
    field.fill(good.hc1)
    field.press("Enter")
    page.wait_for_selector("#result .verdict.valid[data-offline='true']")
    assert "Ánh" in page.locator("#result .verdict").inner_text()
    for text, reason in (
        (_forged(good.hc1), "signature_invalid"),
        (revoked.hc1, "revoked"),
        ("HC1:" + base45.b45encode(b"plainly not zlib").decode(), "zlib_invalid"),
        ("HC2:" + good.hc1[4:], "bad_prefix"),
        (good.hc1[:-9], None),
    ):
        field.fill(text)
        field.press("Enter")
        page.wait_for_function(
            "() => { const v = document.querySelector('#result .verdict'); "
            "return v && v.classList.contains('invalid'); }"
        )
        if reason:
            assert page.locator("#result .verdict").get_attribute("data-reason") == reason, text
        field.fill(good.hc1)
        field.press("Enter")
        page.wait_for_selector("#result .verdict.valid[data-offline='true']")

    # The page's functions agree with the server on every kind in a direct call too.
    result = page.evaluate(
        "async (text) => await window.covidhubVerifier.verifyHc1(text, "
        "JSON.parse(localStorage.getItem('covidhub.verifier.lists')), Date.now() / 1000)",
        good.hc1,
    )
    assert result["valid"] is True and result["certificate_type"] == "v"
