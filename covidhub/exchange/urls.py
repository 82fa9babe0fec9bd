from django.urls import path

from covidhub.exchange import views

app_name = "exchange"
urlpatterns = [
    path("staff/exchange/", views.reconciliation, name="reconciliation"),
    path("staff/exchange/retry/", views.dead_letters_retry, name="retry"),
]
