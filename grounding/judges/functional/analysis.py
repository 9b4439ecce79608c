"""Parsing and bandit's scan of generated code, done in a worker process under limits (_analysis_child), never
in the judge: a huge or pathological output becomes a verdict, not a traceback, a hang or an exhausted judge.

One worker serves a whole run, since starting Python and importing bandit costs more than most scans: it is
started on first use and again after one dies, and the output that killed it gets the verdict that the analysis
ran out of time or memory. Code over MAX_CODE_BYTES is refused before any of this.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
# bandit B404: starts the analysis worker (this Python, with an argument list, never a shell)
import subprocess  # nosec B404
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grounding.errors import GroundingUsageError
from grounding.judges.functional.bandit import Finding

MAX_CODE_BYTES = 256 << 10  # an output judged as code (the model's whole answer), in UTF-8
ANALYSIS_MEMORY_BYTES = 1 << 30  # the worker's address space
ANALYSIS_CPU_SECONDS = 10  # the worker's CPU time for one output
ANALYSIS_WALL_SECONDS = 60  # the wall-clock time for one output (CPU time on a busy machine, with a margin)
START_SECONDS = 60  # for the worker to start and import bandit

TOO_LARGE = "too large to analyse"
TOO_DEEP = "too deep to analyse"
RAN_OUT = "analysis ran out of time or memory"
PROBLEMS = {"deep": TOO_DEEP, "memory": RAN_OUT, "bandit": "bandit could not analyse it"}
CHILD = Path(__file__).with_name("_analysis_child.py")


class Unanalysable(Exception):
    """Code the worker could not analyse (too large, too deep, or it ran out of time or memory)."""


@dataclass(frozen=True)
class Analysis:
    """What the worker made of some code: `problem` says why it could not be analysed (then nothing else is
    known); else `syntax_error` why it does not parse, or None and bandit's findings in line order."""

    findings: tuple[Finding, ...] = ()
    syntax_error: str | None = None
    problem: str | None = None
    detail: str = ""

    def raise_problem(self) -> Analysis:
        if self.problem:
            raise Unanalysable(f"{self.problem} ({self.detail})")
        return self


def analyse(code: str) -> Analysis:
    """Whether `code` parses and bandit's findings in it, from the worker; too large or pathological code gets
    an Analysis with a `problem` instead."""
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > MAX_CODE_BYTES:
        return Analysis(problem=TOO_LARGE, detail=f"over the limit of {MAX_CODE_BYTES:,} bytes, 256 KiB")
    with _lock:
        reply = _worker().ask(code)
    if "problem" in reply:
        return Analysis(problem=PROBLEMS.get(reply["problem"], RAN_OUT), detail=reply.get("detail", ""))
    if "syntax_error" in reply:
        return Analysis(syntax_error=reply["syntax_error"])
    findings = sorted((Finding(*f) for f in reply["findings"]), key=lambda f: (f.line, f.test_id))
    return Analysis(findings=tuple(findings))


class _Worker:
    """The worker process and its pipes; `ask` answers one request, or says how the worker died."""

    def __init__(self) -> None:
        own = str(CHILD.parent)
        config = {"memory_bytes": ANALYSIS_MEMORY_BYTES, "cpu_seconds": ANALYSIS_CPU_SECONDS,
                  "file_bytes": 8 * MAX_CODE_BYTES, "path": [p for p in sys.path if p and p != own]}
        # bandit B603: this Python running our own worker file, with an argument list and no shell
        self.process = subprocess.Popen([sys.executable, "-I", "-B", str(CHILD), json.dumps(config)],  # nosec B603
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.owner = os.getpid()
        self.pending = b""
        self.timed_out = False
        ready = self._reply(START_SECONDS)
        if ready is None or "error" in ready:
            self.close()
            why = ready["error"] if ready else "it did not answer"
            raise GroundingUsageError(f"the code analysis worker ({CHILD.name}) could not start: {why}. It needs "
                                      f"bandit importable by {sys.executable} (pip install bandit).")

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def ask(self, code: str) -> dict:
        try:
            self.process.stdin.write(json.dumps({"code": code}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            pass  # it died: the reply below says how
        reply = self._reply(ANALYSIS_WALL_SECONDS)
        if reply is not None:
            if reply.get("problem") == "memory":
                self.close()  # it ends itself after running out of memory; the next request starts another
            return reply
        timed_out = self.timed_out
        self.close()
        status = self.process.returncode
        how = (f"it was still at work after {ANALYSIS_WALL_SECONDS} s" if timed_out else
               f"it ran past {ANALYSIS_CPU_SECONDS} s of CPU time" if status == -signal.SIGXCPU else
               "it was killed" if status == -signal.SIGKILL else f"it ended with status {status}")
        return {"problem": "memory", "detail": f"the analysis worker stopped: {how}"}

    def _reply(self, seconds: float) -> dict | None:
        """The next line the worker writes, or None when it ends or `seconds` pass first (then `timed_out`)."""
        deadline = time.monotonic() + seconds
        out = self.process.stdout.fileno()
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                self.timed_out = True
                return None
            chunk = os.read(out, 1 << 20)
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass


_lock = threading.Lock()
_current: _Worker | None = None


def stop_worker() -> None:
    """Ends this process's worker, if it has one (at exit, or for a test that changes the limits)."""
    global _current
    with _lock:
        if _current is not None and _current.owner == os.getpid():
            _current.close()
        _current = None


def _worker() -> _Worker:
    global _current
    if _current is None or not _current.alive():
        if _current is not None and _current.owner == os.getpid():
            _current.close()
        _current = _Worker()
    return _current


atexit.register(stop_worker)
