from django.urls import path

from covidhub.clients import views
from covidhub.clients.oauth import ClientTokenView

app_name = "clients"
urlpatterns = [
    path("oauth/token/", ClientTokenView.as_view(), name="token"),
    path("staff/clients/", views.client_list, name="list"),
    path("staff/clients/new/", views.client_new, name="new"),
    path("staff/clients/<uuid:client_uuid>/", views.client_detail, name="detail"),
    path("staff/clients/<uuid:client_uuid>/secret/", views.client_rotate, name="rotate"),
    path("staff/clients/<uuid:client_uuid>/revoke/", views.client_revoke, name="revoke"),
]
