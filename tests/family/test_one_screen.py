"""Issue 24, items 3 and 6: each screen says one thing. The big call button only on a card that
asks the family to call; no "Confirm I will come" for an appointment the stored assessment says is
too late; a battery card says its date once; no business number under a closed-clinic card. The
demo clinic (seeded relative to now) gives every case; the pages read the stored concerns."""

import re

from django.urls import reverse
from django.utils import translation

from alerts.models import Concern
from patients.models import Patient


def cards(html: str) -> dict[str, str]:
    """Each home card's HTML by the child's first name."""
    parts = html.split('<article class="card child-card')[1:]
    return {re.search(r'class="child-name"[^>]*>([^<]+)<', part).group(1): part for part in parts}


def test_only_a_card_that_asks_the_family_to_call_carries_the_call_button(demo_login):
    html = demo_login("james.smith").get(reverse("family:home")).content.decode()
    by_name = cards(html)
    assert set(by_name) == {"Liam", "Lucas", "Oliver", "Daniel"}
    told = set(
        Concern.objects.open()
        .exclude(family_level="")
        .filter(patient__first_name__in=by_name)
        .values_list("patient__first_name", flat=True)
    )
    assert told == {"Liam"}  # alarm near: the card asks to call
    for name, card in by_name.items():
        assert ("btn-call" in card) == (name in told), name
    # The numbers are still one tap away: in the footer and on the emergency page.
    footer = html[html.index("<footer") :]
    assert "tel:801.213.3599" in footer and "tel:801.662.1000" in footer


def test_a_spanish_on_time_card_has_no_call_button_either(demo_login):
    html = demo_login("maria.garcia").get(reverse("family:home")).content.decode()
    translation.deactivate()
    by_name = cards(html)
    told = set(
        Concern.objects.open()
        .exclude(family_level="")
        .filter(patient__first_name__in=by_name)
        .values_list("patient__first_name", flat=True)
    )
    assert told != set(by_name), "the demo family has a card that is on time"
    for name, card in by_name.items():
        assert ("btn-call" in card) == (name in told), name


def test_an_appointment_after_the_alarm_is_not_offered_confirm(demo_login):
    noah = Patient.objects.get(first_name="Noah")
    concern = Concern.objects.open().get(patient=noah, kind="booked_after_alarm")
    html = demo_login("ana.lopez").get(reverse("family:child", args=[noah.pk])).content.decode()
    translation.deactivate()
    late = html.split(
        f'action="{reverse("family:appointment_confirm", args=[int(concern.key.rsplit(":", 1)[-1])])}"'
    )
    assert len(late) == 1, "the late appointment must not be offered a confirm button"
    assert "Esta cita es demasiado tarde. Llame a la clínica para cambiarla a una fecha más pronto." in html
    assert "Confirmar que voy a venir" not in html


def test_a_battery_card_says_its_replace_by_date_once(demo_login):
    mia = Patient.objects.get(first_name="Mia")
    concern = Concern.objects.open().get(patient=mia, kind="battery")
    assert concern.family_level == "book_now"  # yellow, never the red of "call today"
    for url in (reverse("family:home"), reverse("family:child", args=[mia.pk])):
        html = demo_login("david.chen").get(url).content.decode()
        card = cards(html)["Mia"] if url == reverse("family:home") else html
        assert card.count("must be replaced by") == 1 + (url != reverse("family:home")), url
        assert "urgency-book_now" in card


def test_no_business_number_under_a_card_when_nothing_is_booked(demo_login):
    liam = Patient.objects.get(first_name="Liam")
    html = demo_login("james.smith").get(reverse("family:child", args=[liam.pk])).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    appointments = main[main.index('id="appointments"') : main.index('id="visits"')]
    assert "No appointment is booked." in appointments
    assert "tel:" not in appointments
