"""The benchmarks' baseline page (issue 9): a static template behind the same sign-in.

Mounted at /bench/baseline/ only when settings.BENCHMARK_VIEWS is true (`make bench` sets it).
It does the work every portal page does (session, user, context processors, base.html) and no
query of its own, so a page's throughput divided by this one's is independent of the machine.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class BaselineView(LoginRequiredMixin, TemplateView):
    template_name = "bench/baseline.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = range(40)
        return context
