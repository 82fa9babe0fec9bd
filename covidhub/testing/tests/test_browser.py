"""In Chromium: a citizen registers for a test; a sampler collects a pool of three people
with a typed barcode; a technician imports a CSV with one bad row; the citizen sees the
result and downloads the document."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import _verified_client, axe_violations
from covidhub.people.personal_qr import personal_qr_text
from covidhub.testing.models import Appointment, Result, Shipment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, user: Any, live_server: Any) -> None:
    page.context.clear_cookies()
    client = _verified_client(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_register_collect_pool_import_and_read_the_result(
    page: Any,
    live_server: Any,
    citizen: Any,
    citizen_person: Any,
    make_person: Any,
    slot: Any,
    sampler: Any,
    technician: Any,
    lab: Any,
    tmp_path: Any,
) -> None:
    others = [make_person(full_name="Trần Văn Hai"), make_person(full_name="Lê Thị Ba")]

    # The citizen registers at a time slot and gets a QR code with the appointment code.
    _sign_in(page, citizen, live_server)
    page.goto("/testing/register/")
    assert axe_violations(page) == []
    page.locator(f"input[name=choice][value='slot:{slot.uuid}']").check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/testing/appointments/**")
    assert page.locator(".qr svg").count() == 1
    assert axe_violations(page) == []
    code = Appointment.objects.get().code
    assert f"{code[:4]}-{code[4:]}" in page.content()

    # The sampler opens a pooled session and types everything into the scan field.
    _sign_in(page, sampler, live_server)
    page.goto("/staff/testing/sampling/")
    page.locator("#pool_size").fill("3")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/staff/testing/sessions/**")
    assert axe_violations(page) == []
    for typed in ["pool3001", f"{code[:4]}-{code[4:]}", *[personal_qr_text(p) for p in others]]:
        page.locator("#scan").fill(typed)
        page.locator("#scan").press("Enter")
        page.wait_for_load_state()
        assert page.locator(".messages .error").count() == 0, page.content()
    assert "3/3" in page.content() or page.locator("text=Trần Văn Hai").count() == 1
    page.locator("#lab").select_option(str(lab.uuid))
    page.locator("form:has(#lab) button[type=submit]").click()
    page.wait_for_load_state()
    shipment = Shipment.objects.get()

    # The technician receives the tube by scanning and imports a CSV with one bad row.
    _sign_in(page, technician, live_server)
    page.goto(f"/staff/testing/shipments/{shipment.uuid}/")
    page.locator("#barcodes").fill("POOL3001\n")
    page.locator("form:has(#barcodes) button[type=submit]").click()
    page.wait_for_load_state()
    csv = tmp_path / "run.csv"
    csv.write_text(
        "barcode,result,ct\nPOOL3001,negative,\nUNKNOWN9,positive,21\n", encoding="utf-8"
    )
    page.goto("/staff/testing/lab/")
    assert axe_violations(page) == []
    page.locator("#file").set_input_files(str(csv))
    page.locator("form:has(#file) button[type=submit]").click()
    page.wait_for_url("**/staff/testing/imports/**")
    assert page.locator("table tbody tr").count() == 1
    assert "UNKNOWN9" in page.content()
    assert axe_violations(page) == []
    page.locator("button[name=decision][value=good_rows]").click()
    page.wait_for_load_state()
    assert Result.objects.filter(outcome="negative").count() == 3

    # The citizen sees the result and downloads the document.
    _sign_in(page, citizen, live_server)
    page.goto("/testing/results/")
    assert page.locator(".result-negative").count() == 1
    assert axe_violations(page) == []
    with page.expect_download() as download_info:
        page.locator(".result-negative a.button").click()
    path = download_info.value.path()
    with open(path, "rb") as handle:
        assert handle.read(4) == b"%PDF"
