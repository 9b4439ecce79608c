"""The code process: import the generated code and answer calls on it with plain data.

Run by the tests process (in the sandbox's innermost layer) as
`python -I -B _code_child.py CONFIG_JSON`; standard library only. It reads one JSON request per line on
stdin and answers one JSON line on its original stdout, which it keeps on a private descriptor: what the
code prints goes to stderr. Values cross only through _wire, so nothing the code makes, its own classes,
`__eq__` methods and exceptions included, reaches the tests' interpreter.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import site
import sys
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves it out
import _wire  # noqa: E402

SETUP_MODULE = "sandbox_setup"  # the case's setup, importable by the tests too


def _limit(kind: int, value: int) -> None:
    _, ceiling = resource.getrlimit(kind)
    if ceiling != resource.RLIM_INFINITY:
        value = min(value, ceiling)
    resource.setrlimit(kind, (value, value))


def _confine(config: dict) -> None:
    _limit(resource.RLIMIT_CPU, config["cpu_seconds"])
    _limit(resource.RLIMIT_AS, config["memory_bytes"])
    _limit(resource.RLIMIT_FSIZE, config["file_bytes"])
    _limit(resource.RLIMIT_NOFILE, config["open_files"])
    _limit(resource.RLIMIT_CORE, 0)
    # Counted per user namespace: this process and its namespace's init are all there is, so 1 refuses
    # every new process.
    _limit(resource.RLIMIT_NPROC, config["processes"] if config["subprocess"] else 1)


class Server:
    """Objects the tests hold by handle (an instance the code returned), and the requests on them."""

    def __init__(self, module, setup) -> None:
        self.objects = {0: module, 1: setup}

    def target(self, request: dict):
        handle = request.get("handle", 0)
        if type(handle) is not int or handle not in self.objects:
            raise _wire.WireError(f"no object with handle {handle!r}")
        return self.objects[handle]

    def describe(self, value) -> dict:
        if isinstance(value, type) and issubclass(value, BaseException):
            return {"kind": "exception_class", "name": value.__name__, "base": _builtin_base(value)}
        try:
            return {"kind": "value", "value": _wire.encode(value)}
        except _wire.WireError:
            pass
        handle = len(self.objects)
        self.objects[handle] = value
        return {"kind": "callable" if callable(value) else "object", "handle": handle,
                "type": type(value).__qualname__}

    def answer(self, request: dict) -> dict:
        target = self.target(request)
        if request.get("op") == "get":
            return {"ok": self.describe(getattr(target, str(request["name"])))}
        if request.get("op") == "call":
            args = _wire.decode(request["args"])
            kwargs = _wire.decode(request["kwargs"])
            if type(args) is not tuple or type(kwargs) is not dict:
                raise _wire.WireError("malformed call")
            return {"ok": self.describe(target(*args, **kwargs))}
        raise _wire.WireError(f"unknown request {request.get('op')!r}")


def _builtin_base(kind: type) -> str:
    """The nearest built-in exception class: what the tests see when the code raises `kind`."""
    for base in kind.__mro__:
        if base.__module__ == "builtins":
            return base.__name__
    return "Exception"


def _raised(err: BaseException) -> dict:
    message = traceback.format_exception_only(type(err), err)[-1].strip()
    return {"raised": {"name": type(err).__name__, "base": _builtin_base(type(err)),
                       "message": message[:2000], "args": _plain_args(err)}}


def _plain_args(err: BaseException) -> list:
    try:
        return _wire.encode(list(err.args))
    except (_wire.WireError, RecursionError):
        return [str(err)[:2000]]


def main() -> None:
    config = json.loads(sys.argv[1])
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    for directory in config["site_dirs"]:
        site.addsitedir(directory)
    _confine(config)
    sys.path.insert(0, config["code_dir"])

    def send(message: dict) -> None:
        os.write(replies, _wire.dumps(message))

    try:
        setup = types.ModuleType(SETUP_MODULE)
        sys.modules[SETUP_MODULE] = setup
        # bandit B102: the case's setup code, run inside the code's sandbox on purpose (it stubs what the code imports)
        exec(compile(config.get("setup") or "", "<sandbox setup>", "exec"), setup.__dict__)  # nosec B102
        server = Server(importlib.import_module(config["module"]), setup)
    except BaseException as err:  # noqa: BLE001 - the generated code may raise anything, SystemExit included
        send({"ready": False, **_raised(err)})
        return
    send({"ready": True})
    for line in requests:
        try:
            reply = server.answer(_wire.loads(line))
        except BaseException as err:  # noqa: BLE001
            reply = _raised(err)
        try:
            send(reply)
        except _wire.WireError as err:
            send(_raised(err))


if __name__ == "__main__":
    main()
