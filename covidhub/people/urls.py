from django.urls import path

from covidhub.people import views

app_name = "people"
urlpatterns = [
    path("me/profile/", views.self_create, name="self_create"),
    path("me/household/", views.household, name="household"),
    path("me/household/add/", views.member_add, name="member_add"),
    path("me/household/<uuid:person_uuid>/", views.member_edit, name="member_edit"),
    path("me/access-log/", views.access_log, name="access_log"),
    path("staff/people/", views.staff_people, name="staff_people"),
    path("staff/people/<uuid:person_uuid>/", views.staff_person, name="staff_person"),
]
