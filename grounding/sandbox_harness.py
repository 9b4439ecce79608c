"""The sandbox's child process: confine itself, then import generated code and run its tests.

Run only by grounding.sandbox as `python -I -B sandbox_harness.py WORKDIR LIMITS_JSON` with a one-line
nonce on stdin. Standard library only. Everything before `_confine()` returns is trusted; after it the
process holds generated code and reports through a nonce-tagged line on its original stdout.

Layers, each effective on its own: a network namespace (when the kernel allows it), resource limits
(CPU time, address space, file size, open files, processes), a drop to the `nobody` user when started
as root, and an audit hook that refuses forking, ctypes, sockets, signals to other processes and writes
outside the working directory.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback

CLONE_NEWNET, CLONE_NEWNS = 0x40000000, 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
NOBODY = 65534
# Imported before privileges drop, so generated code can use them although the interpreter's own
# library directory may be unreadable to `nobody`.
PRELOADED = ("argparse", "ast", "base64", "binascii", "collections", "contextlib", "copy", "csv", "dataclasses",
             "datetime", "decimal", "enum", "fractions", "functools", "glob", "hashlib", "hmac", "html", "io",
             "ipaddress", "itertools", "json", "logging", "math", "operator", "os.path", "pathlib", "pickle",
             "random", "re", "secrets", "shlex", "shutil", "sqlite3", "statistics", "string", "struct",
             "subprocess", "tempfile", "textwrap", "typing", "unicodedata", "urllib.parse", "urllib.request",
             "uuid", "xml.etree.ElementTree", "zlib", "yaml", "socket", "inspect", "unittest", "traceback",
             "encodings.idna", "requests")
REFUSED_EVENTS = {"os.fork", "os.forkpty", "os.kill", "os.killpg", "os.chroot", "ctypes.dlopen",
                  "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata", "socket.__new__", "socket.connect",
                  "socket.bind", "socket.getaddrinfo", "socket.gethostbyname", "sys.settrace", "sys.setprofile",
                  "sys.remote_exec"}
REFUSED_IMPORTS = {"ctypes", "_ctypes", "cffi", "mmap", "resource", "faulthandler", "_posixshmem"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
PATH_EVENTS = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link", "os.symlink",
               "os.truncate", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile", "os.mkfifo",
               "os.mknod"}


def _namespaces(workdir: str) -> tuple[str, dict]:
    """A private network (none) and, as root, private scratch filesystems; returns the new workdir."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    layers = {"network_namespace": libc.unshare(CLONE_NEWNET) == 0, "private_tmp": False}
    if os.geteuid() == 0 and libc.unshare(CLONE_NEWNS) == 0 and libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE,
                                                                        None) == 0:
        # Hide world-writable directories behind throwaway tmpfs mounts, so that programs the generated
        # code starts (which the audit hook does not see) cannot leave files behind; keep the workdir
        # reachable by binding it back in at /tmp/work.
        keep = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
        for directory in SHARED_WRITABLE:
            if os.path.isdir(directory):
                libc.mount(b"tmpfs", directory.encode(), b"tmpfs", 0, b"size=16m,mode=1777")
        os.mkdir("/tmp/work")
        if libc.mount(f"/proc/self/fd/{keep}".encode(), b"/tmp/work", None, MS_BIND, None) == 0:
            workdir, layers["private_tmp"] = "/tmp/work", True
        os.close(keep)
    for name in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes"))]:
        del sys.modules[name]  # so that importing ctypes again goes through the audit hook
    return workdir, layers


def _own_process_count() -> int:
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        try:
            count += entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid
        except OSError:
            pass
    return count


def _limit(kind: int, value: int, hard: int | None = None) -> None:
    """Lower a limit; the soft limit signals (SIGXCPU for CPU time), the hard one kills."""
    _, ceiling = resource.getrlimit(kind)
    hard = value if hard is None else hard
    if ceiling != resource.RLIM_INFINITY:
        value, hard = min(value, ceiling), min(hard, ceiling)
    resource.setrlimit(kind, (value, hard))


def _inside(workdir: str, path: object) -> bool:
    if isinstance(path, int):  # an already open descriptor: checked when it was opened
        return True
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    resolved = os.path.realpath(os.path.join(workdir, os.fspath(path)))
    return resolved == workdir or resolved.startswith(workdir + os.sep) or resolved == os.devnull


def _audit_hook(workdir: str):
    def refuse(event: str, detail: str = "") -> None:
        raise PermissionError(f"sandbox: {event} is not allowed{detail}")

    def hook(event: str, args: tuple) -> None:
        if event in REFUSED_EVENTS:
            refuse(event)
        elif event == "import" and args[0].split(".")[0] in REFUSED_IMPORTS:
            refuse("import", f" ({args[0]})")
        elif event == "open":
            path, mode, flags = args
            writes = (mode is not None and any(c in str(mode) for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & WRITE_FLAGS)
            if writes and not _inside(workdir, path):
                refuse("writing", f" outside the working directory ({path})")
        elif event in PATH_EVENTS:
            for arg in args[:2]:
                if isinstance(arg, (str, bytes, os.PathLike)) and not _inside(workdir, arg):
                    refuse(event, f" outside the working directory ({arg})")

    return hook


def _confine(workdir: str, limits: dict) -> tuple[str, dict]:
    for name in PRELOADED:
        try:
            __import__(name)
        except ImportError:
            pass
    workdir, layers = _namespaces(workdir)
    import tempfile

    os.environ["TMPDIR"] = os.environ["HOME"] = tempfile.tempdir = workdir
    root = os.geteuid() == 0
    if root:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    _limit(resource.RLIMIT_CPU, limits["cpu_seconds"], hard=limits["cpu_seconds"] + 1)
    _limit(resource.RLIMIT_AS, limits["memory_bytes"])
    _limit(resource.RLIMIT_FSIZE, limits["file_bytes"])
    _limit(resource.RLIMIT_NOFILE, limits["open_files"])
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NPROC, _own_process_count() + limits["processes"])
    sys.addaudithook(_audit_hook(workdir))
    return workdir, layers | {"dropped_to_nobody": root}


def _run_tests(namespace: dict) -> list[dict]:
    results = []
    for name, test in [(n, f) for n, f in list(namespace.items()) if n.startswith("test_") and callable(f)]:
        start = time.monotonic()
        try:
            test()
            results.append({"name": name, "passed": True, "error": "", "seconds": time.monotonic() - start})
        except BaseException as err:  # noqa: BLE001 - generated code may raise anything, SystemExit included
            summary = traceback.format_exception_only(type(err), err)[-1].strip()
            results.append({"name": name, "passed": False, "error": summary[:500],
                            "seconds": time.monotonic() - start})
    return results


def main() -> None:
    workdir, limits = os.path.realpath(sys.argv[1]), json.loads(sys.argv[2])
    nonce = sys.stdin.readline().strip()
    report = os.dup(1)
    sys.stdin = open(os.devnull)
    workdir, layers = _confine(workdir, limits)
    os.chdir(workdir)
    sys.path.insert(0, workdir)
    outcome: dict = {"layers": layers, "imported": False, "error": "", "tests": []}
    try:
        with open(os.path.join(workdir, "tests.py")) as handle:
            source = handle.read()
        namespace: dict = {"__name__": "grounding_tests"}
        exec(compile(source, "tests.py", "exec"), namespace)  # tests.py imports the solution module
        outcome["imported"] = True
        outcome["tests"] = _run_tests(namespace)
    except BaseException as err:  # noqa: BLE001
        outcome["error"] = traceback.format_exception_only(type(err), err)[-1].strip()[:500]
    os.write(report, f"\n{nonce} {json.dumps(outcome)}\n".encode())
    os._exit(0)


if __name__ == "__main__":
    main()
