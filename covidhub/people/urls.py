from django.urls import path

from covidhub.people import correction_views, views

app_name = "people"
urlpatterns = [
    path("me/profile/", views.self_create, name="self_create"),
    path("me/household/", views.household, name="household"),
    path("me/household/add/", views.member_add, name="member_add"),
    path("me/household/<uuid:person_uuid>/", views.member_edit, name="member_edit"),
    path(
        "me/household/<uuid:person_uuid>/correction/",
        correction_views.correction_request,
        name="correction_request",
    ),
    path("me/access-log/", views.access_log, name="access_log"),
    path("staff/people/", views.staff_people, name="staff_people"),
    path("staff/people/<uuid:person_uuid>/", views.staff_person, name="staff_person"),
    path(
        "staff/people/<uuid:person_uuid>/correction/",
        correction_views.staff_correction_request,
        name="staff_correction_request",
    ),
    path("staff/corrections/", correction_views.staff_corrections, name="staff_corrections"),
    path(
        "staff/corrections/<uuid:request_uuid>/",
        correction_views.staff_correction,
        name="staff_correction",
    ),
]
