"""Run pip-audit on requirements.txt for `make test`.

A known vulnerability fails the run (exit 1). A vulnerability service that cannot be reached, or that
knows none of our packages (a registry mirror without PyPI's JSON API), prints a clear warning and
does not fail: an unverifiable audit is reported, not passed off as clean.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def run_audit() -> tuple[int, str, str]:
    command = [
        str(ROOT / ".venv" / "bin" / "pip-audit"),
        "-r",
        str(ROOT / "requirements.txt"),
        "--no-deps",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "-f",
        "json",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return -1, "", f"pip-audit did not answer within {TIMEOUT} s"
    return done.returncode, done.stdout, done.stderr


def verdict(returncode: int, stdout: str, stderr: str) -> tuple[int, str]:
    """(exit code, message) for the three outcomes: vulnerable, unverifiable, clean."""
    try:
        report = json.loads(stdout)
    except ValueError:
        reason = (stderr.strip().splitlines() or ["no output"])[-1]
        return (
            0,
            f"WARNING: pip-audit could not reach its vulnerability service ({reason}); "
            "dependencies NOT audited.",
        )
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    if vulnerable:
        lines = [
            f"  {d['name']}=={d.get('version')}: " + ", ".join(v["id"] for v in d["vulns"])
            for d in vulnerable
        ]
        return 1, "pip-audit found known vulnerabilities; upgrade these pins:\n" + "\n".join(lines)
    skipped = [d for d in deps if d.get("skip_reason")]
    if deps and len(skipped) == len(deps):
        return 0, (
            f"WARNING: pip-audit's service knows none of the {len(deps)} pinned packages "
            "(the registry has no vulnerability data here); dependencies NOT audited."
        )
    note = f" ({len(skipped)} could not be audited)" if skipped else ""
    return 0, f"pip-audit: no known vulnerabilities in {len(deps) - len(skipped)} packages{note}."


def main() -> int:
    code, message = verdict(*run_audit())
    print(message, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
