from django.urls import path

from patients.staff import audit as audit_views

app_name = "audit"

urlpatterns = [
    path("", audit_views.audit_search, name="search"),
]
