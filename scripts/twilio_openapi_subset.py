"""Extract from Twilio's OpenAPI description (twilio/twilio-oai, MIT licence) what the portal uses:
the Messages create operation and the schemas it references, unchanged, into
tests/fakes/twilio_messages_openapi.json (the whole description is 1.8 MB).

    python scripts/twilio_openapi_subset.py ../shared/twilio/twilio_api_v2010.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "fakes" / "twilio_messages_openapi.json"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


def refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def main(source: str) -> None:
    spec = json.loads(Path(source).read_text())
    operation = {"post": spec["paths"][MESSAGES]["post"]}
    found: set[str] = set()
    refs(operation, found)
    schemas: dict = {}
    while found - {f"#/components/schemas/{k}" for k in schemas}:
        for ref in sorted(found):
            name = ref.rsplit("/", 1)[1]
            if name not in schemas:
                schemas[name] = spec["components"]["schemas"][name]
                refs(schemas[name], found)
    subset = {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "x-source": "twilio/twilio-oai twilio_api_v2010.json, commit d50069b (MIT licence): an extract",
        "paths": {MESSAGES: operation},
        "components": {"schemas": schemas},
    }
    OUT.write_text(json.dumps(subset, indent=1, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(schemas)} schemas")


if __name__ == "__main__":
    main(sys.argv[1])
