"""A system-call filter for the sandboxed processes, built by libseccomp (through ctypes: standard library only,
as this file is also loaded inside the sandbox).

It denies (EPERM) what lets a process reach another one or hold memory nothing counts: ptrace and
reading or writing another process's memory (the code could otherwise drive its namespace's init, whose
limits are not the code's), stealing another process's descriptors, System V shared memory, message queues
and semaphores (segments outlive a detach, invisible to a resident-memory watch), and a few kernel surfaces no
generated code needs (keyrings, bpf, perf events, userfaultfd, io_uring). System calls of another
architecture (a 32-bit `int 0x80` on x86-64) kill the caller: libseccomp's default for a foreign architecture.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
          "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
          "semctl", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
          "io_uring_setup", "io_uring_enter", "io_uring_register")
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000


class FilterUnavailable(OSError):
    """libseccomp is not installed, or the filter could not be built."""


def _library():
    name = ctypes.util.find_library("seccomp")
    if name is None:
        raise FilterUnavailable("libseccomp is not installed (Debian/Ubuntu: apt-get install libseccomp2)")
    lib = ctypes.CDLL(name, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def _with_filter(use) -> None:
    lib = _library()
    context = lib.seccomp_init(_ALLOW)
    if not context:
        raise FilterUnavailable("libseccomp could not start a filter")
    try:
        for name in DENIED:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:  # not a system call on this architecture
                continue
            if lib.seccomp_rule_add(context, _ERRNO | errno.EPERM, number, 0) < 0:
                raise FilterUnavailable(f"libseccomp refused a rule for {name}")
        if use(lib, context) < 0:
            raise FilterUnavailable("libseccomp could not export or load the filter")
    finally:
        lib.seccomp_release(context)


def compiled() -> bytes:
    """The filter as a BPF program (for bubblewrap's `--seccomp FD`)."""
    fd = os.memfd_create("grounding-seccomp", 0)
    try:
        _with_filter(lambda lib, context: lib.seccomp_export_bpf(context, fd))
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 1 << 20)
    finally:
        os.close(fd)


def load() -> None:
    """Apply the filter to this process and everything it starts (sets no-new-privileges first, as the kernel
    requires of an unprivileged process)."""
    _with_filter(lambda lib, context: lib.seccomp_load(context))
