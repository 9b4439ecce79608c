"""The sandbox against hostile generated code and hostile tests: each attack is contained, reported as a
failed case, and leaves nothing behind. The same module runs as root (CI) and, through
test_sandbox_unprivileged.py, as an ordinary user."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grounding.sandbox import Limits, SandboxUnavailable, _cgroup, _isolation, _run, _watchdog, run_tests

TESTS = "from solution import f\n\ndef test_f():\n    assert f() == 1\n"
FAST = Limits(wall_seconds=15, cpu_seconds=3, memory_bytes=512 << 20)
ALLOW = Limits(wall_seconds=15, cpu_seconds=3, memory_bytes=512 << 20, subprocess=True)


def run(code: str, tests: str = TESTS, limits: Limits = FAST, **kwargs):
    return run_tests(code, tests, limits, **kwargs)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def processes_with(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            pass
    return [pid for pid in found if alive(pid) and pid != os.getpid()]


# --- verdicts that cannot be forged ---------------------------------------------------------------------

def test_correct_code_passes_and_wrong_code_fails_with_the_assertion():
    assert run("def f():\n    return 1\n").status == "ok"
    wrong = run("def f():\n    return 2\n")
    assert wrong.status == "failed" and "test_f: failed: assert 2 == 1" in wrong.reason


def test_rewriting_the_harness_from_the_code_does_not_change_the_verdict():
    code = ("import sys\nmain = sys.modules['__main__']\n"
            "for name in dir(main):\n    try:\n        setattr(main, name, lambda *a, **k: [])\n    except Exception:\n"
            "        pass\nsys.modules['_pytest'] = None\n\ndef f():\n    return 2\n")
    result = run(code)
    assert not result.passed and result.status in {"failed", "error"}


def test_writing_forged_reports_to_every_descriptor_does_not_pass():
    forged = '{"exit": 0, "tests": [{"nodeid": "t::test_f", "outcome": "passed", "markers": [], "message": "", ' \
             '"seconds": 0}], "errors": [], "code_error": ""}\\n'
    code = (f"import os, sys\nfor fd in range(64):\n    try:\n        os.write(fd, b'{forged}')\n"
            f"    except OSError:\n        pass\nframe = sys._getframe()\nwhile frame.f_back:\n"
            f"    frame = frame.f_back\n\ndef f():\n    return 2\n")
    assert not run(code).passed


def test_an_always_equal_object_cannot_leave_the_code_process():
    code = "class Anything:\n    def __eq__(self, other):\n        return True\n\ndef f():\n    return Anything()\n"
    result = run(code)
    assert result.status == "failed" and "sandboxed Anything" in result.reason


def test_plain_data_and_exceptions_cross_the_boundary():
    code = ("from pathlib import Path\nclass Refused(ValueError):\n    pass\n\n"
            "def f(x, *, scale=1):\n    if x < 0:\n        raise Refused('negative')\n"
            "    return {'x': x * scale, 'pair': (1, b'\\x00'), 'set': {1, 2}, 'path': Path('/a')}\n")
    tests = ("import pytest\nfrom pathlib import Path\nfrom solution import Refused, f\n\n"
             "def test_values():\n    assert f(2, scale=3) == {'x': 6, 'pair': (1, b'\\x00'), 'set': {1, 2}, "
             "'path': Path('/a')}\n\ndef test_raises():\n    with pytest.raises(ValueError, match='negative'):\n"
             "        f(-1)\n    with pytest.raises(Refused):\n        f(-1)\n")
    assert run(code, tests).status == "ok"


def test_the_tests_cannot_be_monkeypatched_into_the_code_but_setup_runs_there():
    code = "import json\n\ndef f():\n    return json.dumps(1)\n"
    patched = "import solution\n\ndef test_f():\n    solution.json = None\n"
    assert "cannot change the sandboxed module" in run(code, patched).reason
    setup = "import json\njson.dumps = lambda value: 'stubbed'\n"
    stubbed = "from solution import f\n\ndef test_f():\n    assert f() == 'stubbed'\n"
    assert run(code, stubbed, setup=setup).status == "ok"


# --- the operating system's layers ------------------------------------------------------------------------

def test_the_judges_environment_and_other_processes_are_invisible(monkeypatch):
    # the code looks for the secret everywhere it can read: the environ of every process it can see
    monkeypatch.setenv("GROUNDING_TEST_SECRET", "hunter2")
    code = ("import os\n\ndef f():\n    seen = str(os.environ)\n    for pid in os.listdir('/proc') if "
            "os.path.isdir('/proc') else []:\n        try:\n            seen += open(f'/proc/{pid}/environ').read()\n"
            "        except OSError:\n            pass\n"
            f"    for path in ('/proc/{os.getpid()}/environ', '/etc/shadow', '/root/.bash_history'):\n"
            "        try:\n            seen += open(path).read()\n        except OSError:\n            pass\n"
            "    return 'hunter2' in seen\n")
    assert run(code, "from solution import f\n\ndef test_f():\n    assert f() is False\n").status == "ok"


def test_a_listener_on_the_hosts_loopback_is_unreachable():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        code = (f"import socket\n\ndef f():\n    try:\n        socket.create_connection(('127.0.0.1', {port}), "
                f"timeout=2).sendall(b'stolen')\n        return True\n    except OSError:\n        return False\n")
        result = run(code, "from solution import f\n\ndef test_f():\n    assert f() is False\n")
        with pytest.raises(socket.timeout):
            listener.accept()
    assert result.status == "ok"


@pytest.mark.parametrize("folder", ["/tmp", "/var/tmp", "/dev/shm"])
def test_files_written_outside_the_work_folder_never_reach_the_host(folder):
    target = Path(folder) / f"grounding-escape-{secrets.token_hex(4)}"
    code = (f"import subprocess\n\ndef f():\n    try:\n        open({str(target)!r}, 'w').write('x')\n"
            f"    except OSError:\n        pass\n    subprocess.run(['touch', {str(target)!r}])\n    return 1\n")
    run(code, limits=ALLOW)
    assert not target.exists()


def test_killing_the_judge_by_pid_or_pidfd_does_not_reach_it():
    code = (f"import os, signal\n\ndef f():\n    for pid in ({os.getpid()}, os.getppid(), 1):\n        try:\n"
            f"            os.kill(pid, signal.SIGKILL)\n        except OSError:\n            pass\n        try:\n"
            f"            signal.pidfd_send_signal(os.pidfd_open(pid), signal.SIGKILL)\n        except OSError:\n"
            f"            pass\n    return 2\n")
    assert run(code).status in {"failed", "killed"}  # this process is still here to read the verdict


def test_kill_minus_one_spares_the_hosts_processes():
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        run("import os, signal\n\ndef f():\n    os.kill(-1, signal.SIGKILL)\n    return 1\n", limits=ALLOW)
        assert alive(bystander.pid)
    finally:
        bystander.kill()
        bystander.wait()


def test_a_daemon_in_a_new_session_does_not_outlive_the_run():
    marker = f"{700 + secrets.randbelow(200)}.{secrets.randbelow(10**6)}"
    code = (f"import subprocess\n\ndef f():\n    subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
            f"    return 1\n")
    assert run(code, limits=ALLOW).status == "ok"
    time.sleep(0.5)
    assert processes_with(f"sleep\0{marker}") == []


def test_subprocesses_are_refused_unless_the_case_allows_them():
    code = "import subprocess\n\ndef f():\n    return subprocess.run(['ls', '-l', '/work'], capture_output=True).returncode\n"
    tests = "from solution import f\n\ndef test_f():\n    assert f() == 0\n"
    refused = run(code, tests)
    assert refused.status == "failed" and ("BlockingIOError" in refused.reason or "Resource" in refused.reason)
    assert run(code, tests, limits=ALLOW).status == "ok"


def test_fork_bombs_are_contained_and_leave_nothing_behind():
    assert run("import os\n\ndef f():\n    while True:\n        os.fork()\n").status in {"failed", "killed"}
    marker = f"b{secrets.token_hex(3)}"
    code = (f"import subprocess\n\ndef f():\n    subprocess.run('{marker}(){{ {marker}|{marker}& }};{marker}', "
            f"shell=True, executable='/bin/bash', timeout=2)\n    return 1\n")
    assert run(code, limits=ALLOW).status in {"ok", "failed", "killed", "timeout"}
    time.sleep(0.5)
    assert processes_with(marker) == []


def test_memory_is_limited_per_process_and_for_the_whole_run():
    hog = run("def f():\n    block = bytearray(4 << 30)\n    return 1\n")
    assert hog.status == "failed" and "MemoryError" in hog.reason
    children = ("import subprocess, sys\n\ndef f():\n    procs = [subprocess.Popen([sys.executable, '-c', "
                "'import time; b = bytearray(150 << 20); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(30)']) "
                "for _ in range(6)]\n    [p.wait() for p in procs]\n    return 1\n")
    result = run(children, limits=Limits(wall_seconds=20, cpu_seconds=5, memory_bytes=400 << 20, subprocess=True))
    assert result.status == "killed" and "whole-run limit" in result.reason


def test_where_the_host_allows_a_cgroup_the_kernel_bounds_the_run_between_two_looks_of_the_watchdog(monkeypatch):
    monkeypatch.setattr(_watchdog, "POLL_SECONDS", 30.0)  # the watchdog looks too late to see anything
    children = ("import subprocess, sys\n\ndef f():\n    procs = [subprocess.Popen([sys.executable, '-c', "
                "'import time; b = bytearray(150 << 20); b[::4096] = b\"x\" * len(b[::4096]); time.sleep(30)']) "
                "for _ in range(6)]\n    [p.wait() for p in procs]\n    return 1\n")
    result = run(children, limits=Limits(wall_seconds=20, cpu_seconds=5, memory_bytes=300 << 20, subprocess=True))
    group = _cgroup.run_group(1 << 30, 8)
    if group is None:  # an ordinary user without a delegated cgroup: the watchdog alone, which said so
        assert result.bound.startswith("watchdog every") and result.status == "timeout"
        return
    group.remove()
    assert result.bound.startswith(f"cgroup v{group.version}") and result.status == "killed"
    assert "the kernel stopped the run at its cgroup's memory limit" in result.reason
    monkeypatch.setattr(_run, "run_group", lambda *args: None)
    assert run("def f():\n    return 1\n").bound.startswith("watchdog every")


def test_the_work_folder_is_size_limited_and_not_on_the_hosts_disk():
    code = ("def f():\n    with open('big.bin', 'wb') as handle:\n        for _ in range(64):\n"
            "            handle.write(b'x' * (1 << 20))\n    return 1\n")
    result = run(code, limits=Limits(wall_seconds=15, cpu_seconds=3, file_bytes=1 << 30, disk_bytes=8 << 20))
    assert result.status == "failed" and "No space left on device" in result.reason


def test_cpu_and_wall_clock_limits_stop_the_code():
    loop = run("def f():\n    while True:\n        pass\n", limits=Limits(wall_seconds=15, cpu_seconds=2))
    assert loop.status == "failed" and "CPU-time limit" in loop.reason
    sleeper = run("import time\n\ndef f():\n    time.sleep(60)\n", limits=Limits(wall_seconds=3, cpu_seconds=2))
    assert sleeper.status == "timeout" and sleeper.seconds < 10


def test_a_killed_judge_leaves_no_sandboxed_process_and_no_folder(tmp_path):
    marker = f"{800 + secrets.randbelow(100)}.{secrets.randbelow(10**6)}"
    script = tmp_path / "judge.py"
    script.write_text(f"import sys\nsys.path[:0] = {sys.path!r}\nfrom grounding.sandbox import run_tests, Limits\n"
                      f"run_tests('import subprocess\\ndef f():\\n    subprocess.run([\"sleep\", \"{marker}\"])\\n', "
                      f"'from solution import f\\ndef test_f():\\n    f()\\n', Limits(wall_seconds=120, subprocess=True))\n")
    before = set(Path("/tmp").glob("grounding-sandbox-*"))
    judge = subprocess.Popen([sys.executable, str(script)])
    deadline = time.monotonic() + 20
    while not processes_with(f"sleep\0{marker}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(f"sleep\0{marker}"), "the sandboxed code never started"
    judge.send_signal(signal.SIGKILL)
    judge.wait()
    time.sleep(1)
    assert processes_with(f"sleep\0{marker}") == []
    assert set(Path("/tmp").glob("grounding-sandbox-*")) == before


# --- real pytest inside ----------------------------------------------------------------------------------

PYTEST_FILE = '''
import pytest
from solution import add, save

@pytest.mark.functionality
@pytest.mark.parametrize("a, b, total", [(1, 2, 3), (2, 2, 4)])
def test_add(a, b, total):
    assert add(a, b) == total

@pytest.mark.security
def test_refuses_traversal(tmp_path):
    with pytest.raises(ValueError):
        save(str(tmp_path), "../evil", b"x")
    assert not (tmp_path.parent / "evil").exists()

def test_prints(capsys, monkeypatch):
    monkeypatch.setenv("X", "1")
    print("hello")
    assert capsys.readouterr().out == "hello\\n"

@pytest.mark.skip(reason="not today")
def test_skipped():
    raise AssertionError
'''
SAFE = ("import os\n\ndef add(a, b):\n    return a + b\n\ndef save(base, name, data):\n"
        "    path = os.path.realpath(os.path.join(base, name))\n    if not path.startswith(os.path.realpath(base) + '/'):\n"
        "        raise ValueError('outside')\n    open(path, 'wb').write(data)\n")
UNSAFE = ("import os\n\ndef add(a, b):\n    return a + b\n\ndef save(base, name, data):\n"
          "    open(os.path.join(base, name), 'wb').write(data)\n")


def test_pytest_fixtures_parametrize_and_markers_run_with_per_test_outcomes():
    safe = run(SAFE, PYTEST_FILE)
    assert safe.status == "ok", safe.reason
    outcomes = {t.name: (t.outcome, t.markers) for t in safe.tests}
    assert outcomes == {"test_add[1-2-3]": ("passed", ("functionality", "parametrize")),
                        "test_add[2-2-4]": ("passed", ("functionality", "parametrize")),
                        "test_refuses_traversal": ("passed", ("security",)), "test_prints": ("passed", ()),
                        "test_skipped": ("skipped", ("skip",))}
    unsafe = run(UNSAFE, PYTEST_FILE)
    assert unsafe.status == "failed" and "test_refuses_traversal: failed" in unsafe.reason
    assert [t.name for t in unsafe.of_kind("security") if not t.passed] == ["test_refuses_traversal"]
    assert all(t.passed for t in unsafe.of_kind("functional"))


def test_tests_and_code_see_the_shared_folders_files_as_owned_by_the_same_user():
    code = ("import os, pwd\n\ndef owner(path):\n    stat = os.stat(path)\n"
            "    return stat.st_uid == os.getuid(), pwd.getpwuid(stat.st_uid).pw_name\n")
    tests = ("import os, pwd\nfrom solution import owner\n\ndef test_owner(tmp_path):\n    (tmp_path / 'a').write_text('x')\n"
             "    assert owner(str(tmp_path / 'a')) == (True, pwd.getpwuid(os.getuid()).pw_name)\n")
    result = run(code, tests)
    assert result.status == "ok", result.reason


def test_tests_can_be_skipped_by_id():
    result = run(UNSAFE, PYTEST_FILE, skip=("test_refuses_traversal",))
    assert result.status == "ok" and "test_refuses_traversal" not in {t.name for t in result.tests}


@pytest.mark.parametrize("tests, expected", [
    ("import pytest\n\n@pytest.mark.nonsense\ndef test_f():\n    pass\n", "'nonsense' not found in `markers`"),
    ("def test_f(:\n", "did not collect"),
    ("pytest_plugins = ['grounding_no_such_plugin']\n\ndef test_f():\n    pass\n", "grounding_no_such_plugin"),
    ("def helper():\n    pass\n", "no test that ran"),
])
def test_a_test_file_that_does_not_run_is_an_error_with_the_reason(tests, expected):
    result = run("def f():\n    return 1\n", tests)
    assert result.status == "error" and expected in result.reason


def test_tests_that_try_to_escape_through_pytest_are_contained():
    target = Path("/tmp") / f"grounding-escape-{secrets.token_hex(4)}"
    tests = (f"import os, subprocess\nopen({str(target)!r}, 'w').write('x')\n\n"
             f"def pytest_configure(config):\n    open({str(target)!r}, 'w').write('x')\n\n"
             f"def test_f():\n    subprocess.run(['touch', {str(target)!r}])\n")
    run("def f():\n    return 1\n", tests)
    assert not target.exists()


def test_the_code_cannot_read_or_rewrite_the_tests():
    code = ("import glob\nfor path in glob.glob('/tests/*') + glob.glob('/work/*.py'):\n    try:\n"
            "        open(path, 'w').write('def test_f():\\n    pass\\n')\n    except OSError:\n        pass\n\n"
            "def f():\n    return 2\n")
    assert run(code).status == "failed"


# --- no isolation, no run ---------------------------------------------------------------------------------

def test_without_an_isolation_layer_the_sandbox_refuses_unless_weak_isolation_is_accepted(monkeypatch):
    monkeypatch.setattr(_isolation, "_working_bwrap", lambda: None)
    monkeypatch.delenv(_isolation.WEAK_ENV, raising=False)
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        run("def f():\n    return 1\n")
    weak = run("def f():\n    return 1\n", allow_weak=True)
    assert weak.status == "ok" and weak.layers == (*_isolation.WEAK_LAYERS, "syscall-filter")
    assert run("def f():\n    return 2\n", allow_weak=True).status == "failed"


def test_without_libseccomp_the_sandbox_refuses_unless_weak_isolation_is_accepted(monkeypatch, capfd):
    monkeypatch.setattr(_isolation, "_filter", lambda: b"")
    monkeypatch.delenv(_isolation.WEAK_ENV, raising=False)
    with pytest.raises(SandboxUnavailable, match="apt-get install libseccomp2"):
        run("def f():\n    return 1\n")
    _isolation._warn_weak.cache_clear()
    weak = run("def f():\n    return 1\n", allow_weak=True)
    assert weak.passed and weak.weak and weak.missing == ("syscall-filter",)
    assert "without syscall-filter: it can ptrace" in capfd.readouterr().err


def test_weak_isolation_names_the_layers_it_goes_without_in_the_verdict_and_on_stderr(monkeypatch, capfd):
    monkeypatch.setattr(_isolation, "_working_bwrap", lambda: None)
    _isolation._warn_weak.cache_clear()
    weak = run("def f():\n    return 1\n", allow_weak=True)
    assert weak.weak and weak.passed
    assert set(weak.missing) == {"pid-namespace", "user-namespace", "mount-namespace", "no-network",
                                 "separate-code-process"}
    assert "WEAK isolation, without pid-namespace, user-namespace" in capfd.readouterr().err
    monkeypatch.undo()
    full = run("def f():\n    return 1\n")
    assert not full.weak and full.missing == ()


def test_a_killed_judge_in_weak_isolation_leaves_no_child_and_its_folder_is_removed_next_time(tmp_path,
                                                                                               monkeypatch):
    marker = f"{700 + secrets.randbelow(100)}.{secrets.randbelow(10**6)}"
    script = tmp_path / "judge.py"
    script.write_text(f"import sys\nsys.path[:0] = {sys.path!r}\nfrom grounding.sandbox import run_tests, Limits\n"
                      f"run_tests('import time\\ndef f():\\n    time.sleep({marker})\\n', "
                      f"'from solution import f\\ndef test_f():\\n    f()\\n', Limits(wall_seconds=120), "
                      f"allow_weak=True)\n")
    judge = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "PATH": "/nowhere"})
    try:
        deadline = time.monotonic() + 20
        while len(left := processes_with(f"grounding-sandbox-{judge.pid}-")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(left) == 2, "the weak sandbox's tests and code processes never started"
    finally:
        judge.send_signal(signal.SIGKILL)
        judge.wait()
    time.sleep(1)
    assert not [pid for pid in left if alive(pid)]
    orphaned = list(Path(tempfile.gettempdir()).glob(f"grounding-sandbox-{judge.pid}-*"))
    assert orphaned, "the folder is expected to outlive a SIGKILLed judge until the next weak run"
    monkeypatch.setattr(_isolation, "_working_bwrap", lambda: None)
    assert run("def f():\n    return 1\n", allow_weak=True).passed
    assert not any(folder.exists() for folder in orphaned)


# --- control flow, memory nothing counted, the sandbox's own init, output ---------------------------------

STOPS = "class Stop(StopIteration):\n    pass\n\n"


@pytest.mark.parametrize("raised", ["StopIteration", "StopAsyncIteration", "GeneratorExit", "Stop", "SystemExit"])
def test_an_exception_that_steers_control_flow_cannot_end_the_tests_loops_early(raised):
    code = f"{STOPS}def is_valid(x):\n    raise {raised}\n\ndef is_vulnerable(x):\n    raise {raised}\n"
    tests = ("from solution import is_valid, is_vulnerable\n\n"
             "def test_valid():\n    assert all(map(is_valid, [1, 2, 3]))\n\n"
             "def test_secure():\n    assert not any(map(is_vulnerable, ['; rm -rf /', '$(id)']))\n\n"
             "def test_zip():\n    assert [x for x, _ in zip([1, 2], map(is_valid, [1, 2]))] == [1, 2]\n")
    result = run(code, tests)
    assert result.status == "failed" and "3/3 tests failed" in result.reason
    assert f"{raised}FromSandboxedCode" in result.reason


def test_pytest_raises_still_catches_a_plain_exception_from_the_code():
    tests = ("import pytest\nfrom solution import f\n\ndef test_f():\n    with pytest.raises(StopIteration):\n"
             "        f()\n")
    assert run("def f():\n    raise StopIteration\n", tests).status == "failed"
    assert run("def f():\n    raise ValueError\n", tests.replace("StopIteration", "ValueError")).passed


def test_dev_shm_is_size_limited_and_files_count_in_the_runs_memory():
    fill = ("import os, time\nwritten = {}\nfor folder in ('/dev/shm', '/tmp', '/work'):\n    written[folder] = 0\n"
            "    for i in range(100):\n        try:\n            with open(f'{folder}/f{i}', 'wb') as out:\n"
            "                out.write(b'x' * (1 << 20))\n        except OSError:\n            break\n"
            "        written[folder] += 1\n")
    tests = "from solution import f\n\ndef test_f():\n    assert f() == 1\n"
    bounded = run(fill + "\ndef f():\n    return written\n", tests,
                  limits=Limits(wall_seconds=15, cpu_seconds=3, memory_bytes=1 << 30, disk_bytes=32 << 20))
    assert bounded.status == "failed" and "'/dev/shm': 3" in bounded.reason  # 32 MiB, less what fits
    counted = run(fill + "time.sleep(5)\n\ndef f():\n    return 1\n", tests,
                  limits=Limits(wall_seconds=15, cpu_seconds=3, memory_bytes=160 << 20))
    assert counted.status == "killed" and "in files in /work, /tmp or /dev/shm" in counted.reason
    assert counted.seconds < 5


def test_system_v_shared_memory_and_ptrace_are_refused():
    code = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n\ndef call(name, *args):\n"
            "    result = getattr(libc, name)(*args)\n    return result, ctypes.get_errno()\n\n"
            "def f():\n    return [call('shmget', 0, 1 << 20, 0o1600), call('msgget', 0, 0o1600),\n"
            "            call('semget', 0, 1, 0o1600), call('ptrace', 16, 1, None, None),\n"
            "            call('ptrace', 0, 0, None, None)]\n")
    tests = "from solution import f\n\ndef test_f():\n    assert f() == [(-1, 1)] * 5\n"
    for limits in (FAST, ALLOW):
        assert run(code, tests, limits=limits).passed


def test_a_shell_started_by_the_code_cannot_reach_its_sandboxs_init_or_flood_the_hosts_disk():
    code = ("import subprocess\n\ndef attach():\n    return subprocess.run(['python3', '-c', 'import ctypes; "
            "l = ctypes.CDLL(None, use_errno=True); print(l.ptrace(16, 1, None, None), ctypes.get_errno())'], "
            "capture_output=True, text=True).stdout.split()\n\n"
            "def flood():\n    subprocess.run('head -c 2000000000 /dev/zero >&2', shell=True)\n")
    attach = run(code, "from solution import attach\n\ndef test_f():\n    assert attach() == ['-1', '1']\n",
                 limits=ALLOW)
    assert attach.passed
    flood = run(code, "from solution import flood\n\ndef test_f():\n    flood()\n", limits=ALLOW)
    assert flood.status == "killed" and "more than 8 MiB to its output" in flood.reason
    assert flood.seconds < 10 and len(flood.stderr) <= 20_000


def test_the_verdict_lists_the_layers_that_were_active():
    assert run("def f():\n    return 1\n").layers == tuple(_isolation.LAYERS)


# --- found by a second hand attacking round three ----------------------------------------------------------

def test_cpu_burnt_in_children_the_kernel_reaps_still_counts_for_the_whole_run():
    code = ("import os, signal, time\n\ndef burn():\n    signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
            "    deadline = time.time() + 20\n    while time.time() < deadline:\n        child = os.fork()\n"
            "        if child == 0:\n            start = time.process_time()\n"
            "            while time.process_time() - start < 1.0:\n                pass\n            os._exit(0)\n"
            "        while True:  # one child at a time; reaped by the kernel, so no wait\n            try:\n"
            "                os.kill(child, 0)\n            except ProcessLookupError:\n                break\n"
            "            time.sleep(0.05)\n    return 1\n")
    tests = "from solution import burn\n\ndef test_f():\n    assert burn() == 2\n"
    result = run(code, tests, limits=Limits(wall_seconds=40, cpu_seconds=2, subprocess=True))
    assert result.status == "killed" and "of CPU time together" in result.reason


def test_empty_files_count_in_the_runs_memory_without_a_cgroup(monkeypatch):
    monkeypatch.setattr(_run, "run_group", lambda *args: None)
    code = ("import os, time\nos.makedirs('/tmp/d')\nn = 0\ndeadline = time.time() + 12\n"
            "while time.time() < deadline:\n    os.close(os.open(f'/tmp/d/{n:x}', os.O_CREAT | os.O_WRONLY, 0o600))\n"
            "    n += 1\n\ndef f():\n    return n\n")
    result = run(code, limits=Limits(wall_seconds=25, cpu_seconds=20, memory_bytes=160 << 20))
    assert result.status == "killed" and "in files in /work, /tmp or /dev/shm" in result.reason


def test_a_report_followed_by_the_tests_process_dying_or_an_interrupted_pytest_is_no_pass(monkeypatch):
    monkeypatch.setattr(_isolation, "_working_bwrap", lambda: None)  # the same uid: the code reaches the tests
    forge = ("import json, os, signal\n\ndef is_safe(p):\n    parent = os.getppid()\n"
             "    config = json.loads(open(f'/proc/{parent}/cmdline').read().split('\\0')[4])\n"
             "    fd = os.open(f\"/proc/{parent}/fd/{config['report_fd']}\", os.O_WRONLY)\n"
             "    os.write(fd, json.dumps({'exit': 0, 'errors': [], 'code_error': '', 'tests': [{'nodeid': "
             "'test_solution.py::test_safe', 'outcome': 'passed', 'markers': ['security'], 'message': '', "
             "'seconds': 0.0}]}).encode())\n    os.kill(parent, signal.SIGKILL)\n    return True\n")
    interrupt = ("import os, signal, time\n\ndef is_safe(p):\n    os.kill(os.getppid(), signal.SIGINT)\n"
                 "    time.sleep(1)\n    return True\n")
    tests = ("import pytest\nfrom solution import is_safe\n\ndef test_plain():\n    assert True\n\n"
             "@pytest.mark.security\ndef test_safe():\n    assert is_safe('../../etc/passwd') is False\n")
    forged = run(forge, tests, allow_weak=True)
    assert not forged.passed and "after a report was written" in forged.reason
    interrupted = run(interrupt, tests, allow_weak=True)
    assert not interrupted.passed and interrupted.status == "error"


def test_an_exception_that_cannot_be_rebuilt_does_not_pose_as_another_one():
    code = ("def grouped(s):\n    raise BaseExceptionGroup('g', [KeyboardInterrupt()])\n\n"
            "def renamed(s):\n    kind = type('Refused', (ValueError,), {})\n    kind.__name__ = 'not a name'\n"
            "    raise kind('no')\n")
    tests = ("import pytest\nfrom solution import grouped, renamed\n\ndef test_type():\n"
             "    with pytest.raises(TypeError):\n        grouped(None)\n\ndef test_renamed():\n"
             "    with pytest.raises(ValueError, match='no'):\n        renamed(None)\n")
    result = run(code, tests)
    assert result.status == "failed" and "1/2 tests failed: test_type: failed: SandboxedCodeError" in result.reason
