"""bandit through its Python API: findings with test id, CWE, severity and line; nosec cannot hide them."""

from __future__ import annotations

import pytest

from grounding.errors import GroundingUsageError
from grounding.judges.bandit import at_or_above, check_severity, scan

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
