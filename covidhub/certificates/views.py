"""Pages: the citizen's certificates and status card, the staff verifier, key, revocation
and status-rule administration, and the public trust and revocation lists."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covidhub.accounts.decorators import citizen_required, staff_required
from covidhub.accounts.models import Role
from covidhub.accounts.scoping import OFFICER_ROLES
from covidhub.certificates import (
    acceptance,
    formats,
    healthcard_keys,
    keystore,
    selectors,
    services,
    status_rules,
)
from covidhub.certificates.acceptance import VERIFIER_COUNTRY, acceptance_rules_document
from covidhub.certificates.api import verification_audit
from covidhub.certificates.dcc import qr_svg_page
from covidhub.certificates.forms import (
    AcceptanceRulesForm,
    RevokeForm,
    RevokeKeyForm,
    RulesForm,
    VerifyForm,
)
from covidhub.certificates.healthcards.shc import qr_svg as shc_qr_svg
from covidhub.certificates.models import (
    AcceptanceRuleSet,
    Revocation,
    SigningKey,
    StatusRuleSet,
    TrustedCertificate,
)
from covidhub.certificates.pdf import PDF_SIZES, certificate_pdf, certificate_rows
from covidhub.certificates.value_sets import value_sets_document
from covidhub.certificates.verification import REASON_MESSAGES, certificate_verify
from covidhub.core.errors import DomainError, NotFound

ADMIN = (Role.ADMINISTRATOR,)
RULE_EDITORS = (Role.ADMINISTRATOR, Role.PROVINCE_OFFICER)


# Citizen ---------------------------------------------------------------------------------


@citizen_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    household = selectors.household_certificates(account=request.user)  # type: ignore[arg-type]
    cards = status_rules.people_status(people=[person for person, _certificates in household])
    rows = [
        {"person": person, "status": cards[person.pk], "certificates": certificates}
        for person, certificates in household
    ]
    return render(request, "certificates/mine.html", {"rows": rows})


@citizen_required
@require_GET
def detail(request: HttpRequest, certificate_uuid: str) -> HttpResponse:
    certificate = selectors.certificate_get_for_actor(
        actor=request.user, certificate_uuid=certificate_uuid
    )
    title, rows = certificate_rows(certificate)
    return render(
        request,
        "certificates/detail.html",
        {
            "certificate": certificate,
            "title": title,
            "rows": rows,
            "qr": qr_svg_page(hc1_text=certificate.hc1, scale=4, border=4),
        },
    )


@citizen_required
@require_GET
def qr_full(request: HttpRequest, certificate_uuid: str) -> HttpResponse:
    certificate = selectors.certificate_get_for_actor(
        actor=request.user, certificate_uuid=certificate_uuid
    )
    return render(
        request,
        "certificates/qr_full.html",
        {
            "certificate": certificate,
            "qr": qr_svg_page(hc1_text=certificate.hc1, scale=8, border=4),
        },
    )


@citizen_required
@require_GET
def pdf(request: HttpRequest, certificate_uuid: str, size: str) -> HttpResponse:
    if size not in PDF_SIZES:
        raise NotFound()
    certificate = selectors.certificate_get_for_actor(
        actor=request.user, certificate_uuid=certificate_uuid
    )
    response = HttpResponse(
        certificate_pdf(certificate=certificate, size=size),  # type: ignore[arg-type]
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="covid-certificate-{size}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@citizen_required
@require_GET
def health_card(request: HttpRequest, certificate_uuid: str) -> HttpResponse:
    """The certificate as a SMART Health Card: its QR code(s) and the wallet file."""
    certificate = selectors.certificate_get_for_actor(
        actor=request.user, certificate_uuid=certificate_uuid
    )
    card = formats.certificate_health_card(certificate=certificate)
    response = render(
        request,
        "certificates/health_card.html",
        {
            "certificate": certificate,
            "codes": [
                {"svg": shc_qr_svg(text=text, scale=4), "index": index}
                for index, text in enumerate(card.qr_texts, start=1)
            ],
            "chunked": len(card.qr_texts) > 1,
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _download(body: dict[str, Any], *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")), content_type=content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@citizen_required
@require_GET
def health_card_download(request: HttpRequest, certificate_uuid: str) -> HttpResponse:
    certificate = selectors.certificate_get_for_actor(
        actor=request.user, certificate_uuid=certificate_uuid
    )
    card = formats.certificate_health_card(certificate=certificate)
    return _download(
        formats.health_card_file(card),
        content_type=formats.SHC_FILE_CONTENT_TYPE,
        filename="covid-vaccination.smart-health-card",
    )


@citizen_required
@require_GET
def ddcc_download(request: HttpRequest, certificate_uuid: str) -> HttpResponse:
    certificate = selectors.certificate_get_for_actor(
        actor=request.user, certificate_uuid=certificate_uuid
    )
    return _download(
        formats.certificate_ddcc_vs(certificate=certificate),
        content_type=formats.FHIR_CONTENT_TYPE,
        filename="covid-vaccination-ddcc-vs.json",
    )


# Public lists ----------------------------------------------------------------------------


@require_GET
@cache_control(public=True, max_age=300)
def jwks(request: HttpRequest) -> JsonResponse:
    """The SMART Health Card issuer keys; wallets and verifiers fetch it cross-origin."""
    response = JsonResponse(healthcard_keys.jwks_document())
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=60)
def health_card_crl(request: HttpRequest, kid: str) -> JsonResponse:
    """The revoked SMART Health Cards of one issuer key (SHC revocation, method `rid`)."""
    response = JsonResponse(healthcard_keys.crl_document(kid=kid))
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=300)
def trust_list_json(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(selectors.trust_list_document())
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=60)
def revocations_json(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(selectors.revocation_list_document())
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=300)
def value_sets_json(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(value_sets_document())
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=300)
def rules_json(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(acceptance_rules_document())
    response["Access-Control-Allow-Origin"] = "*"
    return response


# Verifier --------------------------------------------------------------------------------


@staff_required()
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        purpose = form.cleaned_data["purpose"]
        outcome = certificate_verify(text=form.cleaned_data["text"], purpose=purpose)
        verification_audit(actor=request.user, outcome_reason=outcome.reason, uvci=outcome.uvci)
        form = VerifyForm(initial={"purpose": purpose})
    return render(
        request,
        "certificates/verify.html",
        {
            "form": form,
            "outcome": outcome,
            "messages_json": {
                **{str(reason): str(message) for reason, message in REASON_MESSAGES.items()},
                "offline": _("Checked offline with the trust list of %(date)s."),
                "kind_v": _("Vaccination"),
                "kind_t": _("Test"),
                "kind_r": _("Recovery"),
                "camera_error": _("The camera cannot be used; type or paste the QR text."),
                "valid_until": _("Valid until"),
                "valid_title": _("Valid"),
                "invalid_title": _("Not valid"),
                "name": _("Name"),
                "dob": _("Date of birth"),
                "type": _("Type"),
                "trust_status": _("Trust list: %(count)s keys, updated %(date)s."),
                "rules_title": _("Rules"),
                "status_passed": _("met"),
                "status_failed": _("not met"),
                "status_open": _("to check by hand"),
                "notes_title": _("Notes"),
            },
            "trust_list_url": reverse("certificates:trust_list_json"),
            "revocations_url": reverse("certificates:revocations_json"),
            "verify_api_url": "/api/v1/certificates/verify",
            "sw_url": reverse("certificates:verify_sw"),
        },
    )


@staff_required()
@require_GET
def verify_sw(request: HttpRequest) -> HttpResponse:
    """The verifier's service worker, served under its scope so it may cache the page."""
    page = reverse("certificates:verify")
    assets = [
        page,
        static("certificates/dcc_core.js"),
        static("certificates/verifier.js"),
        static("covidhub/app.css"),
        static("covidhub/app.js"),
        reverse("certificates:trust_list_json"),
        reverse("certificates:revocations_json"),
    ]
    response = render(
        request,
        "certificates/verify_sw.js",
        {"assets": json.dumps(assets), "version": "v2"},
        content_type="application/javascript",
    )
    response["Service-Worker-Allowed"] = page
    response["Cache-Control"] = "no-cache"
    return response


# Public checkpoint verifier --------------------------------------------------------------

CHECKPOINT_WARN_AGE_HOURS = 24
# The lists the checkpoint downloads besides the trust and revocation lists, when the
# server publishes them (value sets and acceptance rules): the first URL name that exists.
CHECKPOINT_OPTIONAL_LISTS = {
    "valuesets": ("certificates:valuesets_json", "certificates:value_sets_json"),
    "rules": ("certificates:rules_json", "certificates:acceptance_rules_json"),
}


def _optional_url(names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def _checkpoint_messages() -> dict[str, str]:
    return {
        **{str(reason): str(message) for reason, message in REASON_MESSAGES.items()},
        "no_data": _(
            "No data yet: connect to the internet once so that the page downloads the list "
            "of signing keys."
        ),
        "data_too_old": _(
            "The list of signing keys is too old to check certificates: connect to the "
            "internet and update it."
        ),
        "data_of": _("Data of %(date)s: %(keys)s signing keys, %(revoked)s revoked certificates."),
        "data_stale": _("Warning: the data is more than %(hours)s hours old; update it soon."),
        "data_expired": _(
            "The data is more than %(hours)s hours old: no certificate can be checked until "
            "it is updated."
        ),
        "offline": _("No connection: the stored data is used."),
        "rules_loaded": _("Acceptance rules loaded."),
        "rules_missing": _("No acceptance rules: only the signature and validity are checked."),
        "crypto_only": _("Signature and validity checked; no acceptance rules were applied."),
        "accepted_title": _("Accepted"),
        "refused_title": _("Not accepted"),
        "open_title": _("Check by hand"),
        "rules_failed": _("Rules not met:"),
        "rules_open": _("Rules that could not be decided:"),
        "rules_version": _("Rules: %(purpose)s (version %(version)s)."),
        "value_sets_version": _("Value sets: %(version)s."),
        "valid_title": _("Valid"),
        "invalid_title": _("Not valid"),
        "name": _("Name"),
        "dob": _("Date of birth"),
        "camera_error": _("The camera cannot be used; type or paste the QR text."),
    }


@require_GET
@cache_control(public=True, max_age=0, no_cache=True)
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The public verifier for checkpoints without staff accounts (installable, offline)."""
    return render(
        request,
        "certificates/checkpoint.html",
        {
            "messages_json": _checkpoint_messages(),
            "trust_list_url": reverse("certificates:trust_list_json"),
            "revocations_url": reverse("certificates:revocations_json"),
            "valuesets_url": _optional_url(CHECKPOINT_OPTIONAL_LISTS["valuesets"]),
            "rules_url": _optional_url(CHECKPOINT_OPTIONAL_LISTS["rules"]),
            "sw_url": reverse("certificates:checkpoint_sw"),
            "scope": reverse("certificates:checkpoint"),
            "max_age_hours": settings.VERIFIER_DATA_MAX_AGE_HOURS,
            "purposes": AcceptanceRuleSet.Purpose.choices,
            "country": VERIFIER_COUNTRY,
            "warn_age_hours": CHECKPOINT_WARN_AGE_HOURS,
        },
    )


CHECKPOINT_ASSETS = (
    "covidhub/app.css",
    "covidhub/app.js",
    "covidhub/icon.svg",
    "covidhub/icon-192.png",
    "covidhub/icon-512.png",
    "certificates/certificates.css",
    "certificates/dcc_core.js",
    "certificates/certlogic.js",
    "certificates/checkpoint.js",
)


@require_GET
@cache_control(public=True, max_age=0, no_cache=True)
def checkpoint_sw(request: HttpRequest) -> HttpResponse:
    """The checkpoint's service worker: the page and its files, so that it opens offline.
    The lists live in the page's storage with their date, never in the worker's cache
    (a stale copy must show its age)."""
    page = reverse("certificates:checkpoint")
    assets = [page, reverse("certificates:checkpoint_manifest")]
    assets += [static(name) for name in CHECKPOINT_ASSETS]
    response = render(
        request,
        "certificates/checkpoint_sw.js",
        {"assets": json.dumps(assets), "page": json.dumps(page), "version": "v2"},
        content_type="text/javascript",
    )
    response["Service-Worker-Allowed"] = page
    return response


@require_GET
@cache_control(public=True, max_age=3600)
def checkpoint_manifest(request: HttpRequest) -> JsonResponse:
    """Installs the checkpoint verifier as its own app (its own start page and scope)."""
    page = reverse("certificates:checkpoint")
    data = {
        "name": str(_("Certificate checkpoint")) + " · " + str(settings.PLATFORM_NAME),
        "short_name": str(_("Checkpoint")),
        "description": str(_("Check EU digital COVID certificates, also offline.")),
        "lang": request.LANGUAGE_CODE,
        "start_url": page,
        "scope": page,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5d3b",
        "icons": [
            {"src": static("covidhub/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("covidhub/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("covidhub/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


# Administration --------------------------------------------------------------------------


@staff_required(*ADMIN)
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    form = RevokeKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kid = form.cleaned_data["kid"]
        hit = services.signing_key_revoke(
            kid=kid, reason=form.cleaned_data["reason"], actor=request.user
        )
        if form.cleaned_data["reissue"]:
            from django.db import transaction

            from covidhub.certificates.tasks import certificates_reissue_for_key

            reason = form.cleaned_data["reason"]
            transaction.on_commit(lambda: certificates_reissue_for_key.enqueue(kid, reason))
        messages.success(
            request, _("The key is revoked; %(count)s certificates are revoked.") % {"count": hit}
        )
        return redirect("certificates:keys")
    return render(
        request,
        "certificates/keys.html",
        {
            "keys": SigningKey.objects.all()[:100],
            "trusted": TrustedCertificate.objects.all()[:500],
            "revoked_kids": set(
                Revocation.objects.filter(kind=Revocation.Kind.KID).values_list("value", flat=True)
            ),
            "form": form,
        },
    )


@staff_required(*ADMIN)
@require_POST
def key_retire(request: HttpRequest, key_uuid: str) -> HttpResponse:
    key = SigningKey.objects.filter(uuid=key_uuid).first()
    if key is None:
        raise NotFound()
    keystore.signing_key_retire(actor=request.user, key=key)
    messages.success(request, _("The key no longer signs new certificates."))
    return redirect("certificates:keys")


@staff_required(*ADMIN)
@require_http_methods(["GET", "POST"])
def revocations(request: HttpRequest) -> HttpResponse:
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.uvci_revoke(
                uvci=form.cleaned_data["uvci"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("The certificate is revoked."))
            return redirect("certificates:revocations")
    return render(
        request,
        "certificates/revocations.html",
        {
            "form": form,
            "revocations": Revocation.objects.all()[:200],
        },
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest) -> HttpResponse:
    from covidhub.accounts.scoping import actor_scope

    can_edit = actor_scope(request.user).has_role(*RULE_EDITORS)
    version, active = status_rules.status_rules_active()
    form = RulesForm(request.POST or None, initial=active.as_dict())
    if request.method == "POST":
        if not can_edit:
            raise NotFound()
        if form.is_valid():
            data: dict[str, Any] = dict(form.cleaned_data)
            note = data.pop("note", "")
            try:
                row = status_rules.status_rules_draft_create(
                    actor=request.user, rules=status_rules.status_rules_clean(data), note=note
                )
            except DomainError as error:
                for name, errors in error.details.get("fields", {}).items():
                    for message in errors:
                        form.add_error(name if name in form.fields else None, message)
            else:
                return redirect("certificates:rules_preview", version=row.version)
    return render(
        request,
        "certificates/rules.html",
        {
            "form": form,
            "can_edit": can_edit,
            "active_version": version,
            "versions": StatusRuleSet.objects.all()[:50],
        },
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def rules_preview(request: HttpRequest, version: int) -> HttpResponse:
    from covidhub.accounts.scoping import actor_scope

    can_edit = actor_scope(request.user).has_role(*RULE_EDITORS)
    row = status_rules.status_rules_get(version=version)
    if request.method == "POST":
        if not can_edit:
            raise NotFound()
        status_rules.status_rules_activate(actor=request.user, rule_set=row)
        messages.success(
            request,
            _("Version %(version)s of the rules is now in force.") % {"version": row.version},
        )
        return redirect("certificates:rules")
    preview = status_rules.status_rules_preview(
        actor=request.user, candidate=status_rules.status_rules_clean(row.rules)
    )
    _version, active = status_rules.status_rules_active()
    names = _colour_names()
    return render(
        request,
        "certificates/rules_preview.html",
        {
            "row": row,
            "rules": _status_rule_rows(row.rules, active.as_dict()),
            "preview": preview,
            "can_edit": can_edit,
            "colours": [
                (names[colour], preview.current[colour], preview.candidate[colour])
                for colour in status_rules.COLOURS
            ],
            "transitions": [
                (names[change.split("→")[0]], names[change.split("→")[1]], count)
                for change, count in sorted(preview.transitions.items())
            ],
        },
    )


# Acceptance rules ------------------------------------------------------------------------


def _purpose_or_404(purpose: str) -> str:
    if purpose not in acceptance.PURPOSES:
        raise NotFound()
    return purpose


def _rule_rows(documents: Any) -> list[dict[str, str]]:
    language = get_language() or "vi"
    return [
        {
            "identifier": rule.identifier,
            "version": rule.version,
            "type": rule.certificate_type,
            "description": rule.description(language),
        }
        for rule in acceptance.acceptance_rules_clean(documents)
    ]


@staff_required(*OFFICER_ROLES)
@require_GET
def acceptance_rules_index(request: HttpRequest) -> HttpResponse:
    return redirect("certificates:acceptance_rules", purpose=acceptance.DEFAULT_PURPOSE)


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def acceptance_rules(request: HttpRequest, purpose: str) -> HttpResponse:
    from covidhub.accounts.scoping import actor_scope

    purpose = _purpose_or_404(purpose)
    can_edit = actor_scope(request.user).has_role(*RULE_EDITORS)
    version, active = acceptance.acceptance_rules_active(purpose)
    documents = [dict(rule.document) for rule in active]
    form = AcceptanceRulesForm(
        request.POST or None,
        initial={"rules": json.dumps(documents, ensure_ascii=False, indent=1)},
    )
    if request.method == "POST":
        if not can_edit:
            raise NotFound()
        if form.is_valid():
            try:
                row = acceptance.acceptance_rules_draft_create(
                    actor=request.user,
                    purpose=purpose,
                    documents=form.cleaned_data["rules"],
                    note=form.cleaned_data["note"],
                )
            except DomainError as error:
                form.add_error("rules", str(error.message))
            else:
                return redirect(
                    "certificates:acceptance_rules_preview", purpose=purpose, version=row.version
                )
    return render(
        request,
        "certificates/acceptance_rules.html",
        {
            "form": form,
            "can_edit": can_edit,
            "purpose": purpose,
            "purposes": AcceptanceRuleSet.Purpose.choices,
            "purpose_label": AcceptanceRuleSet.Purpose(purpose).label,
            "active_version": version,
            "rules": _rule_rows(documents),
            "versions": AcceptanceRuleSet.objects.filter(purpose=purpose)[:50],
        },
    )


@staff_required(*OFFICER_ROLES)
@require_http_methods(["GET", "POST"])
def acceptance_rules_preview(request: HttpRequest, purpose: str, version: int) -> HttpResponse:
    from covidhub.accounts.scoping import actor_scope

    purpose = _purpose_or_404(purpose)
    can_edit = actor_scope(request.user).has_role(*RULE_EDITORS)
    row = acceptance.acceptance_rules_get(purpose=purpose, version=version)
    if request.method == "POST":
        if not can_edit:
            raise NotFound()
        acceptance.acceptance_rules_activate(actor=request.user, rule_set=row)
        messages.success(
            request,
            _("Version %(version)s of the rules is now in force.") % {"version": row.version},
        )
        return redirect("certificates:acceptance_rules", purpose=purpose)
    preview = acceptance.acceptance_rules_preview(
        actor=request.user, purpose=purpose, candidate=acceptance.acceptance_rules_clean(row.rules)
    )
    labels = {"passed": _("Accepted"), "failed": _("Refused"), "open": _("To check by hand")}
    return render(
        request,
        "certificates/acceptance_rules_preview.html",
        {
            "row": row,
            "purpose_label": AcceptanceRuleSet.Purpose(purpose).label,
            "rules": _rule_rows(row.rules),
            "preview": preview,
            "can_edit": can_edit,
            "verdicts": [
                (labels[status], preview.current[status], preview.candidate[status])
                for status in ("passed", "failed", "open")
            ],
            "transitions": sorted(preview.transitions.items()),
        },
    )


def _colour_names() -> dict[str, str]:
    return {
        status_rules.GREEN: _("Green"),
        status_rules.YELLOW: _("Yellow"),
        status_rules.RED: _("Red"),
    }


def _status_rule_rows(
    rules: dict[str, Any], active: dict[str, Any]
) -> list[tuple[str, str, str, bool]]:
    """Each rule as the form names it: (label, this version's value, the value in force,
    changed), values in words (yes/no, a colour) rather than stored codes."""

    def text(field: Any, value: Any) -> str:
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        choices = dict(getattr(field, "choices", []) or [])
        return str(choices.get(value, value))

    rows = []
    for name, field in RulesForm().fields.items():
        if name in rules:
            value, current = rules[name], active.get(name)
            rows.append(
                (str(field.label), text(field, value), text(field, current), value != current)
            )
    return rows
