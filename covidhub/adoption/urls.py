from django.urls import URLPattern

app_name = "adoption"
urlpatterns: list[URLPattern] = []
