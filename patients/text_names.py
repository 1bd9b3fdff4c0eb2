"""How a text message names a child: a short name the family chooses, unique within the family.

A family (the children of one parent, across clinics) may have two children with pumps, and two
"L's pump refill is due" texts on one day cannot be told apart. So each child has a text name:
by default the shortest initial form no sibling has ("L." and "Lu."), or a nickname or initials
the family types. Never the full name, nothing clinical (docs/rules.md#what-a-text-may-say).

Pure: no Django import (the data migration and the engine's words use it too).
"""

from __future__ import annotations

import re

MAX_LENGTH = 12

# Words no text may carry: a drug, a therapy, a dose or its units, a diagnosis, in English and
# Spanish. The texts' own tests check every template against this list too.
CLINICAL_WORDS = (
    "baclofen",
    "baclofeno",
    "lioresal",
    "gablofen",
    "itb",
    "intrathecal",
    "intratecal",
    "mcg",
    "mg",
    "ml",
    "dose",
    "dosis",
    "spastic",
    "espastic",
    "cerebral",
    "palsy",
    "parálisis",
    "paralisis",
    "withdrawal",
    "abstinencia",
    "seizure",
    "epilep",
    "pump",
    "bomba",
)

# Letters of any alphabet, spaces, dots, hyphens and apostrophes: a nickname or initials.
_ALLOWED = re.compile(r"^[^\W\d_]+(?:[ .'’-]*[^\W\d_]*)*\.?$")


def _key(text: str) -> str:
    """What two names are compared on: letters only, case-folded ("Lu." and "lu" are the same)."""
    return "".join(ch for ch in text.casefold() if ch.isalpha())


def clinical_words_in(text: str) -> list[str]:
    """The clinical words a text carries, as whole words (or, for a drug's name, anywhere)."""
    lowered = text.casefold()
    words = set(re.findall(r"[^\W\d_]+", lowered))
    found = [w for w in CLINICAL_WORDS if w in words]
    found += [
        w for w in ("baclofen", "intrathecal", "intratecal", "espastic", "spastic", "epilep") if w in lowered
    ]
    return sorted(set(found))


def default_text_name(first_name: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The shortest initial form of the first name that no sibling's text name has: "L.", then
    "Lu.", never the whole first name; "L.2" when every shorter form is taken (twins)."""
    letters = [ch for ch in first_name.strip() if ch.isalpha()] or ["?"]
    used = {_key(name) for name in taken}
    for length in range(1, max(len(letters), 2)):
        stem = "".join(letters[:length])
        candidate = stem[:1].upper() + stem[1:].lower() + "."
        if (
            len(candidate) <= MAX_LENGTH
            and _key(candidate) not in used
            and _key(candidate) != _key(first_name)
        ):
            return candidate
    initial = letters[0].upper()
    number = 2
    while f"{initial}{number}".casefold() in {name.casefold().replace(".", "") for name in taken}:
        number += 1
    return f"{initial}.{number}"


def text_name_problem(
    name: str, *, first_name: str, last_name: str, taken: set[str] = frozenset()
) -> str | None:
    """Why a name the family typed cannot be used, as a key the form words in each language, or
    None. Keys: empty, too_long, characters, full_name, clinical, taken."""
    name = name.strip()
    if not name:
        return "empty"
    if len(name) > MAX_LENGTH:
        return "too_long"
    if not _ALLOWED.match(name):
        return "characters"
    given = _key(name)
    full = {
        _key(first_name),
        _key(last_name),
        _key(f"{first_name} {last_name}"),
        _key(f"{last_name} {first_name}"),
    }
    if given in full - {""}:
        return "full_name"
    if any(
        _key(part) == given
        for part in re.split(r"[\s-]+", f"{first_name} {last_name}")
        if len(_key(part)) > 2
    ):
        return "full_name"
    if clinical_words_in(name):
        return "clinical"
    if given in {_key(other) for other in taken}:
        return "taken"
    return None
