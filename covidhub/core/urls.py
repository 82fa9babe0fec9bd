from django.urls import path

from covidhub.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/<slug:key>/", views.task_pending, name="task_pending"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("offline/", views.offline, name="offline"),
]
