"""Which isolation the operating system gives, and the bubblewrap command lines that apply it.

bubblewrap (`bwrap`, Debian package `bubblewrap`) runs unprivileged on user namespaces. Each run gets a PID
namespace (everything dies with it), no network, a mount namespace that shows only the Python installation
read-only plus size-limited tmpfs folders, and a uid of its own: as root, bwrap sets the namespaces up with
its privileges and `setpriv` then drops to a per-run uid; as an ordinary user, a user namespace maps one.
Without bwrap the sandbox refuses to run code unless weak isolation (limits and a process group only) is
accepted explicitly.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import site
# bandit B404: starts bubblewrap with argument lists, never a shell
import subprocess  # nosec B404
import sys
from dataclasses import dataclass
from pathlib import Path

from grounding.errors import GroundingUsageError
from grounding.sandbox import _seccomp

WEAK_ENV = "GROUNDING_SANDBOX_WEAK"
HERE = Path(__file__).parent
CHILD_FILES = ("_tests_child.py", "_code_child.py", "_wire.py", "_seccomp.py")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/etc/ssl")
LAYERS = {
    "pid-namespace": "the run's processes see only each other and all die with it",
    "user-namespace": "a uid of the run's own, no capabilities on the host",
    "mount-namespace": "only the Python installation (read-only) and size-limited tmpfs work folders are visible",
    "no-network": "an empty network namespace: no loopback services, no internet",
    "separate-code-process": "the code runs in its own namespaces, apart from the tests, and returns plain data",
    "syscall-filter": "no ptrace or access to another process's memory or descriptors, no System V IPC, keyrings, "
                      "bpf, perf events, userfaultfd or io_uring (seccomp)",
    "limits": "CPU time, memory, file size, open files and processes, per process and for the whole run; "
              "the run's files (/work, /tmp, /dev/shm) count in its memory",
}
WEAK_LAYERS = ("limits", "separate-code-process-weak", "process-group")


class SandboxUnavailable(GroundingUsageError):
    """No isolation layer is available and weak isolation was not accepted."""


@dataclass(frozen=True)
class Isolation:
    """How a run is isolated: through bwrap (`bwrap` is its path) or weakly (None); `seccomp` is the system-call
    filter as a BPF program, or empty where libseccomp is missing."""

    bwrap: str | None
    as_root: bool
    seccomp: bytes = b""

    @property
    def weak(self) -> bool:
        return self.bwrap is None

    @property
    def layers(self) -> tuple[str, ...]:
        filtered = ("syscall-filter",) if self.seccomp else ()
        if self.weak:
            return WEAK_LAYERS + filtered
        return tuple(name for name in LAYERS if name != "syscall-filter" or filtered)

    @property
    def missing(self) -> tuple[str, ...]:
        """The layers of full isolation this run goes without."""
        return tuple(name for name in LAYERS if name not in self.layers and name != "limits")


def isolation(allow_weak: bool = False) -> Isolation:
    """The strongest isolation available; refuses when there is none unless weak isolation is accepted."""
    bwrap, seccomp = _working_bwrap(), _filter()
    if bwrap and seccomp:
        return Isolation(bwrap, os.geteuid() == 0, seccomp)
    if allow_weak or os.environ.get(WEAK_ENV) == "1":
        iso = Isolation(bwrap, os.geteuid() == 0, seccomp)
        _warn_weak(iso.missing)
        return iso
    if bwrap:
        raise SandboxUnavailable(
            "Generated code cannot be run: the system-call filter needs libseccomp, which is not installed "
            "(Debian/Ubuntu: `apt-get install libseccomp2`). Without it the code could ptrace its sandbox's init "
            "and run with none of the limits. To accept that anyway, pass --allow-weak-sandbox (or set "
            f"{WEAK_ENV}=1).")
    raise SandboxUnavailable(
        "Generated code cannot be run: no isolation layer is available. The sandbox needs bubblewrap (`bwrap`) "
        "with user namespaces (Debian/Ubuntu: `apt-get install bubblewrap`; where user namespaces are "
        "switched off, `sysctl kernel.unprivileged_userns_clone=1`). Without it the code would run with only "
        "resource limits, able to read your files and reach your network. To accept that anyway, pass "
        f"--allow-weak-sandbox (or set {WEAK_ENV}=1).")


@functools.cache
def _warn_weak(missing: tuple[str, ...]) -> None:
    """Said once per process, on stderr: what weak isolation leaves out."""
    if missing == ("syscall-filter",):
        harm = "it can ptrace its sandbox's init and run without limits; install libseccomp2"
    else:
        harm = ("it can read your files, reach your network and, as the same user, the tests' process; install "
                "bubblewrap (and libseccomp2)")
    print(f"grounding: generated code runs under WEAK isolation, without {', '.join(missing)}: {harm} for the full "
          "sandbox", file=sys.stderr)


@functools.cache
def _filter() -> bytes:
    try:
        return _seccomp.compiled()
    except OSError:
        return b""


@functools.cache
def _working_bwrap() -> str | None:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    probe = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    if os.geteuid() != 0:
        probe[1:1] = ["--unshare-user"]
    try:
        # bandit B603: a fixed bwrap probe command, no shell
        ok = subprocess.run(probe, capture_output=True, timeout=30).returncode == 0  # nosec B603
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return bwrap if ok else None


def run_uid() -> int:
    """A uid no account and no other run has: processes limits and signals then reach only this run."""
    return 200_000 + secrets.randbelow(1_000_000_000)


@functools.cache
def python_paths() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(folders to show read-only, site folders to add): the interpreter's installation and its site-packages."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    sites = [p for p in sys.path if os.path.isdir(p) and os.path.basename(p) in ("site-packages", "dist-packages")]
    sites += [p for p in site.getsitepackages() if os.path.isdir(p)]
    sites = list(dict.fromkeys(os.path.realpath(p) for p in sites))
    shown = sorted(prefixes | set(sites) | {os.path.dirname(os.path.realpath(sys.executable))})
    top = [p for p in shown if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in shown)]
    return tuple(p for p in top if not p.startswith("/usr/")), tuple(sites)


def _binds(paths) -> list[str]:
    """Bind each path at its own place, its parent folders created traversable (bwrap makes them 0700 as root)."""
    # bandit B108: folders inside the sandbox, which bwrap makes itself
    args, made = [], {"/", "/usr", "/work", "/tmp"}  # nosec B108
    for path in paths:
        parents = Path(path).parents
        for parent in reversed([str(p) for p in parents]):
            if parent not in made:
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", path, path]
    return args


def _system() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--perms", "0755", "--dir", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        target = os.path.join("/", name)
        if os.path.islink(target):
            args += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target):
            args += ["--ro-bind", target, target]
    for path in SYSTEM_FILES:
        args += ["--ro-bind-try", path, path]
    return args


def _env() -> list[str]:
    # bandit B108: /tmp inside the sandbox: a private tmpfs of the run's own
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/work", "TMPDIR": "/tmp",  # nosec B108
           "USER": "sandbox", "LOGNAME": "sandbox", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    return ["--clearenv"] + [arg for key, value in env.items() for arg in ("--setenv", key, value)]


def namespaces(uid: int, *, user: bool) -> list[str]:
    args = ["--unshare-user", "--uid", str(uid), "--gid", str(uid)] if user else []
    return args + ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                   "--die-with-parent", "--new-session", "--hostname", "sandbox"]


def _shm(disk_bytes: int) -> list[str]:
    """A size-limited /dev/shm (bwrap's own lies on the /dev tmpfs, which has no size limit)."""
    # bandit B108: the sandbox's own /dev/shm, a private size-limited tmpfs, not the host's
    return ["--perms", "1777", "--size", str(disk_bytes), "--tmpfs", "/dev/shm"]  # nosec B108


def outer_command(iso: Isolation, uid: int, disk_bytes: int, data: dict[str, int], argv: list[str], *,
                  seccomp_fd: int | None = None) -> list[str]:
    """The tests process's sandbox: `data` maps a path inside to a descriptor whose content it gets; the filter
    read from `seccomp_fd` holds for the tests process and everything it starts, the code's sandbox included."""
    shown, _ = python_paths()
    filtered = ["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []
    args = [iso.bwrap, *namespaces(uid, user=not iso.as_root), *_env(), *filtered,
            "--perms", "1777", "--size", str(disk_bytes), "--tmpfs", "/work",
            # bandit B108: the sandbox's private, size-limited tmpfs, not the host's /tmp
            "--perms", "1777", "--size", str(disk_bytes), "--tmpfs", "/tmp",  # nosec B108
            *_system(), *_binds(shown), "--proc", "/proc", "--dev", "/dev", *_shm(disk_bytes)]
    for folder in ("/sandbox", "/tests", "/code"):
        args += ["--perms", "0755", "--dir", folder]
    for name in CHILD_FILES:
        args += ["--ro-bind", str(HERE / name), f"/sandbox/{name}"]
    for path, fd in data.items():
        args += ["--perms", "0644", "--ro-bind-data", str(fd), path]
    args += ["--chdir", "/work"]
    if iso.as_root:
        args += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--no-new-privs", "--"]
    return args + argv


def inner_command(iso: Isolation, uid: int, disk_bytes: int, argv: list[str]) -> list[str]:
    """The code process's sandbox, started from inside the tests' one: the shared work folders, no more. It has
    the tests' uid inside, so that both see the files of the shared folders as their own ("sandbox")."""
    shown, _ = python_paths()
    return [iso.bwrap, *namespaces(uid, user=True), "--disable-userns", *_env(), "--bind", "/work", "/work",
            # bandit B108: the outer sandbox's private tmpfs, bound into the inner one
            "--bind", "/tmp", "/tmp", *_system(), "--ro-bind", "/etc", "/etc", *_binds(shown), "--dev", "/dev",  # nosec B108
            *_shm(disk_bytes), "--ro-bind", "/code", "/code", "--ro-bind", "/sandbox", "/sandbox", "--chdir", "/work", *argv]
