"""The nurses' console (namespace staff)."""

from django.urls import path

from patients.staff import appointments as appointment_views
from patients.staff import call_list, caregivers, clinic, signs, views, visits
from patients.staff.figures import views as figures_views

app_name = "staff"

urlpatterns = [
    path("", views.worklist_view, name="worklist"),
    path("battery/", views.battery, name="battery"),
    path("day/", views.day, name="day"),
    path("calls/", call_list.call_list, name="call_list"),
    path("calls/<int:pk>/outcome/", call_list.call_outcome, name="call_outcome"),
    path("signs/<int:pk>/", signs.sign_outcome, name="sign_outcome"),
    path("figures/", figures_views.figures, name="figures"),
    path("figures.csv", figures_views.figures_csv, name="figures_csv"),
    path("clinic/", clinic.clinic_calendar_view, name="clinic_calendar"),
    path("patients/new/", visits.patient_new, name="patient_new"),
    path("patients/new/preview/", visits.patient_new_preview, name="patient_new_preview"),
    path("patients/<int:pk>/", views.chart, name="chart"),
    path("patients/<int:pk>/visit/<str:kind>/", visits.visit, name="visit"),
    path("patients/<int:pk>/visit/<str:kind>/preview/", visits.visit_preview, name="visit_preview"),
    path("patients/<int:pk>/appointments/new/", appointment_views.book, name="appointment_book"),
    path("patients/<int:pk>/caregivers/", caregivers.caregivers, name="caregivers"),
    path(
        "patients/<int:pk>/caregivers/<int:link_pk>/contact/",
        caregivers.caregiver_contact,
        name="caregiver_contact",
    ),
    path(
        "patients/<int:pk>/caregivers/<int:link_pk>/deactivate/",
        caregivers.caregiver_deactivate,
        name="caregiver_deactivate",
    ),
    path("appointments/<int:pk>/move/", appointment_views.reschedule, name="appointment_reschedule"),
    path("appointments/<int:pk>/<str:action>/", appointment_views.act, name="appointment_act"),
]
