"""Query counts of the list pages at two data sizes (Django test client, CaptureQueriesContext).

A page whose count is the same with 50 and with 5,000 children is "constant"; otherwise "GROWS"
(an N+1 somewhere: a missing select_related/prefetch_related or a query in a loop).
"""

from __future__ import annotations

from tests.benchmarks.common import Figure, Results
from tests.benchmarks.data import Dataset

PAGES = [
    # (label, URL name, who, needs a child's pk)
    ("nurse worklist", "staff:worklist", "nurse", False),
    ("parent home", "family:home", "parent", False),
    ("staff day view", "staff:day", "nurse", False),
    ("family child page", "family:child", "parent", True),
]


def _path(name: str, child_id: int | None) -> str | None:
    from django.urls import NoReverseMatch, reverse

    attempts = [{"args": [child_id]}, {"kwargs": {"pk": child_id}}] if child_id else [{}]
    for kwargs in attempts:
        try:
            return reverse(name, **kwargs)
        except NoReverseMatch:
            continue
    return None


def measure(dataset: Dataset) -> dict[str, tuple[int | None, str]]:
    """{label: (query count or None, why not)} for every page, signed in as its user."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from patients.models import User
    from tests.helpers import login_as

    users = {"nurse": User.objects.get(pk=dataset.nurse_id), "parent": User.objects.get(pk=dataset.parent_id)}
    out: dict[str, tuple[int | None, str]] = {}
    for label, name, who, per_child in PAGES:
        path = _path(name, dataset.parent_child_ids[0] if per_child else None)
        if path is None:
            out[label] = (None, f"URL name {name} does not resolve")
            continue
        client = login_as(Client(), users[who])
        client.get(path)  # first request: session, caches
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        if response.status_code != 200:
            out[label] = (None, f"GET {path} answered {response.status_code}")
            continue
        out[label] = (len(ctx.captured_queries), "")
    return out


def report(results: Results, small: dict, large: dict, sizes: tuple[int, int]) -> None:
    for label, _name, _who, _child in PAGES:
        big, why = large.get(label, (None, "not measured"))
        few, why_small = small.get(label, (None, "not measured"))
        name = f"queries: {label} ({sizes[1]:,} vs {sizes[0]:,} children)"
        if big is None or few is None:
            results.missing(name, why or why_small)
            continue
        verdict = "constant" if big == few else "GROWS"
        ratio = big / few if few else None
        results.add(Figure(name, big, "", few, ratio, "constant", big == few, verdict))
