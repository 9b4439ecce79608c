"""The sandbox for generated code: a case's pytest file runs in one confined process, the code under test
in a second, more confined one, and the verdict is read here, outside both (see _run and _isolation)."""

from grounding.sandbox._isolation import LAYERS, WEAK_ENV, Isolation, SandboxUnavailable, isolation
from grounding.sandbox._run import Limits, SandboxResult, TestOutcome, run_tests

__all__ = ["LAYERS", "WEAK_ENV", "Isolation", "Limits", "SandboxResult", "SandboxUnavailable", "TestOutcome",
           "isolation", "run_tests"]
