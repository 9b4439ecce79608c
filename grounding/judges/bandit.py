"""Static security analysis of generated code with bandit's Python API (parses, never runs, the code).

`# nosec` comments are ignored: generated code must not be able to silence the judge that grades it.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import GroundingUsageError

SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Finding:
    """One bandit issue."""

    test_id: str
    test_name: str
    cwe: int | None
    severity: str
    confidence: str
    line: int
    text: str

    def describe(self) -> str:
        cwe = f"CWE-{self.cwe}" if self.cwe else "no CWE"
        return (f"{self.test_id} {self.test_name} ({cwe}, severity {self.severity}, confidence {self.confidence}, "
                f"line {self.line}): {self.text}")


def check_severity(severity: str) -> str:
    if severity.lower() not in SEVERITIES:
        raise GroundingUsageError(f"bandit severity {severity!r} is not one of {', '.join(SEVERITIES)}; set the "
                                  f"case's `severity` (or --severity) to one of them.")
    return severity.lower()


def scan(code: str) -> tuple[Finding, ...]:
    """All of bandit's findings in `code`, in line order."""
    logging.getLogger("bandit").setLevel(logging.ERROR)
    logging.getLogger("stevedore.extension").setLevel(logging.CRITICAL)  # bandit's unused SARIF formatter plugin
    from bandit.core import config, manager  # (its import loads the plugins: the levels must be set first)

    with tempfile.TemporaryDirectory(prefix="grounding-bandit-") as folder:
        path = Path(folder) / "generated.py"
        path.write_text(code)
        bandit = manager.BanditManager(config.BanditConfig(), "file", ignore_nosec=True, quiet=True)
        bandit.discover_files([str(path)])
        bandit.run_tests()
        issues = bandit.get_issue_list()
    findings = [Finding(i.test_id, i.test, i.cwe.id if i.cwe and i.cwe.id else None, i.severity.lower(),
                        i.confidence.lower(), i.lineno, i.text) for i in issues]
    return tuple(sorted(findings, key=lambda f: (f.line, f.test_id)))


def at_or_above(findings: tuple[Finding, ...], severity: str) -> tuple[Finding, ...]:
    floor = SEVERITIES.index(check_severity(severity))
    return tuple(f for f in findings if SEVERITIES.index(f.severity) >= floor)
