"""In Chromium: the public checkpoint verifier (no account) syncs the trust and revocation
lists, then verifies with the network cut — the page itself served by its service worker —
a valid certificate (green, name and birth date only) and refuses a tampered, a revoked
and a garbled one; it keeps nothing personal (and shows nothing of the previous person
while the next code is checked), says how old its data is, warns past 24 hours and refuses
past the configured maximum; in Vietnamese and English, at 390 and 1366 px."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from django.utils import timezone

from conftest import axe_violations
from covidhub.certificates.dcc import hc1_decode, hc1_encode
from covidhub.certificates.services import (
    certificate_issue_recovery,
    certificate_issue_test,
    certificate_issue_vaccination,
    uvci_revoke,
)
from covidhub.certificates.verification import certificate_verify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

READY = "#checkpoint[data-ready='true']"


def _tampered(text: str) -> str:
    """The same signature over a payload whose birth date was changed."""
    message = cbor2.loads(hc1_decode(text))
    claims = cbor2.loads(message.value[2])
    claims[-260][1]["dob"] = "1970-01-01"
    return hc1_encode(
        cbor2.dumps(
            cbor2.CBORTag(
                18, [message.value[0], message.value[1], cbor2.dumps(claims), message.value[3]]
            )
        )
    )


def _check(page: Any, text: str) -> Any:
    """Submit a text and return the verdict shown for it: a new verdict element, never the
    one of the previous check (the page verifies asynchronously; reading the box too early
    read the previous person's verdict)."""
    field = page.locator("#qr-text")
    field.fill(text)
    page.evaluate(
        "() => { window.__previousVerdict = document.querySelector('#result .verdict'); }"
    )
    field.press("Enter")
    page.wait_for_function(
        "() => { const v = document.querySelector('#result .verdict');"
        " return v !== null && v !== window.__previousVerdict; }"
    )
    assert field.input_value() == ""  # the text of a person's code is not kept in the field
    return page.locator("#result .verdict")


def _days_ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


def _no_horizontal_scroll(page: Any) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_checkpoint_verifies_offline_and_keeps_nothing(
    page, live_server, signing_key, make_person, vaccination_facts
):
    person = make_person(full_name="Quách Thị Diễm Kiều", birth="21/07/1992")
    good = certificate_issue_vaccination(facts=vaccination_facts(person, on=_days_ago(30)))
    revoked = certificate_issue_vaccination(
        facts=vaccination_facts(person, dose=1, on=date(2021, 8, 1))
    )
    uvci_revoke(uvci=revoked.uvci, reason="test", actor=None)

    page.goto("/verifier/")
    page.wait_for_selector(READY)
    assert page.locator("#checkpoint").get_attribute("data-freshness") == "fresh"
    assert "Kiểm tra chứng nhận COVID" in page.locator("h1").inner_text()
    assert axe_violations(page) == []
    assert _no_horizontal_scroll(page)
    # The service worker has the page and its files before the network goes.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")

    page.context.set_offline(True)
    response = page.reload()
    assert response is not None and response.from_service_worker
    page.wait_for_selector(READY)
    status = page.locator("#data-status").inner_text()
    assert (
        "Không có kết nối" in status
        and page.locator("#checkpoint").get_attribute("data-freshness") == "fresh"
    )

    verdict = _check(page, good.hc1)
    assert verdict.get_attribute("class") == "verdict valid"
    shown = verdict.inner_text()
    assert "Quách Thị Diễm Kiều" in shown and "1992-07-21" in shown
    assert verdict.get_attribute("data-verdict") == "passed"  # the venue rules, offline
    # Only what the outcome needs: no certificate identifier, no vaccine, no dates of doses.
    assert good.uvci not in page.content() and _days_ago(30).isoformat() not in shown
    assert axe_violations(page) == []

    for text, reason in (
        (_tampered(good.hc1), "signature_invalid"),
        (revoked.hc1, "revoked"),
        (good.hc1[:-12], None),
        ("HC1:NOT A CERTIFICATE", None),
        ("shc:/5676", "bad_prefix"),
    ):
        verdict = _check(page, text)
        assert verdict.get_attribute("class") == "verdict invalid", text
        if reason:
            assert verdict.get_attribute("data-reason") == reason
        assert "Quách" not in verdict.inner_text()

    stored = page.evaluate(
        "() => JSON.stringify(Object.assign({}, localStorage)) + "
        "JSON.stringify(Object.assign({}, sessionStorage))"
    )
    assert "Diễm" not in stored and "1992" not in stored and good.uvci not in stored
    cached = page.evaluate(
        "async () => { const out = []; for (const name of await caches.keys()) {"
        " const cache = await caches.open(name); for (const r of await cache.keys()) {"
        " const body = await (await cache.match(r)).text(); out.push(r.url + body); } }"
        " return out.join('\\n'); }"
    )
    assert "Diễm" not in cached and good.uvci not in cached

    page.set_viewport_size({"width": 1366, "height": 900})
    assert _no_horizontal_scroll(page)


def test_a_new_check_hides_the_previous_verdict_at_once(
    page, live_server, signing_key, make_person, vaccination_facts
):
    """While the next code is verified, the screen shows nothing of the previous person:
    the verification is held open here, as a slow phone holds it."""
    person = make_person(full_name="Lã Thị Hằng", birth="02/02/1990")
    good = certificate_issue_vaccination(facts=vaccination_facts(person, on=_days_ago(30)))
    page.goto("/verifier/")
    page.wait_for_selector(READY)
    assert _check(page, good.hc1).get_attribute("class") == "verdict valid"

    page.evaluate(
        "() => { const verify = window.covidhubDcc.verifyHc1;"
        " window.covidhubDcc.verifyHc1 = (...args) => new Promise((resolve) => {"
        " window.__release = () => resolve(verify(...args)); }); }"
    )
    field = page.locator("#qr-text")
    field.fill("HC1:NOT A CERTIFICATE")
    field.press("Enter")
    page.wait_for_function("() => typeof window.__release === 'function'")
    assert page.locator("#result").inner_text() == ""
    assert page.locator("#result .verdict").count() == 0
    page.evaluate("() => window.__release()")
    verdict = page.locator("#result .verdict")
    verdict.wait_for()
    assert verdict.get_attribute("class") == "verdict invalid"
    assert "Lã Thị Hằng" not in page.locator("#result").inner_text()


def _age_data(page: Any, hours: float) -> None:
    page.evaluate(
        "(hours) => { const key = 'covidhub.checkpoint.lists';"
        " const lists = JSON.parse(localStorage.getItem(key));"
        " lists.trust.generated_at = new Date(Date.now() - hours * 3600000).toISOString();"
        " localStorage.setItem(key, JSON.stringify(lists)); }",
        hours,
    )


def test_checkpoint_says_how_old_its_data_is_and_refuses_past_the_maximum(
    chromium, live_server, signing_key, make_person, vaccination_facts, settings
):
    settings.VERIFIER_DATA_MAX_AGE_HOURS = 48
    good = certificate_issue_vaccination(facts=vaccination_facts(make_person(), on=_days_ago(30)))
    context = chromium.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/verifier/")
        page.wait_for_selector(READY)
        assert page.locator("h1").inner_text() == "Check a COVID certificate"
        assert "Acceptance rules loaded" in page.locator("#data-status").inner_text()
        assert axe_violations(page) == []
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        context.set_offline(True)

        _age_data(page, 30)
        page.reload()
        page.wait_for_selector(READY)
        assert page.locator("#checkpoint").get_attribute("data-freshness") == "stale"
        assert "more than 24 hours old" in page.locator("#data-status").inner_text()
        verdict = _check(page, good.hc1)
        assert verdict.get_attribute("class") == "verdict valid"
        assert "more than 24 hours old" in verdict.inner_text()

        _age_data(page, 49)
        page.reload()
        page.wait_for_selector(READY)
        assert page.locator("#checkpoint").get_attribute("data-freshness") == "expired"
        assert "more than 48 hours old" in page.locator("#data-status").inner_text()
        verdict = _check(page, good.hc1)
        assert verdict.get_attribute("class") == "verdict invalid"
        assert verdict.get_attribute("data-reason") == "data_too_old"

        # Back online, the data is updated and the same certificate is valid again.
        context.set_offline(False)
        page.locator("#data-refresh").click()
        page.wait_for_selector("#checkpoint[data-freshness='fresh']")
        assert _check(page, good.hc1).get_attribute("class") == "verdict valid"
    finally:
        context.close()


SUITES = Path(__file__).resolve().parent / "data" / "certlogic" / "testSuite"


def test_certlogic_in_the_page_passes_every_case_of_the_official_suite(page, live_server):
    cases = []
    for path in sorted(SUITES.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for case in suite["cases"]:
            for number, assertion in enumerate(case["assertions"]):
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                cases.append(
                    {
                        "id": f"{path.stem}: {case['name']} #{number}",
                        "expression": expression,
                        "data": assertion["data"],
                        "expected": assertion["expected"],
                    }
                )
    assert len(cases) == 232
    page.goto("/verifier/")
    page.wait_for_selector(READY)
    failures = page.evaluate(
        """(cases) => {
          const same = (a, b) => typeof a === typeof b && JSON.stringify(a) === JSON.stringify(b);
          return cases.filter((c) => {
            try { return !same(window.covidhubCertLogic.evaluate(c.expression, c.data), c.expected); }
            catch (error) { return true; }
          }).map((c) => c.id);
        }""",
        cases,
    )
    assert failures == []


def test_checkpoint_rules_agree_with_the_server(
    page, live_server, signing_key, make_person, vaccination_facts, test_facts
):
    from covidhub.certificates.facts import RecoveryFacts

    person = make_person(full_name="Vũ Văn Khải", birth="03/03/2010")
    certificates = [
        certificate_issue_vaccination(facts=vaccination_facts(person, on=_days_ago(30))),
        certificate_issue_vaccination(
            facts=vaccination_facts(person, dose=1, on=_days_ago(60), source_id="one")
        ),
        certificate_issue_vaccination(
            facts=vaccination_facts(person, on=date(2021, 9, 1), source_id="old")
        ),
        certificate_issue_test(facts=test_facts(person, hours_ago=5)),
        certificate_issue_test(facts=test_facts(person, positive=True, hours_ago=30)),
        certificate_issue_recovery(
            facts=RecoveryFacts(
                person=person,
                source_type="testing.result",
                source_id="recovered",
                first_positive_on=_days_ago(20),
            )
        ),
    ]
    page.goto("/verifier/")
    page.wait_for_selector(READY)
    verdicts = {"accepted": "passed", "refused": "failed", "open": "open"}
    seen = set()
    for purpose in ("venue", "event", "travel"):
        page.select_option("#purpose", purpose)
        for certificate in certificates:
            server = certificate_verify(text=certificate.hc1, purpose=purpose)
            ours = page.evaluate("(text) => window.covidhubCheckpoint.check(text)", certificate.hc1)
            assert ours["valid"] is server.valid is True
            assert ours["verdict"] == verdicts[server.verdict], (purpose, certificate.kind)
            assert {o["identifier"]: o["status"] for o in ours["outcomes"]} == {
                line.identifier: line.status for line in server.rules
            }, (purpose, certificate.kind)
            # Both say which value sets the rules were evaluated with.
            assert server.value_sets_version == "packaged-2.12.0"
            assert server.value_sets_version in ours["note"]
            seen.add(ours["verdict"])
    assert {"passed", "failed"} <= seen  # the cases tell the two apart


def test_a_key_the_specification_does_not_allow_is_unsupported_not_forged(
    page, live_server, signing_key, make_person, vaccination_facts
):
    """As on the server: a P-384 key, or an RSA key under 2048 bits, is "unsupported_key";
    the same payload signed by a P-256 key of the list is valid (the control)."""
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    certificate = certificate_issue_vaccination(
        facts=vaccination_facts(make_person(), on=_days_ago(30))
    )
    payload = cbor2.loads(hc1_decode(certificate.hc1)).value[2]

    def signed(private_key: Any, algorithm: int, kid: bytes) -> tuple[str, dict[str, Any]]:
        protected = cbor2.dumps({1: algorithm, 4: kid})
        to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
        if algorithm == -7:
            size = (private_key.curve.key_size + 7) // 8
            r, s = decode_dss_signature(private_key.sign(to_be_signed, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        else:
            signature = private_key.sign(
                to_be_signed,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                hashes.SHA256(),
            )
        text = hc1_encode(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))
        spki = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        entry = {
            "kid": base64.b64encode(kid).decode(),
            "public_key": base64.b64encode(spki).decode(),
            "not_valid_before": "2020-01-01T00:00:00+00:00",
            "not_valid_after": "2099-01-01T00:00:00+00:00",
        }
        return text, entry

    cases = [
        (ec.generate_private_key(ec.SECP256R1()), -7, "valid"),
        (ec.generate_private_key(ec.SECP384R1()), -7, "unsupported_key"),
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), -37, "unsupported_key"),  # noqa: S505
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), -37, "valid"),
    ]
    page.goto("/verifier/")
    page.wait_for_selector(READY)
    for number, (private_key, algorithm, expected) in enumerate(cases):
        text, entry = signed(private_key, algorithm, bytes([number]) * 8)
        result = page.evaluate(
            "([text, entry]) => window.covidhubDcc.verifyHc1(text,"
            " {trust: {certificates: [entry]}, revocations: {}}, Date.now() / 1000)",
            [text, entry],
        )
        assert result["reason"] == expected, (number, result)
