"""axe-core (npm, pinned in package.json; `scripts/system-deps.sh with-browser` installs it) run in
the journeys' pages. Injected through the DevTools protocol, so the strict CSP stays on."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").slice(0, 200)),
  }));
}"""


@lru_cache(maxsize=1)
def source() -> str:
    assert AXE.exists(), "axe-core is missing: run `bash scripts/system-deps.sh with-browser`"
    return AXE.read_text()


def violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source() + "\n;0")
    return page.evaluate(RUN)
