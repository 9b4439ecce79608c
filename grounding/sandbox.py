"""Run generated code and its functional tests in a confined child process, never in this one.

The child (grounding/sandbox_harness.py) gets a fresh temporary working directory, a scrubbed
environment, its own session (so the whole process group is killed afterwards), a wall-clock timeout
and the limits below; it confines itself before it imports the generated code.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HARNESS = Path(__file__).with_name("sandbox_harness.py")
OUTPUT_CAP = 20_000
NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use."""

    wall_seconds: float = 20.0
    cpu_seconds: int = 10
    memory_bytes: int = 1 << 30
    file_bytes: int = 1 << 20
    open_files: int = 64
    processes: int = 16


@dataclass(frozen=True)
class TestOutcome:
    name: str
    passed: bool
    error: str = ""


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed run ended: `status` is ok, failed, error, timeout or killed."""

    status: str
    tests: tuple[TestOutcome, ...]
    reason: str
    seconds: float
    stdout: str = ""
    stderr: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "ok"


def run_tests(code: str, tests: str, limits: Limits = Limits(), *, module: str = "solution") -> SandboxResult:
    """Write `code` as MODULE.py and `tests` as tests.py, run every test_* function of tests.py confined."""
    scratch = Path(tempfile.mkdtemp(prefix="grounding-sandbox-"))
    workdir = scratch / "work"
    try:
        scratch.chmod(0o711)  # traversable, not listable, by the unprivileged child
        workdir.mkdir()
        (workdir / f"{module}.py").write_text(code)
        (workdir / "tests.py").write_text(tests)
        if os.geteuid() == 0:  # the harness drops to `nobody`, which must own its working directory
            for path in (workdir, *workdir.iterdir()):
                os.chown(path, NOBODY, NOBODY)
        return _run(scratch, workdir, limits)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(scratch: Path, workdir: Path, limits: Limits) -> SandboxResult:
    nonce = secrets.token_hex(16)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(workdir), "TMPDIR": str(workdir),
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    limits_json = json.dumps({k: v for k, v in asdict(limits).items() if k != "wall_seconds"})
    start = time.monotonic()
    with open(scratch / "stdout", "w+b") as out, open(scratch / "stderr", "w+b") as err:
        child = subprocess.Popen([sys.executable, "-I", "-B", str(HARNESS), str(workdir), limits_json],
                                 stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=workdir, env=env,
                                 start_new_session=True, close_fds=True)
        try:
            child.stdin.write(f"{nonce}\n".encode())
            child.stdin.close()
        except BrokenPipeError:
            pass
        try:
            code = child.wait(timeout=limits.wall_seconds)
            timed_out = False
        except subprocess.TimeoutExpired:
            code, timed_out = None, True
        finally:
            _kill_group(child)
        seconds = time.monotonic() - start
        stdout, stderr = _read(out), _read(err)
    return _result(stdout, stderr, nonce, code, timed_out, seconds, limits)


def _kill_group(child: subprocess.Popen, patience: float = 5.0) -> None:
    """Kill the child's whole process group, and keep killing until no live member is left (a fork bomb's
    processes may still be forking or exiting when the first signal lands)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if child.poll() is None:
            child.wait()
        if not _live_members(child.pid) or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _live_members(group: int) -> list[int]:
    """Processes of a process group that are not yet zombies (Linux /proc; empty elsewhere)."""
    members = []
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in "ZX" and int(fields[2]) == group:
            members.append(int(entry.name))
    return members


def _read(handle) -> str:
    handle.seek(0)
    return handle.read(OUTPUT_CAP).decode(errors="replace")


def _result(stdout: str, stderr: str, nonce: str, code: int | None, timed_out: bool, seconds: float,
            limits: Limits) -> SandboxResult:
    report = None
    for line in stdout.splitlines():
        if line.startswith(nonce + " "):
            report = json.loads(line[len(nonce) + 1:])
    shown = "\n".join(line for line in stdout.splitlines() if not line.startswith(nonce))
    if timed_out:
        return SandboxResult("timeout", (), f"killed after the wall-clock limit of {limits.wall_seconds:g} s",
                             seconds, shown, stderr)
    if report is None:
        if code in (-signal.SIGXCPU, -signal.SIGKILL) and seconds >= limits.cpu_seconds:
            reason = f"the process exceeded the CPU-time limit of {limits.cpu_seconds} s"
        elif code is not None and code < 0:
            reason = f"the process died from signal {signal.Signals(-code).name}"
        else:
            reason = f"the process exited with code {code} before reporting"
        if "MemoryError" in stderr:
            reason += " (out of memory)"
        return SandboxResult("killed", (), reason + _last_line(stderr), seconds, shown, stderr)
    tests = tuple(TestOutcome(t["name"], t["passed"], t["error"]) for t in report["tests"])
    if not report["imported"]:
        return SandboxResult("error", tests, f"the code did not load: {report['error']}", seconds, shown, stderr)
    if not tests:
        return SandboxResult("error", tests, "tests.py defines no test_* function", seconds, shown, stderr)
    failed = [t for t in tests if not t.passed]
    if failed:
        reason = "; ".join(f"{t.name}: {t.error}" for t in failed)
        return SandboxResult("failed", tests, f"{len(failed)}/{len(tests)} tests failed: {reason}", seconds,
                             shown, stderr)
    return SandboxResult("ok", tests, f"{len(tests)}/{len(tests)} tests passed", seconds, shown, stderr)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return f": {lines[-1][:300]}" if lines else ""
