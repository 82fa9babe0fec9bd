from django.urls import path

from covidhub.vaccination import stock_views, views

app_name = "vaccination"
urlpatterns = [
    path("vaccination/register/", views.register, name="register"),
    path("vaccination/book/<uuid:person_uuid>/", views.book, name="book"),
    path("vaccination/me/", views.my_vaccinations, name="my_vaccinations"),
    path("vaccination/me/reaction/<uuid:person_uuid>/", views.reaction, name="reaction"),
    path("vaccination/me/bookings/<uuid:booking_uuid>/qr.svg", views.booking_qr, name="booking_qr"),
    path(
        "vaccination/me/bookings/<uuid:booking_uuid>/cancel/",
        views.booking_cancel,
        name="booking_cancel",
    ),
    path(
        "vaccination/me/bookings/<uuid:booking_uuid>/respond/",
        views.booking_respond,
        name="booking_respond",
    ),
    path("staff/vaccination/sites/", views.site_list, name="site_list"),
    path("staff/vaccination/sites/<uuid:site_uuid>/", views.site_day, name="site_day"),
    path("staff/vaccination/sites/<uuid:site_uuid>/wastage/", views.wastage, name="wastage"),
    path(
        "staff/vaccination/bookings/<uuid:booking_uuid>/screening/",
        views.screening,
        name="screening",
    ),
    path("staff/vaccination/bookings/<uuid:booking_uuid>/dose/", views.dose, name="dose"),
    path("staff/vaccination/", views.staff_home, name="staff_home"),
    path("staff/vaccination/campaigns/new/", views.campaign_create, name="campaign_create"),
    path(
        "staff/vaccination/campaigns/<uuid:campaign_uuid>/sessions/new/",
        views.session_create,
        name="session_create",
    ),
    path("staff/vaccination/sessions/<uuid:session_uuid>/invite/", views.invite, name="invite"),
    path("staff/vaccination/import/", views.registration_import, name="import"),
    path(
        "staff/vaccination/import/jobs/<uuid:job_uuid>/",
        views.registration_import_job,
        name="import_job",
    ),
    path("staff/vaccination/reports/", views.staff_reports, name="staff_reports"),
    path("staff/vaccination/stock/", stock_views.staff_stock, name="staff_stock"),
    path("staff/vaccination/aefi/", views.staff_aefi_list, name="staff_aefi_list"),
    path("staff/vaccination/people/<uuid:person_uuid>/", views.staff_person, name="staff_person"),
]
