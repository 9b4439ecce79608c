"""bandit through its Python API: findings with test id, CWE, severity and line; nosec cannot hide them."""

from __future__ import annotations

import pytest

from grounding.errors import GroundingUsageError
from grounding.judges.functional.bandit import at_or_above, check_severity, scan

SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.run(cmd, shell=True)\n"


def test_findings_carry_id_cwe_severity_and_line():
    findings = scan(SHELL)
    shell = [f for f in findings if f.test_id == "B602"]
    assert len(shell) == 1
    assert (shell[0].cwe, shell[0].severity, shell[0].confidence, shell[0].line) == (78, "high", "high", 5)
    assert "B602 subprocess_popen_with_shell_equals_true (CWE-78, severity high" in shell[0].describe()


def test_threshold_keeps_findings_at_or_above_it():
    findings = scan(SHELL)
    assert {f.test_id for f in at_or_above(findings, "low")} == {"B404", "B602"}
    assert {f.test_id for f in at_or_above(findings, "high")} == {"B602"}


def test_nosec_comments_do_not_silence_the_judge():
    assert [f.test_id for f in scan("def f(e):\n    return eval(e)  # nosec\n")] == ["B307"]


def test_clean_code_has_no_findings():
    assert scan("import json\n\n\ndef load(text):\n    return json.loads(text)\n") == ()


def test_unknown_severity_is_a_usage_error():
    with pytest.raises(GroundingUsageError, match="not one of low, medium, high"):
        check_severity("critical")


CRYPTO = "from Crypto.Cipher import AES\n\n\ndef box(key):\n    return AES.new(key, AES.MODE_GCM)\n"
TEMP = "def path():\n    return '/tmp/report.txt'\n"  # B108: severity medium, confidence medium


@pytest.fixture()
def crypto_from(monkeypatch):
    """Fake which distributions provide the `Crypto` package (pycryptodome need not be installed)."""
    import importlib.metadata

    from grounding.judges.functional import bandit

    def provide(*distributions):
        monkeypatch.setattr(importlib.metadata, "packages_distributions",
                            lambda: {"Crypto": list(distributions)} if distributions else {})
        bandit._crypto_is_pycryptodome.cache_clear()

    yield provide
    bandit._crypto_is_pycryptodome.cache_clear()


def test_b413_is_suppressed_with_its_reason_only_where_crypto_is_pycryptodome(crypto_from):
    from grounding.judges.functional.bandit import triage

    crypto_from("pycryptodome")
    found = triage(scan(CRYPTO), "medium")
    assert found.counted == () and [s.finding.test_id for s in found.suppressed] == ["B413"]
    assert "pycryptodome, its maintained drop-in" in found.suppressed[0].reason
    for others in [("pycrypto",), ("pycrypto", "pycryptodome"), ()]:
        crypto_from(*others)
        assert [f.test_id for f in triage(scan(CRYPTO), "medium").counted] == ["B413"]


def test_a_finding_counts_only_at_or_above_both_thresholds_and_a_case_can_skip_it():
    from grounding.judges.functional.bandit import triage

    findings = scan(TEMP)
    assert [(f.test_id, f.severity, f.confidence) for f in findings] == [("B108", "medium", "medium")]
    assert [f.test_id for f in triage(findings, "medium", "medium").counted] == ["B108"]
    assert triage(findings, "medium", "high").counted == () and len(triage(findings, "medium", "high").below) == 1
    assert triage(findings, "high", "low").counted == ()
    skipped = triage(findings, "low", "low", skip=("B108",))
    assert skipped.counted == () and skipped.suppressed[0].reason == "the case skips B108"
    with pytest.raises(GroundingUsageError, match="bandit confidence 'sure'"):
        triage(findings, "low", "sure")


def test_the_code_verdict_reports_what_was_suppressed_and_why(crypto_from):
    from grounding.judges.functional.code import bandit_score

    crypto_from("pycryptodome")
    findings = scan(CRYPTO + TEMP)
    score = bandit_score(findings, "medium", True, confidence="low")
    assert score.passed is False and score.value == 1.0
    assert [f["test_id"] for f in score.metadata["findings"]] == ["B108"]
    assert [s["test_id"] for s in score.metadata["suppressed"]] == ["B413"]
    assert "suppressed: B413 (line 1): B413 warns that pyCrypto is unmaintained" in score.explanation
    assert bandit_score(findings, "medium", True, confidence="high").passed is True
