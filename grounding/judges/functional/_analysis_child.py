"""The analysis worker: parses generated code and runs bandit on it, under resource limits, for the judge.

Run by grounding.judges.functional.analysis as `python -I -B _analysis_child.py CONFIG_JSON` (standard library
and bandit only; nothing of grounding is imported). It reads one JSON request per line on stdin, {"code": STR},
and answers each with one JSON line on stdout. Its address space is capped for its whole life and its CPU time
per request; a request that blows either kills it, and the judge, which sees it die, starts another. The code
goes to bandit through an anonymous in-memory file: nothing is written to disk, so nothing is left if it dies.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import resource
import sys
import tempfile


def _limit(kind: int, soft: int, hard: int | None = None) -> None:
    resource.setrlimit(kind, (soft, soft if hard is None else hard))


def _memory_file() -> int:
    """A descriptor of a file with no name: memfd where there is one, else an unlinked temporary file."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("grounding-analysis", os.MFD_CLOEXEC)
    return os.dup(tempfile.TemporaryFile().fileno())


class _Caught(logging.Handler):
    """Keeps the exception bandit logs (at debug level) when it gives up on a file, to say why."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.errors += [arg for arg in record.args or () if isinstance(arg, BaseException)]


def _near_memory_limit(limit: int) -> bool:
    """Whether this process's address space has come within a quarter of `limit` (Linux; else assumed)."""
    try:
        with open("/proc/self/status") as status:
            peak = next(line for line in status if line.startswith("VmPeak:"))
    except (OSError, StopIteration):
        return True
    return int(peak.split()[1]) * 1024 >= 0.75 * limit


def _parse(code: str, memory_bytes: int) -> dict | None:
    """None when the code parses, else the reply that says why not."""
    try:
        ast.parse(code)
    except SyntaxError as err:
        return {"syntax_error": f"{err.msg} (line {err.lineno})"}
    except ValueError as err:  # e.g. null bytes
        return {"syntax_error": str(err)}
    except RecursionError:
        return {"problem": "deep", "detail": "Python's parser ran out of recursion depth"}
    except MemoryError:  # also how the parser says that its own stack overflowed (Python 3.11)
        if _near_memory_limit(memory_bytes):
            raise
        return {"problem": "deep", "detail": "Python's parser ran out of stack"}
    return None


def _scan(config, manager, fd: int, data: bytes, caught: _Caught) -> dict:
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    bandit = manager.BanditManager(config, "file", ignore_nosec=True, quiet=True)
    bandit.discover_files([f"/dev/fd/{fd}"])
    caught.errors.clear()
    bandit.run_tests()
    if bandit.skipped:  # bandit gives up on a file it cannot walk and reports nothing for it: never a pass
        error = caught.errors[0] if caught.errors else None
        kind = "deep" if isinstance(error, RecursionError) else "memory" if isinstance(error, MemoryError) else "bandit"
        return {"problem": kind, "detail": f"bandit: {bandit.skipped[0][1]}" + (f" ({error!r})" if error else "")}
    return {"findings": [[i.test_id, i.test, i.cwe.id if i.cwe and i.cwe.id else None, i.severity.lower(),
                          i.confidence.lower(), i.lineno, i.text] for i in bandit.get_issue_list()]}


def _answer(reply: dict) -> None:
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


def main() -> None:
    limits = json.loads(sys.argv[1])
    sys.path[:] = limits["path"]  # the judge's own, less the folder of this file (its bandit.py is not bandit)
    logging.getLogger("bandit").setLevel(logging.ERROR)
    logging.getLogger("stevedore.extension").setLevel(logging.CRITICAL)  # bandit's unused SARIF formatter plugin
    caught = _Caught()
    logging.getLogger("bandit.core.manager").setLevel(logging.DEBUG)
    logging.getLogger("bandit.core.manager").addHandler(caught)
    try:
        from bandit.core import config, manager  # (its import loads the plugins: the levels must be set first)

        bandit_config = config.BanditConfig()
        fd = _memory_file()
        _limit(resource.RLIMIT_AS, limits["memory_bytes"])
        _limit(resource.RLIMIT_CORE, 0)
        _limit(resource.RLIMIT_FSIZE, limits["file_bytes"])
    except Exception as err:  # e.g. bandit missing: the judge stops with this, it is no verdict on any code
        _answer({"error": f"{type(err).__name__}: {err}"})
        return
    _answer({"ready": True})
    cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    cpu_ceiling = sys.maxsize if cpu_hard == resource.RLIM_INFINITY else cpu_hard
    for line in sys.stdin:
        used = resource.getrusage(resource.RUSAGE_SELF)
        # the soft limit moves with each request (SIGXCPU ends the process when it is reached)
        soft = int(used.ru_utime + used.ru_stime) + 1 + limits["cpu_seconds"]
        _limit(resource.RLIMIT_CPU, min(soft, cpu_ceiling), cpu_hard)
        try:
            code = json.loads(line)["code"]
            data = code.encode("utf-8")
            reply = _parse(code, limits["memory_bytes"]) or _scan(bandit_config, manager, fd, data, caught)
        except UnicodeEncodeError:
            reply = {"syntax_error": "not valid Unicode text (a lone surrogate)"}
        except MemoryError:
            reply = {"problem": "memory", "detail": "the analysis ran out of memory"}
        except RecursionError:
            reply = {"problem": "deep", "detail": "the analysis ran out of recursion depth"}
        _answer(reply)
        if reply.get("problem") == "memory":
            return  # start afresh: the judge starts another worker for the next request


if __name__ == "__main__":
    main()
