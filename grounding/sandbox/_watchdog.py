"""Whole-run limits, enforced from outside: the run's processes together may use only so much memory,
CPU time and so many processes. Per-process rlimits cannot say this (six children of 1 GB each are six
GB); a cgroup can, but needs privileges a CI runner seldom has. The watchdog reads /proc."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stats() -> dict[int, tuple[int, int, float]]:
    """pid -> (parent pid, resident bytes, CPU seconds including reaped children) for live processes."""
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
        stats[int(entry.name)] = (int(fields[1]), resident, cpu)
    return stats


def descendants(root: int, stats: dict | None = None) -> list[int]:
    stats = _stats() if stats is None else stats
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, ()):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(root: int) -> None:
    for pid in [root, *descendants(root)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Watchdog(threading.Thread):
    """Polls the process tree under `root`; kills it and keeps the reason when it goes over a limit."""

    def __init__(self, root: int, *, memory_bytes: int, cpu_seconds: float, processes: int,
                 interval: float = 0.05) -> None:
        super().__init__(daemon=True, name=f"grounding-sandbox-watchdog-{root}")
        self.root, self.interval = root, interval
        self.memory_bytes, self.cpu_seconds, self.processes = memory_bytes, cpu_seconds, processes
        self.reason = ""
        self.peak_bytes = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            stats = _stats()
            if self.root not in stats:
                return
            tree = [self.root, *descendants(self.root, stats)]
            memory = sum(stats[pid][1] for pid in tree if pid in stats)
            cpu = sum(stats[pid][2] for pid in tree if pid in stats)
            self.peak_bytes = max(self.peak_bytes, memory)
            if memory > self.memory_bytes:
                self.reason = (f"the run used {memory / 2**20:.0f} MiB of memory together, over the whole-run "
                               f"limit of {self.memory_bytes / 2**20:.0f} MiB")
            elif cpu > self.cpu_seconds:
                self.reason = f"the run used {cpu:.1f} s of CPU time together, over the limit of {self.cpu_seconds:g} s"
            elif len(tree) > self.processes:
                self.reason = f"the run had {len(tree)} processes, over the limit of {self.processes}"
            if self.reason:
                kill_tree(self.root)
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
