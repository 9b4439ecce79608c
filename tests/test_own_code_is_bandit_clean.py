"""bandit finds nothing in our own code; each finding we intend is suppressed on its line, with the reason above."""

import logging
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ("grounding", "modalities", "fixtures/shapes_world")


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_bandit_finds_nothing_in_our_packages():
    logging.getLogger("bandit").setLevel(logging.ERROR)
    from bandit.core import config, manager

    bandit = manager.BanditManager(config.BanditConfig(), "file", quiet=True)
    bandit.discover_files([str(p) for p in _sources()])
    bandit.run_tests()
    issues = [f"{Path(i.fname).relative_to(ROOT)}:{i.lineno}: {i.test_id} {i.text}" for i in bandit.get_issue_list()]
    assert issues == [], "\n".join(issues)
    assert bandit.metrics.data["_totals"]["loc"] > 4000  # it read the code


def test_every_suppression_names_its_test_and_says_why():
    unexplained = []
    for path in _sources():
        lines = path.read_text().split("\n")
        for n, line in enumerate(lines):
            for test in re.findall(r"(?<!`)# nosec(.*)$", line):
                ids = re.findall(r"B\d{3}", test)
                reasons = " ".join(lines[max(0, n - 2):n])
                if not ids or not all(re.search(rf"# bandit {i}: \S+", reasons) for i in ids):
                    unexplained.append(f"{path.relative_to(ROOT)}:{n + 1}: {line.strip()}")
    assert unexplained == [], "\n".join(unexplained)
