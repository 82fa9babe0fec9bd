from django.urls import path

from covidhub.accounts import views

app_name = "accounts"
urlpatterns = [
    path("signin/", views.citizen_login, name="citizen_login"),
    path("signin/code/", views.citizen_code, name="citizen_code"),
    path("signout/", views.sign_out, name="sign_out"),
    path("staff/signin/", views.staff_login, name="staff_login"),
    path("staff/signin/verify/", views.staff_verify, name="staff_verify"),
    path("staff/signin/enrol/", views.staff_enrol, name="staff_enrol"),
    path("staff/", views.workspace, name="workspace"),
    path("staff/security/alerts/", views.security_alerts, name="security_alerts"),
]
