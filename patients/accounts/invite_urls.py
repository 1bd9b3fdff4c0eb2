from django.urls import path

from patients.accounts import invite_views

app_name = "invite"

urlpatterns = [
    path("link/<str:token>/", invite_views.link, name="link"),  # before the pattern it would match
    path("<uidb64>/<token>/", invite_views.accept, name="accept"),
]
