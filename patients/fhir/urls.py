"""The FHIR endpoints (namespace fhir, mounted at /fhir/)."""

from django.urls import path

from patients.fhir import views

app_name = "fhir"

urlpatterns = [
    path("", views.capability, name="base"),
    path("metadata", views.capability, name="metadata"),
    path("Patient/<int:pk>/$everything", views.everything, name="everything"),
    path("Patient/<int:pk>/bundle", views.collection, name="collection"),
    path("$export", views.bulk_export, name="export"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
