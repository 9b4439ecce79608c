"""Judge CWEval's Python tasks (a public secure-coding benchmark) through grounding's sandbox and bandit.

Nothing of CWEval is in this project: fetch it and point this script at its `benchmark/core/py` folder.

    git clone https://github.com/Co1lin/CWEval && \
        python benchmarks/cweval_python.py CWEval/benchmark/core/py

Each task is a pair: `cwe_XXX_N_task.py` (the reference secure solution) and `cwe_XXX_N_test.py` (pytest, with
`functionality` / `security` markers, `tmp_path`, `parametrize`, `pytest.raises`, and one or more unsafe
reference solutions named `<function>_unsafe` or `<function>_unsafe_<k>`). Every reference solution is judged
the way `grounding judge code --tests` judges an answer: the task's tests run by pytest in the sandbox (the
file's self-tests of its unsafe references, `test_*unsafe*`, are skipped), and bandit at or above medium
severity. A solution is judged secure when every security test passes and bandit finds nothing; the script
prints what decided each verdict and the counts. The tasks import pycryptodome, PyJWT, lxml, argon2-cffi and
wrapt-timeout-decorator: install them in the environment first. Subprocesses are allowed (CWE-078's task
runs `ls`).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

from grounding.judges.bandit import at_or_above, scan
from grounding.sandbox import Limits, run_tests

LIMITS = Limits(wall_seconds=120, cpu_seconds=60, subprocess=True)


def task_function(test_source: str, module: str) -> str:
    for node in ast.parse(test_source).body:
        if isinstance(node, ast.ImportFrom) and node.module == module:
            return node.names[0].name
    raise ValueError(f"the test file does not import from {module}")


def unsafe_solutions(test_source: str, module: str, function: str) -> dict[str, str]:
    """Each unsafe reference as a module: the test file without its import of the task, the variant renamed."""
    tree = ast.parse(test_source)
    kept = [line for line in test_source.splitlines() if not line.startswith(f"from {module} import")]
    variants = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
                and (node.name == f"{function}_unsafe" or node.name.startswith(f"{function}_unsafe_"))]
    return {name: "\n".join(kept) + f"\n\n{function} = {name}\n" for name in variants}


def reference_self_tests(test_source: str) -> tuple[str, ...]:
    """The file's tests of its own unsafe references (`test_*unsafe*`): they do not call the task."""
    return tuple(node.name for node in ast.parse(test_source).body if isinstance(node, ast.FunctionDef)
                 and node.name.startswith("test_") and "unsafe" in node.name)


def judge(code: str, tests: str, module: str, test_name: str, skip: tuple[str, ...]) -> dict:
    result = run_tests(code, tests, LIMITS, module=module, tests_name=test_name, skip=skip)
    findings = at_or_above(scan(code), "medium")
    failed_security = [t.name for t in result.of_kind("security") if not t.passed]
    failed_functional = [t.name for t in result.of_kind("functional") if not t.passed]
    ran = result.status in {"ok", "failed"}
    secure = ran and not failed_security and not findings
    reasons = [f"security test {name}" for name in failed_security[:2]]
    reasons += [f"bandit {f.test_id}" for f in findings[:2]]
    if not ran:
        reasons.append(f"{result.status}: {result.reason[:120]}")
    return {"secure": secure, "functional": ran and not failed_functional, "ran": ran,
            "decided_by": "; ".join(reasons) or "all tests pass, no finding", "status": result.status}


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
    for module, which, verdict in rows:
        label = "secure" if verdict["secure"] else "INSECURE"
        print(f"{module:16} {which:40} {label:9} functional={verdict['functional']!s:5} {verdict['decided_by']}")
    safe_rows = [v for _, w, v in rows if w == "safe"]
    unsafe_rows = [v for _, w, v in rows if w != "safe"]
    print(f"\nsafe references judged secure: {sum(v['secure'] for v in safe_rows)}/{len(safe_rows)} "
          f"(functional {sum(v['functional'] for v in safe_rows)}/{len(safe_rows)})")
    print(f"unsafe references judged insecure: {sum(not v['secure'] for v in unsafe_rows)}/{len(unsafe_rows)}")
    print(f"  by a security test only: {sum(v['ran'] and 'security test' in v['decided_by'] and 'bandit' not in v['decided_by'] for v in unsafe_rows)}, "
          f"by bandit only: {sum('bandit' in v['decided_by'] and 'security test' not in v['decided_by'] for v in unsafe_rows)}, "
          f"by both: {sum('bandit' in v['decided_by'] and 'security test' in v['decided_by'] for v in unsafe_rows)}")
    print("run statuses:", dict(Counter(v["status"] for _, _, v in rows)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: python benchmarks/cweval_python.py PATH/TO/CWEval/benchmark/core/py")
    sys.exit(main(Path(sys.argv[1])))
