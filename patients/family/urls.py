"""The parents' portal (namespace `family`)."""

from django.urls import path

from patients.family import signs, views

app_name = "family"

urlpatterns = [
    path("", views.home, name="home"),
    path("children/<int:pk>/", views.child, name="child"),
    path("appointments/<int:pk>/confirm/", views.appointment_confirm_view, name="appointment_confirm"),
    path("signs/", signs.signs_start, name="signs"),
    path("children/<int:pk>/signs/", signs.signs_report, name="signs_report"),
    path("signs/<int:pk>/", signs.signs_done, name="signs_done"),
    path("texts/", views.texts, name="texts"),
    path("texts/check-number/", views.mobile_verify, name="mobile_verify"),
    path("language/", views.language, name="language"),
    path("calendar/", views.calendar_page, name="calendar_page"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar"),
]
