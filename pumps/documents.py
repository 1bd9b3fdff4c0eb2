"""After-visit summaries and emergency cards (issue 6 fills this module in).

Contract: the refill service calls `visit_summary_queue(visit=...)` inside its transaction; the
function defers the Celery task with transaction.on_commit so nothing is rendered before commit.
"""

from __future__ import annotations


def visit_summary_queue(*, visit) -> None:
    """Queue the after-visit summary PDF for `visit` on commit (issue 6 replaces this body)."""
