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


def test_one_statement_writes_every_kind_of_column_as_the_orm_would(clinic, child, other_child):
    """rows_update (one UPDATE ... FROM unnest(arrays)): foreign keys, booleans, small integers,
    dates, instants, text and JSON, a column that is empty in every row, and the same statement
    text whatever the number of rows."""
    from alerts.models import Concern

    a, b = _rows(clinic, [child, other_child])
    a.active, a.tier_rank, a.alarm_at, a.alarm_source = False, 0, NOW, "printed"
    a.alarm_day = date(2027, 1, 4)
    b.alarm_at, b.refill_due, b.next_refill_at, b.recheck_at = None, date(2027, 1, 1), NOW, NOW
    a.battery_notice_from = b.battery_notice_from = None  # NULL in every row
    fields = list(concerns._STATE_FIELDS)
    with CaptureQueriesContext(connection) as ctx:
        concerns.rows_update(ChildSafety, [a, b], fields)
    assert len(ctx.captured_queries) == 1
    for row in (a, b):
        stored = ChildSafety.objects.get(pk=row.pk)
        assert {f: getattr(stored, f) for f in fields} == {f: getattr(row, f) for f in fields}

    made = [
        Concern.objects.create(
            patient=p,
            clinic=clinic,
            kind="due_soon",
            tier="attention",
            tier_rank=2,
            key=f"k{p.pk}",
            began_at=NOW,
            opened_at=NOW,
            updated_at=NOW,
            nurse_words="before",
            details={},
        )  # fmt: skip
        for p in (child, other_child)
    ]
    made[0].details, made[0].nurse_words = {"days": 3, "alarm_day": "2027-01-09"}, "née «x»"
    made[0].act_by = None
    made[1].details, made[1].tier, made[1].tier_rank = {"list": [1, "two"]}, "urgent", 1
    concerns.rows_update(Concern, made, ["details", "nurse_words", "act_by", "tier", "tier_rank"])
    for row in made:
        stored = Concern.objects.get(pk=row.pk)
        assert (stored.details, stored.nurse_words, stored.act_by, stored.tier, stored.tier_rank) == (
            row.details, row.nurse_words, row.act_by, row.tier, row.tier_rank,
        )  # fmt: skip
