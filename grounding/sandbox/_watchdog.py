"""Whole-run limits, enforced from outside: the run's processes together may use only so much memory,
CPU time and so many processes. Per-process rlimits cannot say this (six children of 1 GB each are six
GB); a cgroup can, but needs privileges a CI runner seldom has. The watchdog reads /proc. Memory is the
processes' resident memory plus what the run's own tmpfs folders hold (/work, /tmp, /dev/shm: files there
are memory too, and outlive the process that wrote them)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
POLL_SECONDS = 0.05
INODE_BYTES = 1024  # what a tmpfs file costs the kernel beyond its data (inode and directory entry), rounded up


def _stats() -> dict[int, tuple[int, int, float, float]]:
    """pid -> (parent pid, resident bytes, CPU seconds including waited-for children, its own CPU seconds) for live
    processes."""
    stats = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            resident = int(Path(entry.path, "statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        if fields[0] in "ZX":
            continue
        cpu = sum(int(f) for f in fields[11:15]) / TICKS
        stats[int(entry.name)] = (int(fields[1]), resident, cpu, sum(int(f) for f in fields[11:13]) / TICKS)
    return stats


def descendants(root: int, stats: dict | None = None) -> list[int]:
    stats = _stats() if stats is None else stats
    children: dict[int, list[int]] = {}
    for pid, (parent, *_) in stats.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, ()):
            found.append(child)
            todo.append(child)
    return found


def _host_devices() -> set[str]:
    """The devices of the judge's own mounts: a sandbox's fresh tmpfs folders are none of these."""
    return {line.split()[2] for line in Path("/proc/self/mountinfo").read_text().splitlines()}


def tmpfs_bytes(pids, host: set[str]) -> int:
    """Bytes held in the tmpfs folders mounted in the mount namespaces of `pids` and not on the host."""
    namespaces, seen, held = set(), set(), 0
    for pid in pids:
        try:
            namespace = os.readlink(f"/proc/{pid}/ns/mnt")
            if namespace in namespaces:
                continue
            namespaces.add(namespace)
            mounts = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
        except OSError:
            continue
        for line in mounts:
            fields = line.split()
            device, point = fields[2], fields[4]
            if fields[fields.index("-") + 1] != "tmpfs" or device in host or device in seen:
                continue
            seen.add(device)
            try:
                usage = os.statvfs(f"/proc/{pid}/root{point}")
            except OSError:
                continue
            held += (usage.f_blocks - usage.f_bfree) * usage.f_frsize
            held += (usage.f_files - usage.f_ffree) * INODE_BYTES  # empty files hold kernel memory too
    return held


def kill_tree(root: int) -> None:
    for pid in [root, *descendants(root)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Watchdog(threading.Thread):
    """Polls the process tree under `root`; kills it and keeps the reason when it goes over a limit."""

    def __init__(self, root: int, *, memory_bytes: int, cpu_seconds: float, processes: int,
                 interval: float | None = None, group=None) -> None:
        super().__init__(daemon=True, name=f"grounding-sandbox-watchdog-{root}")
        self.root, self.interval = root, interval or POLL_SECONDS
        self.memory_bytes, self.cpu_seconds, self.processes = memory_bytes, cpu_seconds, processes
        self.reason = ""
        self.peak_bytes = 0
        self._stop_event = threading.Event()
        self._host = _host_devices()
        self.group = group
        self._cpu_seen: dict[int, float] = {}

    @property
    def bound(self) -> str:
        """What bounds the whole run: the kernel through the run's cgroup, or this watchdog alone."""
        polled = f"watchdog every {self.interval * 1000:.0f} ms"
        return f"{self.group.bound} and {polled}" if self.group else f"{polled} (resident memory and tmpfs files)"

    def kill(self, reason: str) -> None:
        """Kill the run now, keeping the first reason given."""
        self.reason = self.reason or reason
        kill_tree(self.root)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            stats = _stats()
            if self.root not in stats:
                return
            tree = [self.root, *descendants(self.root, stats)]
            files = tmpfs_bytes(tree, self._host)
            if self.group:  # the kernel's count: resident memory, tmpfs files and shared memory together
                memory = self.group.usage()
            else:
                memory = sum(stats[pid][1] for pid in tree if pid in stats) + files
            # Two lower bounds of the run's CPU time, without counting anything twice: the live processes with the
            # children they waited for, and every process ever seen with what it last used itself (a child reaped
            # by the kernel, its parent ignoring SIGCHLD, passes its time to no parent).
            for pid in tree:
                if pid in stats:
                    self._cpu_seen[pid] = stats[pid][3]
            cpu = max(sum(stats[pid][2] for pid in tree if pid in stats), sum(self._cpu_seen.values()))
            self.peak_bytes = max(self.peak_bytes, memory)
            reason = ""
            if memory > self.memory_bytes:
                reason = (f"the run used {memory / 2**20:.0f} MiB of memory together ({files / 2**20:.0f} MiB "
                          f"in files in /work, /tmp or /dev/shm), over the whole-run limit of "
                          f"{self.memory_bytes / 2**20:.0f} MiB")
            elif cpu > self.cpu_seconds:
                reason = f"the run used {cpu:.1f} s of CPU time together, over the limit of {self.cpu_seconds:g} s"
            elif len(tree) > self.processes:
                reason = f"the run had {len(tree)} processes, over the limit of {self.processes}"
            if reason:
                self.kill(reason)
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
