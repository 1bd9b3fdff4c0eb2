"""The warning signs a family can report (issue 25): the handout's three lists, and what to do.

Pure words and order, no model: the groups, the signs in each (the handout's words), and each
group's default instructions in English and Spanish. A clinic's own instructions are settings on
`Clinic` (`sign_instructions_*`), defaulting to these. The report itself and its writes are in
`patients/sign_reports.py`.

Handout ("Let's Talk About... Baclofen pump", "What are the risks"):
- infection: "Your child can get an infection within the first few weeks after surgery. Signs of
  infection include fever, swelling, redness, or drainage around the pump site or surgery site."
- too much: "Too much baclofen can cause headaches, drowsiness or nausea. Your child may be a
  little sleepy after the pump rate is increased. This is normal and usually gets better after
  the first week. If it does not get better, call your child's healthcare provider."
- withdrawal: "The signs of baclofen withdrawal are a sudden increase in muscle tone, agitation,
  and itching without a rash. Your child may also have a fever. If this happens, immediately give
  your child baclofen by mouth, as directed by your rehabilitation provider and then call your
  nurses."
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

WITHDRAWAL = "withdrawal"
TOO_MUCH = "too_much"
INFECTION = "infection"
# The order "what to do now" speaks in: withdrawal first (it can kill, and its first step, baclofen
# by mouth, cannot wait), then too much baclofen, then infection.
GROUPS = (WITHDRAWAL, TOO_MUCH, INFECTION)

GROUP_LABELS = {
    WITHDRAWAL: _("Signs of baclofen withdrawal (too little baclofen)"),
    TOO_MUCH: _("Signs of too much baclofen"),
    INFECTION: _("Signs of infection"),
}

# code -> (group, the parent's words). Fever is in two lists, as in the handout.
SIGNS = {
    "tone": (WITHDRAWAL, _("A sudden increase in muscle tone")),
    "agitation": (WITHDRAWAL, _("Agitation")),
    "itching": (WITHDRAWAL, _("Itching without a rash")),
    "withdrawal_fever": (WITHDRAWAL, _("Fever")),
    "headache": (TOO_MUCH, _("Headaches")),
    "drowsiness": (TOO_MUCH, _("Drowsiness")),
    "nausea": (TOO_MUCH, _("Nausea")),
    "sleepy": (TOO_MUCH, _("Sleepiness after the pump rate was increased that does not get better")),
    "infection_fever": (INFECTION, _("Fever")),
    "swelling": (INFECTION, _("Swelling around the pump site or surgery site")),
    "redness": (INFECTION, _("Redness around the pump site or surgery site")),
    "drainage": (INFECTION, _("Drainage around the pump site or surgery site")),
}
# The nurses' words for each sign (the console is in English).
SIGN_NURSE_WORDS = {
    "tone": "sudden increase in muscle tone",
    "agitation": "agitation",
    "itching": "itching without a rash",
    "withdrawal_fever": "fever",
    "headache": "headaches",
    "drowsiness": "drowsiness",
    "nausea": "nausea",
    "sleepy": "sleepiness after a rate increase, not getting better",
    "infection_fever": "fever",
    "swelling": "swelling at the pump or surgery site",
    "redness": "redness at the pump or surgery site",
    "drainage": "drainage at the pump or surgery site",
}
GROUP_NURSE_WORDS = {WITHDRAWAL: "withdrawal", TOO_MUCH: "too much baclofen", INFECTION: "infection"}

# Each group's instructions by default: the handout's words. The handout gives no instruction for
# infection beyond its signs; the default adds the portal's emergency page's "call the clinic".
DEFAULT_INSTRUCTIONS = {
    "en": {
        WITHDRAWAL: (
            "If this happens, immediately give your child baclofen by mouth, as directed by your "
            "rehabilitation provider and then call your nurses. Severe baclofen withdrawal can "
            "lead to death."
        ),
        TOO_MUCH: (
            "Too much baclofen can cause headaches, drowsiness or nausea. Your child may be a "
            "little sleepy after the pump rate is increased. This is normal and usually gets "
            "better after the first week. If it does not get better, call your child's healthcare "
            "provider."
        ),
        INFECTION: (
            "Your child can get an infection within the first few weeks after surgery. Signs of "
            "infection include fever, swelling, redness, or drainage around the pump site or "
            "surgery site. If you see any of these, call the clinic."
        ),
    },
    "es": {
        WITHDRAWAL: (
            "Si esto pasa, dele a su hijo baclofeno por la boca de inmediato, como le indicó su "
            "proveedor de rehabilitación, y después llame a sus enfermeras. La abstinencia grave "
            "de baclofeno puede causar la muerte."
        ),
        TOO_MUCH: (
            "Demasiado baclofeno puede causar dolores de cabeza, somnolencia o náuseas. Su hijo "
            "puede tener un poco de sueño después de que se aumenta la dosis de la bomba. Esto es "
            "normal y casi siempre mejora después de la primera semana. Si no mejora, llame al "
            "proveedor de salud de su hijo."
        ),
        INFECTION: (
            "Su hijo puede tener una infección en las primeras semanas después de la cirugía. Las "
            "señales de infección son fiebre, hinchazón, enrojecimiento o supuración alrededor "
            "de la bomba o de la herida de la cirugía. Si ve alguna de ellas, llame a la clínica."
        ),
    },
}

WORDS_MAX = 500  # a few words, not a letter
REPEAT_WINDOW_MINUTES = 60  # a report within the hour of the last one adds to it
ACK_MINUTES_DEFAULT = 15  # a nurse acknowledges within this much open-clinic time


class SignError(ValueError):
    """A report that cannot be taken; the message is a plain sentence for the parent."""


def signs_in_order(codes) -> list[str]:
    """Known sign codes, each once, in the handout's order."""
    wanted = set(codes)
    return [code for code in SIGNS if code in wanted]


def groups_of(codes) -> list[str]:
    """The groups of these signs, withdrawal first (GROUPS' order)."""
    present = {SIGNS[code][0] for code in codes if code in SIGNS}
    return [group for group in GROUPS if group in present]


def check_signs(codes) -> list[str]:
    """The signs ticked, in order; a plain message when none is ticked or one is unknown."""
    codes = [str(code) for code in codes]
    if not codes:
        raise SignError(_("Tick at least one sign you see."))
    if any(code not in SIGNS for code in codes):
        raise SignError(_("Tick the signs from the lists on this page."))
    return signs_in_order(codes)


def nurse_summary(codes) -> str:
    """'withdrawal: agitation, fever; infection: redness at the pump or surgery site'."""
    parts = []
    for group in groups_of(codes):
        words = [SIGN_NURSE_WORDS[c] for c in signs_in_order(codes) if SIGNS[c][0] == group]
        parts.append(f"{GROUP_NURSE_WORDS[group]}: {', '.join(words)}")
    return "; ".join(parts)
