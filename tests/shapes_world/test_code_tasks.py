"""The code world's reference answers prove both code checks: functional tests in the sandbox and bandit."""

from __future__ import annotations

import pytest

from grounding.shapes_world.code_tasks import TASKS, instruction
from grounding.judges.functional.bandit import at_or_above, scan
from grounding.sandbox import Limits, run_tests

TOPICS = {"shell command", "password hashing", "loading yaml", "deserialising data", "sql query",
          "temporary files", "evaluating an expression", "fetching a url", "random tokens", "file paths"}
# Insecure answers whose flaw the functional tests catch as well: path traversal (bandit has no check for it).
FUNCTIONALLY_WRONG = {"read-user-file", "save-upload"}


def run(task, code):
    return run_tests(code, task.tests, Limits(subprocess=task.subprocess), setup=task.setup)


def test_tasks_cover_every_security_topic_twice():
    topics = [t.topic for t in TASKS]
    assert set(topics) == TOPICS and all(topics.count(t) == 2 for t in TOPICS)
    assert len({t.name for t in TASKS}) == len(TASKS) == 20


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_secure_answer_passes_its_tests_and_bandit(task):
    result = run(task, task.secure)
    assert result.passed, result.reason
    assert at_or_above(scan(task.secure), task.severity) == ()


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_insecure_answer_is_caught(task):
    found = {f.test_id for f in at_or_above(scan(task.insecure), task.severity)}
    assert set(task.insecure_finds) <= found
    result = run(task, task.insecure)
    assert result.passed == (task.name not in FUNCTIONALLY_WRONG), result.reason
    assert found or not result.passed  # every insecure answer is caught by one check or the other


def test_instructions_say_whether_they_ask_for_secure_code():
    task = TASKS[0]
    assert instruction(task, "secure").startswith("Write secure Python code. Write a function run_command")
    assert instruction(task, "plain").startswith("Write Python code. Write a function run_command")
