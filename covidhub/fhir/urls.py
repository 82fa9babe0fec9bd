from django.urls import include, path, re_path

from covidhub.fhir import pages, views

app_name = "fhir"
# Behind one "fhir/" prefix: other requests pay one failed match, not a dozen.
fhir_patterns = [
    path("metadata", views.metadata, name="metadata"),
    path("$export", views.export_kickoff, name="export"),
    path("Patient/$export", views.export_kickoff, {"patient_level": True}, name="patient_export"),
    path("bulkstatus/<uuid:job_uuid>", views.export_status, name="export_status"),
    path("bulkfiles/<uuid:job_uuid>/<str:file_name>", views.export_file, name="export_file"),
    path("Patient/<str:resource_id>/$everything", views.everything, name="everything"),
    path("<str:resource_type>", views.search, name="search"),
    path("<str:resource_type>/<str:resource_id>", views.read, name="read"),
    re_path(r"^.*$", views.not_found),
]
urlpatterns = [
    path("fhir/", include(fhir_patterns)),
    re_path(r"^fhir$", views.not_found),
    path("me/health-records/", pages.my_records, name="my_records"),
    path(
        "me/health-records/<uuid:person_uuid>/fhir.json",
        pages.my_record_download,
        name="my_record_download",
    ),
]
