from django.urls import path

from alerts import views
from alerts.voice import views as voice_views

app_name = "alerts"

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("escalations/", views.escalations, name="escalations"),
    path("escalations/<int:pk>/acknowledge/", views.concern_acknowledge, name="concern_acknowledge"),
    path("escalations/<int:pk>/printed-resolve/", views.printed_alarm_resolve, name="printed_alarm_resolve"),
    path("twilio/status/", views.twilio_status, name="twilio_status"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("twilio/voice/gather/", voice_views.gather, name="voice_gather"),
    path("twilio/voice/status/", voice_views.status, name="voice_status"),
]
