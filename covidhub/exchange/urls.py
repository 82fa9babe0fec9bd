from django.urls import path

from covidhub.exchange import views

app_name = "exchange"
urlpatterns = [
    path("staff/exchange/", views.reconciliation, name="reconciliation"),
    path("staff/exchange/retry/", views.dead_letters_retry, name="retry"),
    path("staff/exchange/import/", views.inbound_import, name="import"),
    path(
        "staff/exchange/import/jobs/<uuid:job_uuid>/",
        views.inbound_import_job,
        name="import_job",
    ),
]
