"""The benchmarks' reference pages (issues 9 and 16), mounted only when settings.BENCHMARK_VIEWS
is true (`make bench` sets it; never otherwise).

- /bench/bare/: the floor. A signed-in view that reads the session and the user and answers a
  few bytes: no template, no query of its own. Everything a portal page costs above it is the
  page's own work (templates, context processors, queries).
- /bench/baseline/: a static template as big as a list page, extending base.html, behind the
  same sign-in (session, user, context processors, base.html) and no query of its own.

`WorkerPidMiddleware` says which process answered (X-Bench-Worker), so the harness can warm
every gunicorn worker before it measures.
"""

import os

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.views.generic import TemplateView

WORKER_HEADER = "X-Bench-Worker"


class BaselineView(LoginRequiredMixin, TemplateView):
    template_name = "bench/baseline.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = range(40)
        return context


@login_required
def bare(request):
    """The signed-in floor: session and user (login_required reads both), a few bytes out."""
    return HttpResponse(f"user {request.user.pk}\n", content_type="text/plain; charset=utf-8")


class WorkerPidMiddleware:
    """Adds the answering process's id to every response (benchmarks only)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.pid = str(os.getpid())

    def __call__(self, request):
        response = self.get_response(request)
        response[WORKER_HEADER] = self.pid
        return response
