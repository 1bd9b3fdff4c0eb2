"""The portal's URLs. Each part of the product has its own module and namespace."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from itbportal.health import healthz
from patients import invite_views, offline
from patients import views as patient_views
from patients.forms import BoundedAuthenticationForm
from patients.password_reset import QueuedPasswordResetForm

urlpatterns = [
    path("", patient_views.home, name="home"),
    path("emergency/", patient_views.emergency, name="emergency"),
    path("healthz", healthz, name="healthz"),
    path("sw.js", offline.service_worker, name="service_worker"),
    path("favicon.ico", offline.favicon, name="favicon"),
    path("accounts/logout/", offline.SignOutView.as_view(), name="logout"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        invite_views.PasswordSetView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=BoundedAuthenticationForm
        ),
        name="login",
    ),
    path("accounts/2fa/", include("patients.auth_urls")),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include("patients.staff_urls")),
    path("family/", include("patients.family_urls")),
    path("sms/", include("alerts.urls")),
    path("documents/", include("pumps.urls")),
    path("audit/", include("patients.audit_urls")),
    path("invite/", include("patients.invite_urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCHMARK_VIEWS:  # `make bench` only: the baseline page the benchmarks compare with
    from itbportal.bench_views import BaselineView, bare

    urlpatterns += [
        path("bench/baseline/", BaselineView.as_view(), name="bench_baseline"),
        path("bench/bare/", bare, name="bench_bare"),
    ]
