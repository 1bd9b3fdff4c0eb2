"""Two-step sign-in pages, included at accounts/2fa/."""

from django.urls import path

from patients.accounts import two_factor_views as views

app_name = "two_factor"

urlpatterns = [
    path("", views.two_factor_settings, name="settings"),
    path("set-up/", views.two_factor_enrol, name="enrol"),
    path("check/", views.two_factor_verify, name="verify"),
    path("recovery-codes/", views.recovery_codes_new, name="recovery_codes"),
    path("turn-off/", views.two_factor_turn_off, name="turn_off"),
]
