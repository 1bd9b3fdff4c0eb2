"""Write docs/fhir-example-bundle.json: the FHIR collection Bundle of the demo child with the most
kinds of record. Run after `manage.py seed_demo` on a scratch database (docs/fhir.md):

    export ITB_VAR_DIR=$(mktemp -d) DEBUG=true
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo
    .venv/bin/python scripts/fhir_example.py
"""

import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itbportal.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from patients.fhir.bundle import bundle, child_resources, export_queryset  # noqa: E402
from patients.models import Patient  # noqa: E402

BASE = "https://portal.example"


def main() -> None:
    best = None
    for child in export_queryset(Patient.objects.order_by("pk")).iterator(chunk_size=100):
        kinds = Counter(r.get_resource_type() for r in child_resources(child, base_url=BASE))
        score = (len(kinds), sum(kinds.values()))
        if best is None or score > best[0]:
            best = (score, child.pk, kinds)
    if best is None:
        sys.exit("No children: run manage.py seed_demo first.")
    child = export_queryset(Patient.objects.filter(pk=best[1])).get()
    result = bundle(child_resources(child, base_url=BASE), base_url=BASE, now=timezone.now())
    out = ROOT / "docs" / "fhir-example-bundle.json"
    out.write_text(json.dumps(json.loads(result.model_dump_json()), indent=2) + "\n")
    sys.stderr.write(f"{out}: child {child.pk}, {dict(best[2])}\n")


if __name__ == "__main__":
    main()
