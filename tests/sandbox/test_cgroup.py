"""The run's cgroup on a cgroup v2 host, against a folder laid out as the kernel lays one out (this machine and CI
have cgroup v1, which tests/sandbox/test_sandbox.py exercises for real): the files written, the limits, the
reading of usage and of the kernel's OOM kills, and the refusal where the parent does not delegate the
controllers."""

from __future__ import annotations

import os
import time
from pathlib import Path

from grounding.sandbox import _cgroup


def _host(tmp_path, monkeypatch, delegated: str) -> Path:
    root = tmp_path / "cgroup"
    (root / "user.slice").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "user.slice" / "cgroup.subtree_control").write_text(delegated)
    monkeypatch.setattr(_cgroup, "ROOT", root)
    monkeypatch.setattr(_cgroup, "_own", lambda controller: "/user.slice" if controller == "" else None)
    return root / "user.slice"


def test_a_v2_group_is_made_under_the_own_cgroup_with_memory_swap_and_process_limits(tmp_path, monkeypatch):
    parent = _host(tmp_path, monkeypatch, "memory pids\n")
    stale = parent / f"{_cgroup.PREFIX}left-by-a-killed-judge"
    stale.mkdir()
    os.utime(stale, (time.time() - 2 * _cgroup.STALE_SECONDS,) * 2)
    group = _cgroup.run_group(300 << 20, 22)
    assert group is not None and group.version == 2 and group.memory == group.pids
    assert group.memory.parent == parent and group.memory.name.startswith(_cgroup.PREFIX) and not stale.exists()
    assert (group.memory / "memory.max").read_text() == str(300 << 20)
    assert (group.memory / "pids.max").read_text() == "22"
    (group.memory / "memory.current").write_text("12345\n")
    (group.memory / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n")
    assert group.usage() == 12345 and not group.out_of_memory()
    (group.memory / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n")
    assert group.out_of_memory() and group.bound.startswith("cgroup v2")


def test_without_memory_and_pids_delegated_there_is_no_group_and_the_watchdog_alone_bounds_the_run(tmp_path,
                                                                                                  monkeypatch):
    parent = _host(tmp_path, monkeypatch, "cpu\n")
    assert _cgroup.run_group(300 << 20, 22) is None
    assert not [p for p in parent.iterdir() if p.name.startswith(_cgroup.PREFIX)]
