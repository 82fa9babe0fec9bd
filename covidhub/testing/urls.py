from django.urls import path

from covidhub.testing import views

app_name = "testing"
urlpatterns = [
    # Citizens and the public
    path("testing/register/", views.register, name="register"),
    path("testing/appointments/<uuid:appointment_uuid>/", views.appointment, name="appointment"),
    path("testing/results/", views.my_results, name="my_results"),
    path("testing/results/<uuid:result_uuid>/pdf/", views.result_pdf_view, name="result_pdf"),
    path("testing/lookup/", views.lookup, name="lookup"),
    path("testing/lookup/pdf/<str:token>/", views.lookup_pdf, name="lookup_pdf"),
    path("testing/verify/<str:token>/", views.verify, name="verify"),
    # Samplers
    path("staff/testing/sampling/", views.sampling, name="sampling"),
    path("staff/testing/sessions/<uuid:session_uuid>/", views.session, name="session"),
    path(
        "staff/testing/sessions/<uuid:session_uuid>/walk-in/",
        views.session_walk_in,
        name="session_walk_in",
    ),
    path(
        "staff/testing/sessions/<uuid:session_uuid>/action/",
        views.session_action,
        name="session_action",
    ),
    # Laboratories
    path("staff/testing/lab/", views.lab_home, name="lab_home"),
    path(
        "staff/testing/shipments/<uuid:shipment_uuid>/",
        views.shipment_receive_view,
        name="shipment",
    ),
    path("staff/testing/labs/<uuid:lab_uuid>/action/", views.lab_action, name="lab_action"),
    path("staff/testing/imports/<uuid:import_uuid>/", views.import_detail, name="import_detail"),
    path("staff/testing/import-jobs/<uuid:job_uuid>/", views.import_job, name="import_job"),
    # Officers and site managers
    path("staff/testing/rounds/", views.staff_rounds, name="staff_rounds"),
    path("staff/testing/board/", views.board, name="board"),
    path("staff/testing/cases/", views.staff_cases, name="staff_cases"),
    path("staff/testing/cases/<uuid:case_uuid>/", views.staff_case, name="staff_case"),
]
