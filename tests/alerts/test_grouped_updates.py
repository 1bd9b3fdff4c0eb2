"""The refresh writes what moved as one UPDATE per distinct set of changes (alerts/concerns.py,
`_update_changed`): the rows end as Django's bulk update would leave them, in fewer queries."""

from datetime import UTC, date, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import concerns
from alerts.models import ChildSafety

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)


def _rows(clinic, children):
    """Each child's safety row (the fixture's services may have stored one), in a known state."""
    return [
        ChildSafety.objects.update_or_create(
            patient=patient, defaults={"clinic": clinic, "refreshed_at": NOW, "tier_rank": 3, "act_by": None}
        )[0]
        for patient in children
    ]


def test_rows_moved_alike_go_in_one_update_and_end_as_written(clinic, child, other_child):
    a, b = _rows(clinic, [child, other_child])
    later = NOW.replace(hour=10)
    changed = [
        (a, {"act_by": date(2027, 1, 5), "refreshed_at": later}),
        (b, {"act_by": date(2027, 1, 5), "refreshed_at": later}),
    ]
    with CaptureQueriesContext(connection) as ctx:
        concerns._update_changed(ChildSafety, changed, ["act_by", "refreshed_at"])
    assert len(ctx.captured_queries) == 1
    assert list(ChildSafety.objects.order_by("pk").values_list("act_by", "refreshed_at", "tier_rank")) == [
        (date(2027, 1, 5), later, 3),
        (date(2027, 1, 5), later, 3),
    ]


def test_rows_moved_differently_each_get_their_own_values(clinic, child, other_child):
    a, b = _rows(clinic, [child, other_child])
    changed = [(a, {"tier_rank": 0}), (b, {"act_by": date(2027, 2, 1)})]
    concerns._update_changed(ChildSafety, changed, ["tier_rank", "act_by"])
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.tier_rank, a.act_by, b.tier_rank, b.act_by) == (0, None, 3, date(2027, 2, 1))


def test_past_the_limit_one_bulk_update_writes_them_all(clinic, child, other_child, monkeypatch):
    a, b = _rows(clinic, [child, other_child])
    monkeypatch.setattr(concerns, "_GROUPED_UPDATES_MAX", 1)
    a.tier_rank, b.tier_rank = 0, 1
    with CaptureQueriesContext(connection) as ctx:
        concerns._update_changed(ChildSafety, [(a, {"tier_rank": 0}), (b, {"tier_rank": 1})], ["tier_rank"])
    assert len(ctx.captured_queries) == 1
    assert list(ChildSafety.objects.order_by("pk").values_list("tier_rank", flat=True)) == [0, 1]


def test_equal_dicts_group_together_and_different_ones_apart():
    assert concerns._hashable({"b": 1, "a": 2}) == concerns._hashable({"a": 2, "b": 1})
    assert concerns._hashable({"a": 1}) != concerns._hashable({"a": "1"})
