from django.urls import path

from . import invite_views

app_name = "invite"

urlpatterns = [
    path("<uidb64>/<token>/", invite_views.accept, name="accept"),
]
