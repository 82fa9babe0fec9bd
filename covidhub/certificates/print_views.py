"""Printing for a person without a phone: a commune officer finds the person in their
area and prints the certificate (PDF, A4 or wallet card) or its large QR page.

Scoped like every staff read (the officer's areas; anything else is 404) and audited
twice: the read of the person and of the certificate (`viewed`), and the print itself
(`certificates.certificate.printed`, with what was printed).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from covidhub.accounts.decorators import staff_required
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.certificates import selectors, services
from covidhub.certificates.dcc import qr_svg_page
from covidhub.certificates.pdf import PDF_SIZES, certificate_pdf, certificate_rows
from covidhub.core.errors import NotFound
from covidhub.people.selectors import person_get_for_actor, person_list_for_actor


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def print_search(request: HttpRequest) -> HttpResponse:
    # The query (a name, an identity number) travels in the body, never in the URL.
    query = request.POST.get("q", "").strip()[:100] if request.method == "POST" else ""
    people = person_list_for_actor(actor=request.user, query=query, limit=50) if query else []
    return render(request, "certificates/print_search.html", {"people": people, "query": query})


@staff_required(*OFFICER_ROLES)
@require_GET
def print_person(request: HttpRequest, person_uuid: str) -> HttpResponse:
    person = person_get_for_actor(
        actor=request.user, person_uuid=person_uuid, action="certificates.print.person_viewed"
    )
    certificates = [
        certificate
        for certificate in selectors.certificate_list_for_person_staff(
            actor=request.user, person=person
        )
        if certificate.revoked_at is None
    ]
    return render(
        request,
        "certificates/print_person.html",
        {"person": person, "certificates": certificates},
    )


@staff_required(*OFFICER_ROLES)
@require_GET
def print_pdf(request: HttpRequest, certificate_uuid: str, size: str) -> HttpResponse:
    if size not in PDF_SIZES:
        raise NotFound()
    certificate = selectors.certificate_get_for_actor(
        actor=request.user, certificate_uuid=certificate_uuid
    )
    document = certificate_pdf(certificate=certificate, size=size)  # type: ignore[arg-type]
    services.certificate_print_record(
        certificate=certificate, actor=request.user, printed=f"pdf-{size}"
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="covid-certificate-{size}.pdf"'
    return response


@staff_required(*OFFICER_ROLES)
@require_GET
def print_qr(request: HttpRequest, certificate_uuid: str) -> HttpResponse:
    certificate = selectors.certificate_get_for_actor(
        actor=request.user, certificate_uuid=certificate_uuid
    )
    title, rows = certificate_rows(certificate)
    services.certificate_print_record(certificate=certificate, actor=request.user, printed="qr")
    return render(
        request,
        "certificates/print_qr.html",
        {
            "certificate": certificate,
            "title": title,
            "rows": rows,
            "qr": qr_svg_page(hc1_text=certificate.hc1, scale=8, border=4),
        },
    )
