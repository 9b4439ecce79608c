"""pytest-xdist workers sharing one run (`pytest suites/ -n N`).

The controller gives every worker the run's id (`pytest_configure_node`). A worker that needs a modality claims
chunks of its cases one at a time (an exclusively created file in a folder named by the run id), generates and
judges each into the store's caches, and, when no chunk is left to claim, waits until every claimed chunk is
done; then it reads the whole modality back from the caches, so every worker holds the same records and the
same verdicts as a run without xdist. Workers send their records to the controller, which stores the one run.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from grounding.errors import GroundingUsageError

T = TypeVar("T")
POLL_SECONDS = 0.2
CHUNKS_PER_WORKER = 2  # enough to balance uneven workers, few enough that each chunk fills a batch


@dataclass(frozen=True)
class Worker:
    """This process's place among the run's xdist workers."""

    index: int
    count: int
    run_id: str

    @property
    def folder(self) -> Path:
        folder = meeting_folder(self.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def judge_modality(self, checkpoint, cases: Sequence, settings, store, state, baseline):
        """run.judge_modality for this worker: its share of chunks into the caches first, then the whole modality
        from the caches (the model, loaded for a chunk, is not loaded again)."""
        from grounding.adapters._lazy import LazyAdapter
        from grounding.inputs._checkpoint import content_hash
        from grounding.running._orchestrator import RunState, judge_modality, run_modality

        adapter = LazyAdapter(checkpoint, settings, store, content_hash(checkpoint.path))
        self.share(checkpoint.modality, cases,
                   lambda chunk: run_modality(checkpoint, chunk, settings, store, RunState(), None, adapter))
        return judge_modality(checkpoint, cases, settings, store, state, baseline, None, adapter)

    def device_of(self, settings):
        """On a machine with several GPUs, one device per worker (unless --device names one)."""
        if settings.device:
            return settings
        from dataclasses import replace

        from grounding.adapters._lazy import resolved_device

        if resolved_device(None) != "cuda":
            return settings
        import torch

        count = torch.cuda.device_count()
        return replace(settings, device=f"cuda:{self.index % count}") if count > 1 else settings

    def chunks(self, items: Sequence[T]) -> list[list[T]]:
        """The modality's cases in chunks, the same on every worker (round robin, so each mixes categories)."""
        count = max(1, min(len(items), self.count * CHUNKS_PER_WORKER))
        return [list(items[start::count]) for start in range(count)]

    def share(self, modality: str, items: Sequence[T], work: Callable[[list[T]], None]) -> int:
        """Claim and work through chunks until none is left, then wait for the chunks others claimed. Returns
        how many chunks this worker did."""
        chunks, did = self.chunks(items), 0
        for number, chunk in enumerate(chunks):
            if not self._claim(modality, number):
                continue
            try:
                work(chunk)
            except BaseException as error:
                self._mark(modality, number, "failed", f"{type(error).__name__}: {error}")
                raise
            self._mark(modality, number, "done", "")
            did += 1
        self._wait(modality, len(chunks))
        return did

    def _claim(self, modality: str, number: int) -> bool:
        try:
            handle = os.open(self.folder / f"{modality}.{number}.claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        with os.fdopen(handle, "w") as claimed:
            claimed.write(f"{self.index} {os.getpid()}")
        return True

    def _wait(self, modality: str, chunks: int) -> None:
        while True:
            pending = []
            for number in range(chunks):
                failed = self.folder / f"{modality}.{number}.failed"
                if failed.exists():
                    raise GroundingUsageError(f"an xdist worker could not generate or judge its share of {modality} "
                                              f"({failed.read_text()}); this run is not saved.")
                if not (self.folder / f"{modality}.{number}.done").exists():
                    pending.append(number)
            if not pending:
                return
            for number in pending:
                worker, pid = self._claimer(modality, number)
                if pid is not None and not _alive(pid):
                    raise GroundingUsageError(
                        f"xdist worker gw{worker} (pid {pid}) died before finishing its share of {modality}; this "
                        f"run is not saved. Run again: the outputs and scores made so far are cached.")
            time.sleep(POLL_SECONDS)

    def _claimer(self, modality: str, number: int) -> tuple[str, int | None]:
        try:
            worker, pid = (self.folder / f"{modality}.{number}.claimed").read_text().split()
            return worker, int(pid)
        except (OSError, ValueError):
            return "?", None

    def _mark(self, modality: str, number: int, what: str, text: str) -> None:
        final = self.folder / f"{modality}.{number}.{what}"
        partial = final.with_name(final.name + ".part")
        partial.write_text(text)
        os.replace(partial, final)


def meeting_folder(run_id: str) -> Path:
    """Where the run's workers claim chunks and say what they finished (the controller removes it)."""
    return Path(tempfile.gettempdir()) / f"grounding-workers-{run_id}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_of(config) -> Worker | None:
    """The xdist worker this pytest process is; None outside xdist."""
    given = getattr(config, "workerinput", None)
    if not given or "grounding_run_id" not in given:
        return None
    return Worker(int(str(given["workerid"]).removeprefix("gw")), int(given["workercount"]),
                  str(given["grounding_run_id"]))
