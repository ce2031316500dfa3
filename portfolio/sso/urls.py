from django.urls import path

from portfolio.sso import views

urlpatterns = [
    path("sso/login/", views.sso_login, name="sso-login"),
    path("sso/callback/", views.sso_callback, name="sso-callback"),
    path("sso/settings/", views.sso_settings_page, name="sso-settings"),
]
