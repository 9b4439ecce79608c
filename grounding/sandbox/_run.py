"""Run a case's pytest file against generated code, both confined, and read the verdict from outside.

Three processes: this one (the judge) starts the tests process in the sandbox (_isolation), which starts
the code process in a sandbox of its own; the tests reach the code only through plain-data requests
(_tests_child, _code_child, _wire). The report comes back on a pipe that only the tests process holds;
the verdict is computed here. Nothing is written to the host's disk: the files go in through descriptors
and the work folders are tmpfs that vanish with the run.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
# bandit B404: starts the sandbox (bwrap) with argument lists, never a shell
import subprocess  # nosec B404
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grounding.sandbox import _isolation
from grounding.sandbox._cgroup import run_group
from grounding.sandbox._watchdog import Watchdog, kill_tree

OUTPUT_CAP = 20_000
OUTPUT_LIMIT = 8 << 20  # what the run may write to its stdout and stderr together before it is killed
REPORT_CAP = 8 << 20
WEAK_FOLDER = "grounding-sandbox-"
PYTEST_FINISHED = (0, 1, 5)  # all passed, some failed, none collected: pytest ran to its end
_LIBC = ctypes.CDLL(None)
BASE_PROCESSES = 6  # two bwrap monitors, two namespace inits, the tests and the code process


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use. cpu_seconds, memory_bytes, file_bytes and open_files hold per
    process; the whole run together gets memory_bytes of resident memory, twice the CPU time plus 5 s
    (pytest's own share) and `processes` beyond its own. `subprocess` lets the code start programs."""

    wall_seconds: float = 20.0
    cpu_seconds: int = 10
    memory_bytes: int = 1 << 30
    file_bytes: int = 1 << 20
    disk_bytes: int = 64 << 20
    open_files: int = 64
    processes: int = 16
    subprocess: bool = False


@dataclass(frozen=True)
class TestOutcome:
    """One test as pytest ran it: outcome is passed, failed, error, skipped, xfailed, xpassed or not run."""

    name: str
    outcome: str
    markers: tuple[str, ...] = ()
    message: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome in ("passed", "xfailed")

    @property
    def counted(self) -> bool:
        return self.outcome not in ("skipped", "not run")

    @property
    def kind(self) -> str:
        return "security" if "security" in self.markers else "functional"


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed run ended: `status` is ok, failed, error, timeout or killed; `layers` the isolation
    that was active, `missing` the layers of full isolation it went without, `bound` what held the whole run's
    memory and processes (a cgroup, or the watchdog)."""

    status: str
    tests: tuple[TestOutcome, ...]
    reason: str
    seconds: float
    stdout: str = ""
    stderr: str = ""
    layers: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    bound: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "ok"

    @property
    def weak(self) -> bool:
        """Run without some layer of full isolation: a pass here is weaker evidence."""
        return bool(self.missing)

    def of_kind(self, kind: str) -> tuple[TestOutcome, ...]:
        """The counted tests that are `security` (marked so) or `functional` (the rest)."""
        return tuple(t for t in self.tests if t.counted and t.kind == kind)


def run_tests(code: str, tests: str, limits: Limits = Limits(), *, module: str = "solution",
              tests_name: str = "test_solution.py", setup: str = "", skip: tuple[str, ...] = (),
              allow_weak: bool = False) -> SandboxResult:
    """Run the pytest file `tests` against `code` (importable as MODULE) in the sandbox.

    `setup` runs in the code's process before the code is imported (to stub what the tests would have
    monkeypatched); `skip` names tests (as in their node ids, `test_x` or `test_x[case]`) left out.
    Raises SandboxUnavailable when no isolation layer exists and weak isolation is not accepted."""
    iso = _isolation.isolation(allow_weak)
    if not module.isidentifier() or not tests_name.endswith(".py") or "/" in tests_name:
        raise ValueError(f"bad module {module!r} or test file name {tests_name!r}")
    code_config = {"module": module, "setup": setup, "cpu_seconds": limits.cpu_seconds,
                   "memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes,
                   "open_files": limits.open_files, "processes": limits.processes,
                   "subprocess": limits.subprocess, "site_dirs": list(_isolation.python_paths()[1]),
                   "die_with_parent": iso.weak}
    if iso.bwrap:
        return _run_isolated(iso, code, tests, limits, code_config, tests_name, skip)
    return _run_weak(iso, code, tests, limits, code_config, tests_name, skip)


def _child_argv(script: str, config: dict) -> list[str]:
    return [sys.executable, "-I", "-B", script, json.dumps(config)]


def _memfd(text: str | bytes) -> int:
    fd = os.memfd_create("grounding-sandbox-file", 0)
    os.write(fd, text.encode() if isinstance(text, str) else text)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _tests_config(tests: str, basetemp: str, code_config: dict, code_command: list[str], skip, report_fd: int, *,
                  processes: int | None, load_filter: bool = False) -> dict:
    return {"tests": tests, "module": code_config["module"], "basetemp": basetemp, "skip": list(skip),
            "site_dirs": code_config["site_dirs"], "report_fd": report_fd, "code_command": code_command,
            "processes": processes, "die_with_parent": code_config["die_with_parent"], "load_filter": load_filter}


def _run_isolated(iso, code, tests, limits, code_config, tests_name, skip) -> SandboxResult:
    module = code_config["module"]
    uid = _isolation.run_uid()
    code_command = _isolation.inner_command(iso, uid, limits.disk_bytes,
                                            _child_argv("/sandbox/_code_child.py", {**code_config, "code_dir": "/code"}))
    data = {f"/tests/{tests_name}": _memfd(tests), f"/code/{module}.py": _memfd(code)}
    data["/etc/passwd"] = _memfd(f"sandbox:x:{uid}:{uid}:sandbox:/work:/bin/sh\n")
    data["/etc/group"] = _memfd(f"sandbox:x:{uid}:\n")
    seccomp_fd = _memfd(iso.seccomp) if iso.seccomp else None
    read_end, write_end = os.pipe()
    # bandit B108: a path inside the sandbox's private tmpfs
    tests_config = _tests_config(f"/tests/{tests_name}", "/tmp/pytest", code_config, code_command, skip, write_end,  # nosec B108
                                 processes=limits.processes + BASE_PROCESSES)
    command = _isolation.outer_command(iso, uid, limits.disk_bytes, data,
                                       _child_argv("/sandbox/_tests_child.py", tests_config), seccomp_fd=seccomp_fd)
    descriptors = [*data.values(), *([seccomp_fd] if seccomp_fd is not None else [])]
    try:
        return _supervise(command, descriptors, read_end, write_end, limits, iso, cwd="/")
    finally:
        for fd in descriptors:
            os.close(fd)


def _run_weak(iso, code, tests, limits, code_config, tests_name, skip) -> SandboxResult:
    here = str(_isolation.HERE)
    _remove_orphaned_folders()
    with tempfile.TemporaryDirectory(prefix=f"{WEAK_FOLDER}{os.getpid()}-") as scratch:
        work, code_dir, tests_dir = (Path(scratch, name) for name in ("work", "code", "tests"))
        for folder in (work, code_dir, tests_dir):
            folder.mkdir()
        (code_dir / f"{code_config['module']}.py").write_text(code)
        (tests_dir / tests_name).write_text(tests)
        read_end, write_end = os.pipe()
        code_command = _child_argv(f"{here}/_code_child.py", {**code_config, "code_dir": str(code_dir)})
        # no process limit: outside a user namespace it would count all of the user's processes
        tests_config = _tests_config(str(tests_dir / tests_name), str(Path(scratch, "pytest")), code_config,
                                     code_command, skip, write_end, processes=None, load_filter=bool(iso.seccomp))
        command = _child_argv(f"{here}/_tests_child.py", tests_config)
        return _supervise(command, (), read_end, write_end, limits, iso, cwd=str(work))


def _remove_orphaned_folders() -> None:
    """Weak runs' folders whose judge died without removing them (SIGKILL): named by the judge's pid."""
    for folder in Path(tempfile.gettempdir()).glob(f"{WEAK_FOLDER}*-*"):
        pid = folder.name[len(WEAK_FOLDER):].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and folder.owner() == _user_name():
            shutil.rmtree(folder, ignore_errors=True)


def _user_name() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _supervise(command, pass_fds, read_end: int, write_end: int, limits: Limits, iso, cwd: str) -> SandboxResult:
    start = time.monotonic()
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": cwd, "TMPDIR": cwd, "PYTHONHASHSEED": "0",
           "PYTHONDONTWRITEBYTECODE": "1"}  # the tests process switches pytest's plugin autoload off itself
    # the kernel's bound sits above the watchdog's, so that the watchdog, which says why, acts first
    group = run_group(limits.memory_bytes + max(64 << 20, limits.memory_bytes // 4), limits.processes + BASE_PROCESSES)
    try:
        try:
            # bandit B603: the sandbox command we build, an argument list, no shell
            child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # nosec B603
                                     stderr=subprocess.PIPE, cwd=cwd, env=env, pass_fds=(*pass_fds, write_end),
                                     start_new_session=True, preexec_fn=_before_exec(group, iso.weak))
        finally:
            os.close(write_end)  # the tests process holds the only other end: EOF when it is gone
        return _watch(child, read_end, limits, iso, group, start)
    finally:
        if group is not None:
            group.remove()


def _watch(child, read_end: int, limits: Limits, iso, group, start: float) -> SandboxResult:
    watchdog = Watchdog(child.pid, memory_bytes=limits.memory_bytes, cpu_seconds=2 * limits.cpu_seconds + 5,
                        processes=limits.processes + BASE_PROCESSES, group=group)
    output = _Output(watchdog)
    report_box: list[bytes] = []
    readers = [threading.Thread(target=lambda: report_box.append(_read_all(read_end)), daemon=True),
               threading.Thread(target=output.drain, args=(child.stdout, "stdout"), daemon=True),
               threading.Thread(target=output.drain, args=(child.stderr, "stderr"), daemon=True)]
    for reader in readers:
        reader.start()
    watchdog.start()
    try:
        code = child.wait(timeout=limits.wall_seconds)
        timed_out = False
    except subprocess.TimeoutExpired:
        code, timed_out = None, True
    finally:
        kill_tree(child.pid)
        child.wait()
        watchdog.stop()
    for reader in readers:
        reader.join(timeout=5)
    if not any(reader.is_alive() for reader in readers):  # a survivor outside the tree (weak isolation) may hold
        os.close(read_end)                                # a pipe open: a reader stuck on it keeps it, and closing
        child.stdout.close()                              # under it would block the judge
        child.stderr.close()
    if group is not None and group.out_of_memory():
        watchdog.kill(f"the kernel stopped the run at its cgroup's memory limit, above the whole-run limit of "
                      f"{limits.memory_bytes >> 20} MiB (files in /work, /tmp and /dev/shm count)")
    report = report_box[0] if report_box else b""
    return _result(report, output.text("stdout"), output.text("stderr"), code, timed_out, watchdog.reason,
                   time.monotonic() - start, limits, iso, watchdog.bound)


def _before_exec(group, weak: bool):
    """What the child does between fork and exec: join the run's cgroup; in weak isolation, die with the judge
    (no PID namespace does it)."""
    if group is None and not weak:
        return None

    def prepare() -> None:
        if group is not None:
            group.enter()
        if weak:
            _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    return prepare


class _Output:
    """The run's stdout and stderr, read from pipes (never a file on the host): the first OUTPUT_CAP bytes of
    each are kept, and a run that writes more than OUTPUT_LIMIT in all is killed."""

    def __init__(self, watchdog: Watchdog) -> None:
        self.watchdog = watchdog
        self.kept: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self.total = 0
        self.lock = threading.Lock()

    def drain(self, pipe, name: str) -> None:
        while chunk := pipe.read1(1 << 16):
            kept = self.kept[name]
            kept += chunk[:max(OUTPUT_CAP - len(kept), 0)]
            with self.lock:
                self.total += len(chunk)
                if self.total > OUTPUT_LIMIT:
                    self.watchdog.kill(f"the run wrote more than {OUTPUT_LIMIT >> 20} MiB to its output")
                    return

    def text(self, name: str) -> str:
        return bytes(self.kept[name]).decode(errors="replace")


def _read_all(fd: int) -> bytes:
    chunks, size = [], 0
    while size <= REPORT_CAP:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _result(raw: bytes, stdout: str, stderr: str, code: int | None, timed_out: bool, over_limit: str,
            seconds: float, limits: Limits, iso, bound: str) -> SandboxResult:
    done = lambda status, tests, reason: SandboxResult(status, tests, reason, seconds, stdout, stderr,
                                                       iso.layers, iso.missing, bound)  # noqa: E731
    if over_limit:
        return done("killed", (), f"killed: {over_limit}")
    if timed_out:
        return done("timeout", (), f"killed after the wall-clock limit of {limits.wall_seconds:g} s")
    try:
        report = json.loads(raw) if raw else None
    except ValueError:
        report = None
    if not isinstance(report, dict):
        reason = (f"the tests process died from signal {signal.Signals(-code).name}" if code is not None and code < 0
                  else f"the tests process exited with code {code} before reporting")
        return done("killed", (), reason + _last_line(stderr))
    tests = tuple(TestOutcome(str(t["nodeid"]).split("::", 1)[-1], str(t["outcome"]), tuple(t["markers"]),
                              str(t["message"]), float(t["seconds"])) for t in report["tests"])
    if code != 0:  # the tests process exits 0 right after reporting: a report followed by a death is not its own
        return done("killed", tests, f"the tests process ended with code {code} after a report was written")
    if report["code_error"]:
        return done("error", tests, f"the code did not load: {report['code_error']}")
    if report["errors"]:
        return done("error", tests, "; ".join(report["errors"])[:2000])
    if report["exit"] not in PYTEST_FINISHED:
        return done("error", tests, f"pytest did not finish (exit code {report['exit']}: interrupted or broken)")
    unfinished = [t.name for t in tests if t.outcome == "not run"]
    if unfinished:
        return done("error", tests, f"{len(unfinished)} collected test(s) never ran: {', '.join(unfinished)[:500]}")
    counted = [t for t in tests if t.counted]
    if not counted:
        return done("error", tests, "the test file has no test that ran")
    failed = [t for t in counted if not t.passed]
    if failed:
        reason = "; ".join(f"{t.name}: {t.outcome}: {t.message}" for t in failed)
        return done("failed", tests, f"{len(failed)}/{len(counted)} tests failed: {reason}")
    return done("ok", tests, f"{len(counted)}/{len(counted)} tests passed")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return f": {lines[-1][:300]}" if lines else ""
