"""Issue 24, point 11: the refill form shows only the fields that apply, keeps its live box and
save button beside the fields, and loses nothing a nurse typed when it refuses."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.console.test_refill import _data


def _cell(html: str, name: str) -> str:
    [tag] = re.findall(rf'<div[^>]*data-field="{name}"[^>]*>', html)
    return tag


def _hidden(html: str, name: str) -> bool:
    return " hidden" in _cell(html, name)


def test_a_simple_pump_shows_no_flex_schedule_and_no_placeholder_that_looks_like_data(nurse_client, child):
    html = nurse_client.get(reverse("staff:visit", args=[child.pk, "refill"])).content.decode()
    assert _hidden(html, "flex_steps") and not _hidden(html, "daily_dose_mcg")
    assert "00:00 10" not in html and "placeholder" not in _cell(html, "flex_steps")
    # A usual concentration needs no reason; no patient bolus needs no count.
    assert _hidden(html, "concentration_reason") and _hidden(html, "bolus_max_per_day")
    assert 'data-applies-when="mode=flex"' in _cell(html, "flex_steps")


def test_the_save_button_and_the_live_box_sit_after_the_fields_in_one_aside(nurse_client, child):
    html = nurse_client.get(reverse("staff:visit", args=[child.pk, "refill"])).content.decode()
    aside = html.index('<aside class="visit-aside"')
    assert html.index('id="visit-preview"') > aside and html.index("Save visit") > aside
    # Keyboard order is the page order: every field comes before the aside, none has a tabindex.
    assert html.rindex('name="private_notes"') < aside and "tabindex" not in html[html.index("<form") : aside]


@pytest.mark.parametrize(
    ("over", "shown", "hidden"),
    [
        (
            {"mode": "flex", "daily_dose_mcg": "", "flex_steps": "00:00 12\n07:00 13"},
            "flex_steps",
            "daily_dose_mcg",
        ),
        ({"concentration_mcg_ml": "1500"}, "concentration_reason", None),
        ({"bolus_mcg": "25"}, "bolus_max_per_day", None),
    ],
)
def test_a_field_that_applies_to_what_was_typed_is_shown_after_a_refusal(
    nurse_client, child, over, shown, hidden
):
    data = _data(volume_after_ml="999", **over)  # refused: more than the reservoir holds
    response = nurse_client.post(reverse("staff:visit", args=[child.pk, "refill"]), data)
    html = response.content.decode()
    assert response.status_code == 200 and "Not saved yet" in html
    assert not _hidden(html, shown)
    if hidden:
        assert _hidden(html, hidden)


def test_nothing_the_nurse_typed_is_lost_when_the_form_refuses(nurse_client, child):
    typed = _data(
        volume_after_ml="999",
        concentration_mcg_ml="1500",
        concentration_reason="Pharmacy had only 1500",
        tone_assessment="Ashworth 2 in the legs",
        notes="Walk in the pool",
        private_notes="Came by bus",
        printed_alarm_date="2027-02-20",
        bolus_note="none",
    )
    html = nurse_client.post(reverse("staff:visit", args=[child.pk, "refill"]), typed).content.decode()
    for name, value in typed.items():
        if name in ("pre_mode", "mode"):
            assert re.search(rf'name="{name}"[^>]*>.*?<option value="{value}"[^>]*selected', html, re.S), name
        elif name in ("tone_assessment", "notes", "private_notes"):
            assert re.search(rf">\s*{re.escape(value)}</textarea>", html), name
        else:
            assert re.search(
                rf'name="{name}"[^>]*value="{re.escape(value)}"|value="{re.escape(value)}"[^>]*name="{name}"',
                html,
            ), name


def test_a_bolus_count_of_0_stays_hidden_after_a_refusal(nurse_client, child):
    html = nurse_client.post(
        reverse("staff:visit", args=[child.pk, "refill"]), _data(volume_after_ml="999")
    ).content.decode()
    assert _hidden(html, "bolus_max_per_day") and _hidden(html, "flex_steps")


def test_a_flex_schedule_typed_on_a_simple_pump_is_kept_while_hidden(nurse_client, child):
    typed = _data(volume_after_ml="999", flex_steps="07:00 14.5")
    html = nurse_client.post(reverse("staff:visit", args=[child.pk, "refill"]), typed).content.decode()
    assert _hidden(html, "flex_steps") and re.search(r">\s*07:00 14.5</textarea>", html)
