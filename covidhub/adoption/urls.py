from django.urls import path

from covidhub.adoption import views

app_name = "adoption"
urlpatterns = [
    path("staff/adoption/", views.staff_home, name="staff_home"),
    path("staff/adoption/print/", views.report_print, name="report_print"),
    path("staff/adoption/areas/", views.report_areas, name="report_areas"),
    path("staff/adoption/export.xlsx", views.report_export, name="report_export"),
    path("staff/adoption/agencies/<uuid:agency_uuid>/", views.agency_detail, name="agency"),
    path("staff/adoption/agencies/<uuid:agency_uuid>/roster/", views.roster, name="roster"),
    path(
        "staff/adoption/agencies/<uuid:agency_uuid>/roster/upload/",
        views.roster_upload,
        name="roster_upload",
    ),
    path(
        "staff/adoption/agencies/<uuid:agency_uuid>/reminders/",
        views.reminders_send,
        name="reminders_send",
    ),
    path("staff/adoption/uploads/<uuid:upload_uuid>/", views.upload_detail, name="upload"),
    path("adoption/kit/", views.kit, name="kit"),
    path("adoption/kit/poster.pdf", views.kit_poster, name="kit_poster"),
    path("adoption/kit/qr.png", views.kit_qr, name="kit_qr"),
    path("adoption/stop/<str:token>/", views.opt_out, name="opt_out"),
]
