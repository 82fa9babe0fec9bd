from django.urls import path

from covidhub.homecare import views

app_name = "homecare"
urlpatterns = [
    path("homecare/", views.home, name="home"),
    path("homecare/orders/<uuid:order_uuid>/check/", views.check, name="check"),
    path("homecare/orders/<uuid:order_uuid>/release.pdf", views.release_paper, name="release_pdf"),
    path("homecare/verify/<str:token>/", views.verify, name="verify"),
    path("staff/homecare/", views.station, name="station"),
    path("staff/homecare/contacts/", views.contacts, name="contacts"),
    path(
        "staff/homecare/contacts/<uuid:candidate_uuid>/open/",
        views.contact_open,
        name="contact_open",
    ),
    path("staff/homecare/people/<uuid:person_uuid>/open/", views.order_new, name="order_new"),
    path("staff/homecare/orders/<uuid:order_uuid>/", views.order_detail, name="order_detail"),
    path(
        "staff/homecare/orders/<uuid:order_uuid>/action/", views.order_action, name="order_action"
    ),
    path(
        "staff/homecare/orders/<uuid:order_uuid>/release.pdf",
        views.staff_release_paper,
        name="staff_release_pdf",
    ),
    path("staff/homecare/orders/<uuid:order_uuid>/chain/", views.chain, name="chain"),
    path("staff/homecare/clusters/", views.clusters, name="clusters"),
    path("staff/homecare/protocol/", views.protocol, name="protocol"),
    path("staff/homecare/duty/", views.duty, name="duty"),
    path("staff/homecare/alerts/<uuid:alert_uuid>/", views.alert_detail, name="alert_detail"),
    path(
        "staff/homecare/alerts/<uuid:alert_uuid>/action/", views.alert_action, name="alert_action"
    ),
]
