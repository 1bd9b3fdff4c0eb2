"""The nurses' console (namespace staff)."""

from django.urls import path

from patients.staff import appointments as appointment_views
from patients.staff import call_list as ladder_views
from patients.staff import caregivers as staff_views_caregivers
from patients.staff import clinic as staff_views_clinic
from patients.staff import views as staff_views
from patients.staff import visits as staff_views_visits
from patients.staff.figures import views as figures_views

app_name = "staff"

urlpatterns = [
    path("", staff_views.worklist_view, name="worklist"),
    path("battery/", staff_views.battery, name="battery"),
    path("day/", staff_views.day, name="day"),
    path("calls/", ladder_views.call_list, name="call_list"),
    path("calls/<int:pk>/outcome/", ladder_views.call_outcome, name="call_outcome"),
    path("figures/", figures_views.figures, name="figures"),
    path("figures.csv", figures_views.figures_csv, name="figures_csv"),
    path("clinic/", staff_views_clinic.clinic_calendar_view, name="clinic_calendar"),
    path("patients/new/", staff_views_visits.patient_new, name="patient_new"),
    path("patients/new/preview/", staff_views_visits.patient_new_preview, name="patient_new_preview"),
    path("patients/<int:pk>/", staff_views.chart, name="chart"),
    path("patients/<int:pk>/visit/<str:kind>/", staff_views_visits.visit, name="visit"),
    path(
        "patients/<int:pk>/visit/<str:kind>/preview/", staff_views_visits.visit_preview, name="visit_preview"
    ),
    path("patients/<int:pk>/appointments/new/", appointment_views.book, name="appointment_book"),
    path("patients/<int:pk>/caregivers/", staff_views_caregivers.caregivers, name="caregivers"),
    path(
        "patients/<int:pk>/caregivers/<int:link_pk>/contact/",
        staff_views_caregivers.caregiver_contact,
        name="caregiver_contact",
    ),
    path(
        "patients/<int:pk>/caregivers/<int:link_pk>/deactivate/",
        staff_views_caregivers.caregiver_deactivate,
        name="caregiver_deactivate",
    ),
    path("appointments/<int:pk>/move/", appointment_views.reschedule, name="appointment_reschedule"),
    path("appointments/<int:pk>/<str:action>/", appointment_views.act, name="appointment_act"),
]
