"""The portal's URLs: each surface has its own module and namespace (README, "Where things are")."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from alerts import urls as alerts_urls
from itbportal.health import healthz
from patients.accounts import invite_views
from patients.accounts import views as account_views
from patients.accounts.forms import BoundedAuthenticationForm
from patients.accounts.password_reset import QueuedPasswordResetForm
from patients.family import offline
from patients.family import views as family_views
from patients.staff import escalations

# The `alerts` namespace under /sms/: the engine's webhooks and, beside them, the console's outbox
# and escalations pages (URL names kept from before the console had its own package).
sms_patterns = [
    path("outbox/", escalations.outbox, name="outbox"),
    path("escalations/", escalations.escalations, name="escalations"),
    path("escalations/<int:pk>/acknowledge/", escalations.concern_acknowledge, name="concern_acknowledge"),
    path(
        "escalations/<int:pk>/printed-resolve/",
        escalations.printed_alarm_resolve,
        name="printed_alarm_resolve",
    ),
    *alerts_urls.urlpatterns,
]

urlpatterns = [
    path("", account_views.home, name="home"),
    path("emergency/", family_views.emergency, name="emergency"),
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
    path("accounts/2fa/", include("patients.accounts.two_factor_urls")),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include("patients.staff.urls")),
    path("family/", include("patients.family.urls")),
    path("sms/", include((sms_patterns, "alerts"))),
    path("documents/", include("patients.documents.urls")),
    path("fhir/", include("patients.fhir.urls")),
    path("audit/", include("patients.staff.audit_urls")),
    path("invite/", include("patients.accounts.invite_urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCHMARK_VIEWS:  # `make bench` only: the baseline page the benchmarks compare with
    from itbportal.bench_views import BaselineView, bare

    urlpatterns += [
        path("bench/baseline/", BaselineView.as_view(), name="bench_baseline"),
        path("bench/bare/", bare, name="bench_bare"),
    ]
