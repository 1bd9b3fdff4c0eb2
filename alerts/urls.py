"""The engine's webhooks, mounted by itbportal/urls.py under /sms/ in the `alerts` namespace
(beside the console's outbox and escalations pages, whose URL names keep that namespace)."""

from django.urls import path

from alerts import webhooks
from alerts.voice import views as voice_views

urlpatterns = [
    path("twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("twilio/inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
    path("twilio/voice/gather/", voice_views.gather, name="voice_gather"),
    path("twilio/voice/status/", voice_views.status, name="voice_status"),
]
