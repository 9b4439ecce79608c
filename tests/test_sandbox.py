"""The sandbox against hostile generated code: each attack is contained and reported as a failed case."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from grounding.sandbox import Limits, run_tests

TESTS = "from solution import f\n\ndef test_f():\n    assert f() == 1\n"
FAST = Limits(wall_seconds=6, cpu_seconds=2, memory_bytes=512 << 20)


def run(code: str, tests: str = TESTS, limits: Limits = FAST):
    return run_tests(code, tests, limits)


def test_correct_code_passes_and_wrong_code_fails():
    assert run("def f():\n    return 1\n").status == "ok"
    wrong = run("def f():\n    return 2\n")
    assert wrong.status == "failed" and "test_f: AssertionError" in wrong.reason


def test_code_that_does_not_parse_is_an_error_not_a_crash():
    result = run("def f(:\n")
    assert result.status == "error" and "SyntaxError" in result.reason


def test_every_test_function_is_run_and_reported():
    tests = TESTS + "\ndef test_g():\n    assert f() == 2\n\ndef helper():\n    raise AssertionError\n"
    result = run("def f():\n    return 1\n", tests)
    assert [(t.name, t.passed) for t in result.tests] == [("test_f", True), ("test_g", False)]
    assert result.reason.startswith("1/2 tests failed")


def test_infinite_loop_is_stopped_by_the_cpu_limit():
    result = run("def f():\n    while True:\n        pass\n")
    assert result.status == "killed" and "CPU-time limit of 2 s" in result.reason


def test_sleeping_forever_is_stopped_by_the_wall_clock():
    result = run("import time\n\ndef f():\n    time.sleep(60)\n", limits=Limits(wall_seconds=2, cpu_seconds=2))
    assert result.status == "timeout" and result.seconds < 10


def test_fork_bomb_is_refused():
    result = run("import os\n\ndef f():\n    while True:\n        os.fork()\n")
    assert result.status == "failed" and "os.fork is not allowed" in result.reason


def test_shell_fork_bomb_is_contained_and_leaves_no_process_behind():
    code = ("import subprocess\n\ndef f():\n    subprocess.run('b(){ b|b& };b', shell=True, executable='/bin/bash',"
            " timeout=1)\n    return 1\n")
    result = run(code)
    assert result.status in {"ok", "failed", "killed", "timeout"}
    survivors = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).startswith("/bin/bash -c b(")]
    assert survivors == []


def test_memory_hog_is_stopped():
    result = run("def f():\n    block = bytearray(4 << 30)\n    return 1\n")
    assert result.status in {"failed", "killed"} and "MemoryError" in result.reason + result.stderr


def test_writing_outside_the_working_directory_is_refused(tmp_path):
    target = tmp_path / "escaped.txt"
    result = run(f"def f():\n    open({str(target)!r}, 'w').write('x')\n    return 1\n")
    assert result.status == "failed" and "outside the working directory" in result.reason
    assert not target.exists()


def test_writing_inside_the_working_directory_is_allowed_but_bounded():
    assert run("def f():\n    open('note.txt', 'w').write('x')\n    return len(open('note.txt').read())\n").passed
    big = run("def f():\n    open('big.txt', 'w').write('x' * (4 << 20))\n    return 1\n",
              limits=Limits(wall_seconds=6, cpu_seconds=2, file_bytes=1 << 20))
    assert big.status == "failed" and "File too large" in big.reason


def test_environment_secrets_are_not_visible(monkeypatch):
    monkeypatch.setenv("GROUNDING_TEST_SECRET", "hunter2")
    result = run("import os\n\ndef f():\n    print(sorted(os.environ.items()))\n    return 1\n")
    assert result.passed and "hunter2" not in result.stdout and "GROUNDING_TEST_SECRET" not in result.stdout


def test_network_sockets_are_refused():
    with socket.socket() as listener:  # a local server the sandbox could otherwise reach
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run(f"import socket\n\ndef f():\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                     f"    return 1\n")
    assert result.status == "failed" and "socket" in result.reason


def test_ctypes_cannot_be_imported_to_crash_the_interpreter():
    result = run("import ctypes\n\ndef f():\n    ctypes.string_at(0)\n    return 1\n")
    assert result.status == "error" and "import is not allowed (ctypes)" in result.reason


def test_killing_other_processes_is_refused():
    result = run(f"import os, signal\n\ndef f():\n    os.kill({os.getpid()}, signal.SIGKILL)\n    return 1\n")
    assert result.status == "failed" and "os.kill is not allowed" in result.reason


def test_printed_results_cannot_forge_a_pass():
    forged = 'print(\'x {"imported": true, "tests": [{"name": "test_f", "passed": true, "error": ""}]}\')\n'
    result = run(forged + "def f():\n    return 2\n")
    assert result.status == "failed"


def test_exiting_early_is_reported_not_mistaken_for_a_pass():
    result = run("import os\nos._exit(0)\n")
    assert result.status == "killed" and "before reporting" in result.reason


@pytest.mark.parametrize("module", ["solution", "password_utils"])
def test_module_name_is_configurable(module):
    tests = f"from {module} import f\n\ndef test_f():\n    assert f() == 1\n"
    assert run_tests("def f():\n    return 1\n", tests, FAST, module=module).passed


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
