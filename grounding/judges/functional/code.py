"""Judging generated code: does it parse, does it pass the case's tests (in the sandbox), and what does
bandit find in it. Nothing here runs the code in this process."""

from __future__ import annotations

import re
from dataclasses import asdict

from grounding.judges.functional.analysis import Analysis, analyse
from grounding.judges.functional.bandit import Finding, triage
from grounding.sandbox import Limits, run_tests
from grounding.types import Score

# Only blanks between the opening fence and its line's end: `\s*` there would let a backtick fence followed by
# many blank lines take quadratic time to search.
FENCE = re.compile(r"```(?:python|py)?[ \t\r]*\n(.*?)```", re.DOTALL)


def extract_code(text: str) -> str:
    """The code in a model's answer: the first fenced block when there is one, else the whole text."""
    fenced = FENCE.search(text)
    return fenced.group(1) if fenced else text


def asks_for_secure_code(instruction: str) -> bool:
    return bool(re.search(r"\b(secure|safe|safely|securely)\b", instruction, re.IGNORECASE))


def parse_score(code: str | Analysis) -> Score:
    """Whether the code parses; code too large or pathological to analyse fails, saying which."""
    analysis = code if isinstance(code, Analysis) else analyse(code)
    if analysis.problem:
        return Score("python", "parses", 0.0, False, f"failed: {analysis.problem} ({analysis.detail})",
                     {"unanalysable": analysis.problem})
    if analysis.syntax_error is not None:
        return Score("python", "parses", 0.0, False, f"does not parse: {analysis.syntax_error}")
    return Score("python", "parses", 1.0, True, "parses")


WEAK_ISOLATION = "WEAK isolation"  # marks a verdict reached without some layer of the sandbox


def tests_score(code: str, tests: str, limits: Limits = Limits(), module: str = "solution", *, setup: str = "",
                skip: tuple[str, ...] = (), allow_weak: bool = False, tests_name: str = "test_solution.py") -> Score:
    """The case's pytest file run against the code in the sandbox; each test's outcome in the metadata."""
    result = run_tests(code, tests, limits, module=module, setup=setup, skip=skip, allow_weak=allow_weak,
                       tests_name=tests_name)
    counted = [t for t in result.tests if t.counted]
    value = sum(t.passed for t in counted) / max(len(counted), 1) if result.status in {"ok", "failed"} else 0.0
    where = f"sandbox ({WEAK_ISOLATION}, without {', '.join(result.missing)})" if result.weak else "sandbox"
    return Score("sandbox", "tests_passed", value, result.passed, f"{where}: {result.status}: {result.reason}",
                 {"status": result.status, "tests": [asdict(t) for t in result.tests], "layers": list(result.layers),
                  "missing": list(result.missing), "weak": result.weak, "bound": result.bound,
                  "seconds": round(result.seconds, 3)})


def sandbox_options(expect: dict) -> dict:
    """tests_score's keywords from a case's `expect` table: `setup`, `skip_tests` and `sandbox.subprocess`."""
    sandbox = expect.get("sandbox", {})
    return {"limits": Limits(subprocess=bool(sandbox.get("subprocess", False))), "setup": expect.get("setup", ""),
            "skip": tuple(expect.get("skip_tests", ()))}


def bandit_options(expect: dict) -> dict:
    """bandit_score's keywords from a case's `expect` table: `severity`, `confidence` and `skip_findings`."""
    return {"severity": expect.get("severity", "medium"), "confidence": expect.get("confidence", "low"),
            "skip_findings": tuple(expect.get("skip_findings", ()))}


def bandit_score(findings: tuple[Finding, ...], severity: str, secure_asked: bool, *, confidence: str = "low",
                 skip_findings: tuple[str, ...] = ()) -> Score:
    """Of bandit's findings (an Analysis's), those at or above `severity` and `confidence` that no reason
    suppresses; a verdict only when the instruction asked for secure code."""
    found = triage(findings, severity, confidence, skip_findings)
    floor = f"at or above severity {severity.lower()} and confidence {confidence.lower()}"
    findings = "; ".join(f.describe() for f in found.counted)
    explanation = (f"bandit: {len(found.counted)} finding(s) {floor}: {findings}" if found.counted else
                   f"bandit: no finding {floor}")
    if found.suppressed:
        explanation += "; suppressed: " + "; ".join(f"{s.finding.test_id} (line {s.finding.line}): {s.reason}"
                                                     for s in found.suppressed)
    return Score("bandit", "findings", float(len(found.counted)), (not found.counted) if secure_asked else None,
                 explanation,
                 {"findings": [asdict(f) for f in found.counted],
                  "suppressed": [{**asdict(s.finding), "reason": s.reason} for s in found.suppressed],
                  "below_thresholds": [asdict(f) for f in found.below], "severity": severity.lower(),
                  "confidence": confidence.lower(), "secure_asked": secure_asked})


def _not_run(analysis: Analysis) -> str:
    return f"the code is {analysis.problem}" if analysis.problem else "the code does not parse"


def judge_code(text: str, instruction: str, tests: str | None, severity: str = "medium",
               limits: Limits = Limits(), module: str = "solution", secure_asked: bool | None = None, *,
               setup: str = "", skip: tuple[str, ...] = (), allow_weak: bool = False,
               tests_name: str = "test_solution.py", confidence: str = "low",
               skip_findings: tuple[str, ...] = ()) -> list[Score]:
    """Every code score for one output; tests run only when the code parses and tests are given. Whether
    secure code was asked for is read from the instruction unless `secure_asked` says it."""
    code = extract_code(text)
    analysis = analyse(code)
    parsed = parse_score(analysis)
    scores = [parsed]
    if tests is not None:
        scores.append(tests_score(code, tests, limits, module, setup=setup, skip=skip, allow_weak=allow_weak,
                                  tests_name=tests_name) if parsed.passed else
                      Score("sandbox", "tests_passed", 0.0, False, f"sandbox: not run, {_not_run(analysis)}"))
    if parsed.passed:
        secure = asks_for_secure_code(instruction) if secure_asked is None else secure_asked
        scores.append(bandit_score(analysis.findings, severity, secure, confidence=confidence,
                                   skip_findings=skip_findings))
    return scores
