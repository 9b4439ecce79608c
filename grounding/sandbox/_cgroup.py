"""A cgroup for a whole sandboxed run, where the host lets this process make one (root, or a delegated cgroup v2
subtree such as a systemd user scope): the kernel then bounds the run's memory, its tmpfs files and shared
memory included, and its number of processes, with no gap between two looks of the watchdog. Elsewhere
there is none and the watchdog alone bounds the run (_watchdog)."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "grounding-sandbox-"
STALE_SECONDS = 120  # an empty group this old was left by a judge that was killed before removing it


@dataclass(frozen=True)
class RunGroup:
    """The run's cgroup: one folder (v2) or one per controller (v1: memory, pids)."""

    version: int
    memory: Path
    pids: Path

    @property
    def bound(self) -> str:
        return f"cgroup v{self.version} (memory with tmpfs and shared memory, processes)"

    def enter(self) -> None:
        """Move the calling process into the group (run in the forked child before it runs the sandbox: plain
        system calls only)."""
        for folder in {self.memory, self.pids}:
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY)
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)

    def usage(self) -> int:
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        try:
            return int((self.memory / name).read_text())
        except (OSError, ValueError):
            return 0

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the run for going over the memory limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            for line in (self.memory / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def remove(self) -> None:
        for folder in {self.memory, self.pids}:
            for _ in range(50):  # killed processes leave the group a moment after the signal
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def run_group(memory_bytes: int, processes: int) -> RunGroup | None:
    """A new cgroup limited to `memory_bytes` (no swap) and `processes`, or None where none can be made."""
    try:
        return _v2(memory_bytes, processes) if (ROOT / "cgroup.controllers").exists() else _v1(memory_bytes,
                                                                                              processes)
    except (OSError, ValueError):
        return None


def _own(controller: str) -> str | None:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


def _name() -> str:
    return f"{PREFIX}{secrets.token_hex(6)}"


def _remove_stale(parent: Path) -> None:
    """Empty groups of runs whose judge was SIGKILLed: rmdir removes only a group without processes."""
    for folder in parent.glob(f"{PREFIX}*"):
        try:
            if time.time() - folder.stat().st_mtime > STALE_SECONDS:
                folder.rmdir()
        except OSError:
            pass


def _v1(memory_bytes: int, processes: int) -> RunGroup | None:
    memory_path, pids_path = _own("memory"), _own("pids")
    if memory_path is None or pids_path is None:
        return None
    name = _name()
    memory = ROOT / "memory" / memory_path.lstrip("/") / name
    pids = ROOT / "pids" / pids_path.lstrip("/") / name
    made = []
    try:
        for folder in (memory, pids):
            _remove_stale(folder.parent)
            folder.mkdir()
            made.append(folder)
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        if (memory / "memory.memsw.limit_in_bytes").exists():
            (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        (pids / "pids.max").write_text(str(processes))
    except OSError:
        for folder in made:
            folder.rmdir()
        return None
    return RunGroup(1, memory, pids)


def _v2(memory_bytes: int, processes: int) -> RunGroup | None:
    path = _own("")
    if path is None:
        return None
    parent = ROOT / path.lstrip("/")
    if not {"memory", "pids"} <= set((parent / "cgroup.subtree_control").read_text().split()):
        return None  # enabling them would need a parent without processes of its own
    _remove_stale(parent)
    group = parent / _name()
    group.mkdir()
    try:
        (group / "memory.max").write_text(str(memory_bytes))
        if (group / "memory.swap.max").exists():
            (group / "memory.swap.max").write_text("0")
        (group / "pids.max").write_text(str(processes))
    except OSError:
        group.rmdir()
        return None
    return RunGroup(2, group, group)
