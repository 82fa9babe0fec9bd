from django.urls import URLPattern

app_name = "declarations"
urlpatterns: list[URLPattern] = []
