"""The tests process: run the case's test file under pytest, with the generated code in a process of its own.

Run by grounding.sandbox inside the sandbox as `python -I -B _tests_child.py CONFIG_JSON` (standard
library and pytest only). The module the tests import (`solution` by default) is a proxy: every attribute
read and call is a request to the code process (_code_child.py, started through `config["code_command"]`),
and every answer is plain data (_wire). The report, one JSON object of per-test outcomes, goes to the
descriptor `config["report_fd"]`, which the code process never holds.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import signal
import site
# bandit B404: starts the code's sandbox with an argument list, never a shell
import subprocess  # nosec B404
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves it out
import _wire  # noqa: E402

UNSAFE_BASES = ("BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit")
# Exceptions that steer the tests' own control flow: a StopIteration raised by the code would silently end the
# tests' map() or zip(), so `assert all(map(is_valid, cases))` would pass. They cross as ControlFlowEscape.
CONTROL_FLOW = ("StopIteration", "StopAsyncIteration", "GeneratorExit", "SystemExit", "KeyboardInterrupt")
MARKERS = ("functionality: a functional test of the code under test",
           "security: a test whose failure shows the code is insecure")


class SandboxedCodeError(RuntimeError):
    """The code process could not answer: it did not load, died, or sent something that is not plain data."""


class ControlFlowEscape(RuntimeError):
    """The code raised an exception that steers control flow (StopIteration, ...): an error in the tests, never
    that exception itself (as PEP 479 turns a StopIteration leaving a generator into a RuntimeError)."""


class CodeProcess:
    """The connection to the code process; started on first use and again after it died."""

    def __init__(self, command: list[str], stderr: int, *, weak: bool = False) -> None:
        self.command, self.stderr, self.weak = command, stderr, weak
        self.child: subprocess.Popen | None = None
        self.exceptions: dict[tuple[str, str], type] = {}
        self.load_error = ""

    def _start(self) -> None:
        # bandit B603: the code's sandbox command, built by the judge, an argument list, no shell
        self.child = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # nosec B603
                                      stderr=self.stderr, close_fds=True,
                                      preexec_fn=_die_with_parent if self.weak else None)
        ready = self._read()
        if not ready.get("ready"):
            self.load_error = self._describe_raised(ready.get("raised"))
            raise SandboxedCodeError(f"the code did not load: {self.load_error}")

    def _read(self) -> dict:
        line = self.child.stdout.readline(_wire.MAX_LINE + 1)
        if not line:
            raise SandboxedCodeError(self._ended())
        try:
            return _wire.loads(line)
        except _wire.WireError as err:
            raise SandboxedCodeError(f"the code process sent {err}") from None

    def _ended(self) -> str:
        code = self.child.wait()
        self.child = None
        if code > 128:  # bwrap passes a signal on as 128 + its number
            code = 128 - code
        if code == -signal.SIGXCPU or code == -signal.SIGKILL:
            return f"the code process was killed (signal {signal.Signals(-code).name}): it ran past its CPU-time limit"
        if code < 0:
            return f"the code process was killed by signal {signal.Signals(-code).name}"
        return f"the code process exited with code {code} while the tests waited for an answer"

    def request(self, message: dict) -> dict:
        if self.load_error:
            raise SandboxedCodeError(f"the code did not load: {self.load_error}")
        if self.child is None:
            self._start()
        try:
            self.child.stdin.write(_wire.dumps(message))
            self.child.stdin.flush()
        except BrokenPipeError:
            raise SandboxedCodeError(self._ended()) from None
        reply = self._read()
        if "raised" in reply:
            raise self._exception(reply["raised"])
        if type(reply.get("ok")) is not dict:
            raise SandboxedCodeError("the code process sent a malformed answer")
        return self._value(reply["ok"])

    def _value(self, answer: dict):
        kind = answer.get("kind")
        if kind == "value":
            return _wire.decode(answer.get("value"))
        if kind in ("callable", "object") and type(answer.get("handle")) is int:
            return RemoteObject(self, answer["handle"], str(answer.get("type", "object")), kind == "callable")
        if kind == "exception_class":
            return self._exception_class(str(answer.get("name")), str(answer.get("base")))
        raise SandboxedCodeError("the code process sent a malformed answer")

    def _exception_class(self, name: str, base: str) -> type:
        """A local stand-in for the code's exception class: same name, the nearest built-in base; one that steers
        control flow becomes a ControlFlowEscape named after it."""
        if base in CONTROL_FLOW or name in CONTROL_FLOW:
            key = (name, "ControlFlowEscape")
            if key not in self.exceptions:
                self.exceptions[key] = type(f"{name}FromSandboxedCode", (ControlFlowEscape,), {
                    "__module__": "sandboxed_code", "__doc__": f"{name} ({base}) raised by the sandboxed code"})
            return self.exceptions[key]
        builtin = getattr(builtins, base, None)
        if base in UNSAFE_BASES or not (isinstance(builtin, type) and issubclass(builtin, BaseException)):
            builtin = Exception
        key = (name, builtin.__name__)
        if key not in self.exceptions:
            self.exceptions[key] = builtin if name == builtin.__name__ else type(name, (builtin,), {
                "__module__": "sandboxed_code", "__doc__": f"{name} raised by the sandboxed code"})
        return self.exceptions[key]

    def _exception(self, raised) -> BaseException:
        if type(raised) is not dict:
            return SandboxedCodeError("the code process sent a malformed exception")
        name = str(raised.get("name"))
        kind = self._exception_class(name if name.isidentifier() else "UnnamedException", str(raised.get("base")))
        message = str(raised.get("message"))
        for build in (lambda: kind(*_wire.decode(raised.get("args", []))), lambda: kind(message)):
            try:  # with its own arguments, else (a built-in exception that wants others) with the message
                built = build()
            except Exception:  # noqa: BLE001 - never let the failure pose as the code's exception
                built = None
            if isinstance(built, BaseException):
                return built
        return SandboxedCodeError(f"the code raised {name}, which cannot be rebuilt here: {message[:500]}")

    @staticmethod
    def _describe_raised(raised) -> str:
        return str(raised.get("message", "")) if type(raised) is dict else "no reason given"

    def close(self) -> None:
        if self.child is not None:
            self.child.kill()
            self.child.wait()


class RemoteObject:
    """Something of the code's that is not plain data (a function, an instance): usable only by request."""

    __slots__ = ("_process", "_handle", "_type", "_callable")

    def __init__(self, process: CodeProcess, handle: int, type_name: str, is_callable: bool) -> None:
        object.__setattr__(self, "_process", process)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_callable", is_callable)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._process.request({"op": "get", "handle": self._handle, "name": name})

    def __call__(self, *args, **kwargs):
        return self._process.request({"op": "call", "handle": self._handle, "args": _wire.encode(args),
                                      "kwargs": _wire.encode(kwargs)})

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"the tests cannot change the sandboxed code's {self._type} (set {name!r}); "
                             "give the case a `setup` that runs in the code's process instead")

    def __repr__(self) -> str:
        return f"<sandboxed {self._type}>"


class RemoteModule(types.ModuleType):
    """The module the tests import: every attribute comes from the code process."""

    def __init__(self, name: str, process: CodeProcess, handle: int) -> None:
        super().__init__(name)
        self.__dict__["_process"], self.__dict__["_handle"] = process, handle

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._process.request({"op": "get", "handle": self._handle, "name": name})

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"the tests cannot change the sandboxed module {self.__name__!r} (set {name!r}); "
                             "give the case a `setup` that runs in the code's process instead")


class Outcomes:
    """A pytest plugin that keeps each test's outcome, markers and message."""

    def __init__(self) -> None:
        self.tests: dict[str, dict] = {}
        self.errors: list[str] = []

    def pytest_itemcollected(self, item) -> None:
        self.tests[item.nodeid] = {"nodeid": item.nodeid, "outcome": "not run", "message": "", "seconds": 0.0,
                                   "markers": sorted({mark.name for mark in item.iter_markers()})}

    def pytest_deselected(self, items) -> None:
        for item in items:
            self.tests.pop(item.nodeid, None)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid or 'the test file'} did not collect: {_message(report)}")

    def pytest_runtest_logreport(self, report) -> None:
        entry = self.tests.setdefault(report.nodeid, {"nodeid": report.nodeid, "outcome": "not run",
                                                      "message": "", "seconds": 0.0, "markers": []})
        entry["seconds"] += report.duration
        if report.failed:
            if entry["outcome"] not in ("failed", "error"):
                entry["outcome"] = "failed" if report.when == "call" else "error"
                entry["message"] = _message(report)
        elif report.skipped and entry["outcome"] == "not run":
            entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
            entry["message"] = getattr(report, "wasxfail", "") or _message(report)
        elif report.when == "call" and report.passed:
            entry["outcome"] = "xpassed" if hasattr(report, "wasxfail") else "passed"


def _message(report) -> str:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None:
        return str(crash.message)[:1000]
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[-1])[:1000]
    lines = [line for line in str(report.longreprtext).splitlines() if line.strip()]
    return "\n".join(lines[-3:])[:1000]


def _die_with_parent() -> None:
    """Weak isolation (no PID namespace): this process and the code process die with the judge."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(1)


def main() -> None:
    config = json.loads(sys.argv[1])
    report_fd = config["report_fd"]
    if config["load_filter"]:  # weak isolation: no bwrap applied the filter
        import _seccomp

        _seccomp.load()
    if config["processes"]:  # counted per user namespace: this run's processes, the code's included
        resource.setrlimit(resource.RLIMIT_NPROC, (config["processes"], config["processes"]))
    for directory in config["site_dirs"]:
        site.addsitedir(directory)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    process = CodeProcess(config["code_command"], os.dup(2), weak=config["die_with_parent"])  # pytest captures fd 2 later
    sys.modules[config["module"]] = RemoteModule(config["module"], process, 0)
    sys.modules["sandbox_setup"] = RemoteModule("sandbox_setup", process, 1)  # the case's setup, run beside it
    outcomes = Outcomes()
    report: dict = {"exit": None, "tests": [], "errors": [], "code_error": ""}
    try:
        import pytest

        args = [config["tests"], "-q", "-p", "no:cacheprovider", "-p", "no:stepwise", "--strict-markers",
                "--rootdir", os.path.dirname(config["tests"]), "--basetemp", config["basetemp"],
                "-o", "markers=" + "\n".join(MARKERS), "-o", "console_output_style=classic", "-W", "ignore",
                *(f"--deselect={os.path.basename(config['tests'])}::{test}" for test in config["skip"])]
        report["exit"] = int(pytest.main(args, plugins=[outcomes]))
    except BaseException as err:  # noqa: BLE001 - report whatever stopped pytest
        report["errors"].append(f"pytest did not run: {type(err).__name__}: {err}")
    finally:
        process.close()
    report["tests"], report["code_error"] = list(outcomes.tests.values()), process.load_error
    report["errors"] += outcomes.errors
    os.write(report_fd, json.dumps(report).encode())
    os.close(report_fd)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
