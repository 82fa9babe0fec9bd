from django.urls import path

from covidhub.certificates import print_views, views

app_name = "certificates"
urlpatterns = [
    path("certificates/", views.mine, name="mine"),
    path("certificates/trust-list.json", views.trust_list_json, name="trust_list_json"),
    path("certificates/revocations.json", views.revocations_json, name="revocations_json"),
    path("certificates/value-sets.json", views.value_sets_json, name="value_sets_json"),
    path("certificates/rules.json", views.rules_json, name="rules_json"),
    path("certificates/<uuid:certificate_uuid>/", views.detail, name="detail"),
    path("certificates/<uuid:certificate_uuid>/qr/", views.qr_full, name="qr_full"),
    path(
        "certificates/<uuid:certificate_uuid>/health-card/",
        views.health_card,
        name="health_card",
    ),
    path(
        "certificates/<uuid:certificate_uuid>/health-card/download/",
        views.health_card_download,
        name="health_card_download",
    ),
    path("certificates/<uuid:certificate_uuid>/ddcc-vs.json", views.ddcc_download, name="ddcc"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/crl/<str:kid>.json", views.health_card_crl, name="health_card_crl"),
    path("certificates/<uuid:certificate_uuid>/pdf/<str:size>/", views.pdf, name="pdf"),
    path("verifier/", views.checkpoint, name="checkpoint"),
    path("verifier/sw.js", views.checkpoint_sw, name="checkpoint_sw"),
    path("verifier/manifest.webmanifest", views.checkpoint_manifest, name="checkpoint_manifest"),
    path("staff/certificates/verify/", views.verify, name="verify"),
    path("staff/certificates/verify/sw.js", views.verify_sw, name="verify_sw"),
    path("staff/certificates/print/", print_views.print_search, name="print_search"),
    path(
        "staff/certificates/print/people/<uuid:person_uuid>/",
        print_views.print_person,
        name="print_person",
    ),
    path(
        "staff/certificates/print/<uuid:certificate_uuid>/pdf/<str:size>/",
        print_views.print_pdf,
        name="print_pdf",
    ),
    path(
        "staff/certificates/print/<uuid:certificate_uuid>/qr/",
        print_views.print_qr,
        name="print_qr",
    ),
    path("staff/certificates/keys/", views.keys, name="keys"),
    path("staff/certificates/keys/<uuid:key_uuid>/retire/", views.key_retire, name="key_retire"),
    path("staff/certificates/revocations/", views.revocations, name="revocations"),
    path("staff/certificates/status-rules/", views.rules, name="rules"),
    path(
        "staff/certificates/acceptance-rules/",
        views.acceptance_rules_index,
        name="acceptance_rules_index",
    ),
    path(
        "staff/certificates/acceptance-rules/<str:purpose>/",
        views.acceptance_rules,
        name="acceptance_rules",
    ),
    path(
        "staff/certificates/acceptance-rules/<str:purpose>/<int:version>/",
        views.acceptance_rules_preview,
        name="acceptance_rules_preview",
    ),
    path(
        "staff/certificates/status-rules/<int:version>/",
        views.rules_preview,
        name="rules_preview",
    ),
]
