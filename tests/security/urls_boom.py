"""The portal's URLs plus one view that fails, to test the 500 page and the logs."""

from django.urls import path

from itbportal.urls import urlpatterns as portal_urlpatterns


def boom(request):
    raise ValueError(f"could not text {request.POST.get('mobile', '')}")


urlpatterns = [*portal_urlpatterns, path("boom/", boom, name="boom")]
