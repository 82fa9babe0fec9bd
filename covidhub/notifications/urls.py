from django.urls import path

from covidhub.notifications import views

app_name = "notifications"
urlpatterns = [
    path("me/inbox/", views.inbox, name="inbox"),
    path("dev/outbox/", views.dev_outbox, name="dev_outbox"),
]
