from django.urls import URLPattern

app_name = "testing"
urlpatterns: list[URLPattern] = []
