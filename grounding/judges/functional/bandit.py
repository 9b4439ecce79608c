"""Static security analysis of generated code with bandit's Python API (parses, never runs, the code), in a
worker process under limits (see analysis).

`# nosec` comments are ignored: generated code must not be able to silence the judge that grades it. A finding
counts when it is at or above both the severity and the confidence thresholds, unless the case skips its test
id or it is known to be wrong in the environment at hand; those are reported as suppressed, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from grounding.errors import GroundingUsageError

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


@dataclass(frozen=True)
class Suppressed:
    """A finding at or above the thresholds that does not count, and why."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class Triage:
    """bandit's findings in one piece of code, sorted by what they count for."""

    counted: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...]
    below: tuple[Finding, ...]  # under the severity or the confidence threshold


def check_severity(severity: str, what: str = "severity") -> str:
    if not isinstance(severity, str) or severity.lower() not in SEVERITIES:
        raise GroundingUsageError(f"bandit {what} {severity!r} is not one of {', '.join(SEVERITIES)}; set the "
                                  f"case's `{what}` (or --{what}) to one of them.")
    return severity.lower()


@lru_cache(maxsize=1)
def _crypto_is_pycryptodome() -> bool:
    """Whether the `Crypto` package code would import is pycryptodome's (and no other distribution's)."""
    from importlib.metadata import packages_distributions

    return packages_distributions().get("Crypto") == ["pycryptodome"]


def known_wrong(finding: Finding) -> str | None:
    """Why a finding is wrong in this environment, or None."""
    if finding.test_id == "B413" and _crypto_is_pycryptodome():
        return ("B413 warns that pyCrypto is unmaintained, but `Crypto` in this environment is pycryptodome, its "
                "maintained drop-in")
    return None


def triage(findings: tuple[Finding, ...], severity: str = "medium", confidence: str = "low",
           skip: tuple[str, ...] = ()) -> Triage:
    """Split findings into those that count, those suppressed (skipped by the case, or known wrong here) and
    those below the thresholds."""
    floors = SEVERITIES.index(check_severity(severity)), SEVERITIES.index(check_severity(confidence, "confidence"))
    counted, suppressed, below = [], [], []
    for finding in findings:
        if SEVERITIES.index(finding.severity) < floors[0] or SEVERITIES.index(finding.confidence) < floors[1]:
            below.append(finding)
        elif finding.test_id in skip:
            suppressed.append(Suppressed(finding, f"the case skips {finding.test_id}"))
        elif (reason := known_wrong(finding)) is not None:
            suppressed.append(Suppressed(finding, reason))
        else:
            counted.append(finding)
    return Triage(tuple(counted), tuple(suppressed), tuple(below))


def scan(code: str) -> tuple[Finding, ...]:
    """All of bandit's findings in `code`, in line order (none when it does not parse), from the analysis worker;
    raises analysis.Unanalysable for code too large or too deep for it, or that makes it run out."""
    from grounding.judges.functional.analysis import analyse

    return analyse(code).raise_problem().findings


def at_or_above(findings: tuple[Finding, ...], severity: str) -> tuple[Finding, ...]:
    floor = SEVERITIES.index(check_severity(severity))
    return tuple(f for f in findings if SEVERITIES.index(f.severity) >= floor)
