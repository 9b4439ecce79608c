"""Judge CWEval's Python tasks (a public secure-coding benchmark) through grounding's sandbox and bandit.

Nothing of CWEval is in this project: fetch it and point this script at its `benchmark/core/py` folder.

    git clone https://github.com/Co1lin/CWEval && \
        python benchmarks/cweval_python.py CWEval/benchmark/core/py

Each task is a pair: `cwe_XXX_N_task.py` (the reference secure solution) and `cwe_XXX_N_test.py` (pytest, with
`functionality` / `security` markers, `tmp_path`, `parametrize`, `pytest.raises`, and one or more unsafe
reference solutions named `<function>_unsafe` or `<function>_unsafe_<k>`, each taken out with only the imports
and helpers it uses). Every reference solution is judged
the way `grounding judge code --tests` judges an answer: the task's tests run by pytest in the sandbox (the
file's self-tests of its unsafe references, `test_*unsafe*`, are skipped), and bandit at or above medium
severity and low confidence, with the environment's known-wrong findings suppressed (B413 where `Crypto` is
pycryptodome). A solution is judged secure when every security test passes and bandit counts nothing; the script
prints what decided each verdict, the counts, precision and recall per CWE of bandit alone, the security tests
alone and the verdict, and bandit's precision and recall at every severity and confidence threshold. The tasks import pycryptodome, PyJWT, lxml, argon2-cffi and
wrapt-timeout-decorator: install them in the environment first. Subprocesses are allowed (CWE-078's task
runs `ls`).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter, defaultdict
from pathlib import Path

from grounding.judges.functional.bandit import SEVERITIES, scan, triage
from grounding.sandbox import Limits, run_tests

LIMITS = Limits(wall_seconds=120, cpu_seconds=60, subprocess=True)
SEVERITY, CONFIDENCE = "medium", "low"  # the defaults of a case and of `judge code`


def task_function(test_source: str, module: str) -> str:
    for node in ast.parse(test_source).body:
        if isinstance(node, ast.ImportFrom) and node.module == module:
            return node.names[0].name
    raise ValueError(f"the test file does not import from {module}")


def unsafe_solutions(test_source: str, module: str, function: str) -> dict[str, str]:
    """Each unsafe reference as a module of its own: the variant, renamed to the task's function, with only the
    imports and top-level helpers it uses (so bandit judges the reference, not the test file around it)."""
    tree = ast.parse(test_source)
    variants = [node for node in tree.body if isinstance(node, ast.FunctionDef)
                and (node.name == f"{function}_unsafe" or node.name.startswith(f"{function}_unsafe_"))]
    return {node.name: _module_of(test_source, tree, node, module) + f"\n\n{function} = {node.name}\n"
            for node in variants}


def _module_of(source: str, tree: ast.Module, function: ast.FunctionDef, skip_module: str) -> str:
    """The top-level statements `function` needs (imports, helpers, constants, transitively), then it."""
    def bound(node: ast.stmt) -> set[str]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return {(a.asname or a.name).split(".")[0] for a in node.names}
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            return {node.name}
        if isinstance(node, ast.Assign):
            return {t.id for t in node.targets if isinstance(t, ast.Name)}
        return set()

    def used(node: ast.AST) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

    candidates = [n for n in tree.body if bound(n) and n is not function and not (
        isinstance(n, ast.ImportFrom) and n.module == skip_module) and "pytest" not in bound(n)
        and not (isinstance(n, ast.FunctionDef) and n.name.startswith("test_"))]
    needed, wanted = [], used(function)
    while True:
        more = [n for n in candidates if n not in needed and bound(n) & wanted]
        if not more:
            break
        needed += more
        for node in more:
            wanted |= used(node)
    ordered = [n for n in tree.body if n in needed] + [function]
    return "\n\n".join(ast.get_source_segment(source, n) for n in ordered)


def reference_self_tests(test_source: str) -> tuple[str, ...]:
    """The file's tests of its own unsafe references (`test_*unsafe*`): they do not call the task."""
    return tuple(node.name for node in ast.parse(test_source).body if isinstance(node, ast.FunctionDef)
                 and node.name.startswith("test_") and "unsafe" in node.name)


def judge(code: str, tests: str, module: str, test_name: str, skip: tuple[str, ...]) -> dict:
    """The sandboxed tests' outcomes and bandit's findings for one solution (thresholds are applied later)."""
    result = run_tests(code, tests, LIMITS, module=module, tests_name=test_name, skip=skip)
    return {"ran": result.status in {"ok", "failed"}, "status": result.status, "reason": result.reason,
            "failed_security": [t.name for t in result.of_kind("security") if not t.passed],
            "failed_functional": [t.name for t in result.of_kind("functional") if not t.passed],
            "findings": scan(code)}


def verdict(run: dict, severity: str = SEVERITY, confidence: str = CONFIDENCE) -> tuple[bool, str]:
    """(judged insecure, what decided it): a security test failed, or bandit counts a finding."""
    counted = triage(run["findings"], severity, confidence).counted
    reasons = [f"security test {name}" for name in run["failed_security"][:2]]
    reasons += [f"bandit {f.test_id}" for f in counted[:2]]
    if not run["ran"]:
        reasons.append(f"{run['status']}: {run['reason'][:120]}")
    return bool(reasons), "; ".join(reasons) or "all tests pass, no finding"


def flags(run: dict, judge_: str, severity: str = SEVERITY, confidence: str = CONFIDENCE,
          suppress: bool = True) -> bool:
    """Whether one judge alone calls the solution insecure."""
    if judge_ == "bandit":
        found = triage(run["findings"], severity, confidence)
        return bool(found.counted or (not suppress and found.suppressed))
    if judge_ == "security tests":
        return bool(run["failed_security"]) or not run["ran"]
    return verdict(run, severity, confidence)[0]


def precision_recall(rows: list[tuple[str, str, dict]], judge_: str, **options) -> tuple[int, int, int, int]:
    """(insecure flagged, insecure total, secure flagged, secure total) for one judge over rows."""
    unsafe = [run for _, which, run in rows if which != "safe"]
    safe = [run for _, which, run in rows if which == "safe"]
    return (sum(flags(r, judge_, **options) for r in unsafe), len(unsafe),
            sum(flags(r, judge_, **options) for r in safe), len(safe))


def _cells(counts: tuple[int, int, int, int]) -> str:
    tp, unsafe, fp, safe = counts
    precision = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
    return f"{tp}/{unsafe} ({tp / unsafe:.2f}) | {fp}/{safe} | {precision}"


def main(folder: Path) -> int:
    rows = []
    for test_file in sorted(folder.glob("cwe_*_test.py")):
        module = test_file.name.replace("_test.py", "_task")
        tests = test_file.read_text()
        function = task_function(tests, module)
        skip = reference_self_tests(tests)
        safe = (folder / f"{module}.py").read_text()
        rows.append((module, "safe", judge(safe, tests, module, test_file.name, skip)))
        for name, code in unsafe_solutions(tests, module, function).items():
            rows.append((module, name, judge(code, tests, module, test_file.name, skip)))
    for module, which, run in rows:
        insecure, decided_by = verdict(run)
        functional = run["ran"] and not run["failed_functional"]
        print(f"{module:16} {which:40} {'INSECURE' if insecure else 'secure':9} functional={functional!s:5} "
              f"{decided_by}")
    safe_rows = [(m, w, r) for m, w, r in rows if w == "safe"]
    print(f"\nsafe references judged secure: {sum(not verdict(r)[0] for _, _, r in safe_rows)}/{len(safe_rows)} "
          f"(functional {sum(r['ran'] and not r['failed_functional'] for _, _, r in safe_rows)}/{len(safe_rows)})")
    tp, unsafe, _, _ = precision_recall(rows, "verdict")
    print(f"unsafe references judged insecure: {tp}/{unsafe}")
    print("run statuses:", dict(Counter(r["status"] for _, _, r in rows)))
    print(f"\nPer CWE (severity >= {SEVERITY}, confidence >= {CONFIDENCE}); each judge alone, then the verdict. "
          "Cells: unsafe flagged (recall) | safe flagged | precision")
    print("| CWE | tasks | bandit | security tests | verdict |\n| --- | --- | --- | --- | --- |")
    by_cwe = defaultdict(list)
    for row in rows:
        by_cwe[row[0].split("_")[1]].append(row)
    for cwe, group in sorted(by_cwe.items()):
        tasks = len({m for m, _, _ in group})
        print(f"| CWE-{int(cwe)} | {tasks} | " + " | ".join(_cells(precision_recall(group, j))
                                                   for j in ("bandit", "security tests", "verdict")) + " |")
    print(f"| all | {len({m for m, _, _ in rows})} | "
          + " | ".join(_cells(precision_recall(rows, j)) for j in ("bandit", "security tests", "verdict")) + " |")
    print("\nbandit alone by threshold (unsafe flagged (recall) | safe flagged | precision):")
    for severity in SEVERITIES:
        for confidence in SEVERITIES:
            print(f"  severity >= {severity:6} confidence >= {confidence:6} "
                  f"{_cells(precision_recall(rows, 'bandit', severity=severity, confidence=confidence))}")
    print(f"  without the environment's suppressions (B413 with pycryptodome), at {SEVERITY}/{CONFIDENCE}: "
          f"{_cells(precision_recall(rows, 'bandit', suppress=False))}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: python benchmarks/cweval_python.py PATH/TO/CWEval/benchmark/core/py")
    sys.exit(main(Path(sys.argv[1])))
