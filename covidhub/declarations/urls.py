from django.urls import path

from covidhub.declarations import views

app_name = "declarations"
urlpatterns = [
    path("declarations/", views.home, name="home"),
    path("declarations/<uuid:person_uuid>/new/", views.declare, name="declare"),
    path("declarations/<uuid:person_uuid>/qr/", views.personal_qr, name="personal_qr"),
    path("declarations/<uuid:person_uuid>/card/", views.personal_card, name="personal_card"),
    path("declarations/checkin/", views.checkin, name="checkin"),
    path("declarations/checkins/", views.checkins, name="checkins"),
    path("declarations/checkins/<uuid:checkin_uuid>/checkout/", views.checkout, name="checkout"),
    path("v/<str:code>/", views.venue_link, name="venue_link"),
    path("declarations/venues/", views.venue_list, name="venue_list"),
    path("declarations/venues/new/", views.venue_new, name="venue_new"),
    path("declarations/venues/<uuid:venue_uuid>/", views.venue_detail, name="venue_detail"),
    path(
        "declarations/venues/<uuid:venue_uuid>/poster.pdf",
        views.venue_poster,
        name="venue_poster",
    ),
    path("declarations/venues/<uuid:venue_uuid>/scan/", views.venue_scan, name="venue_scan"),
    path("staff/declarations/followups/", views.followup_list, name="followup_list"),
    path(
        "staff/declarations/followups/<uuid:followup_uuid>/",
        views.followup_detail,
        name="followup_detail",
    ),
    path(
        "staff/declarations/followups/<uuid:followup_uuid>/case/",
        views.case_propose_for_followup,
        name="followup_case",
    ),
    path("staff/declarations/cases/", views.case_list, name="case_list"),
    path("staff/declarations/cases/<uuid:case_uuid>/", views.case_detail, name="case_detail"),
]
