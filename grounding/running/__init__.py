"""One run, orchestrated once for the pytest plugin, `grounding.gate` and `grounding selftrain`: generation
through the first cache level, judging through the second (the score cache), records, per-case verdicts and the
comparison with a baseline; pytest-xdist workers sharing the run; rescoring a stored run without its model."""

from grounding.running._generation import RunInfo, generate, sample_seed
from grounding.running._orchestrator import ModalityResults, RunState, judge_modality, run_modality
from grounding.running._rescore import Rescored, rescore
from grounding.running._score_cache import judged_with_cache

__all__ = ["ModalityResults", "Rescored", "RunInfo", "RunState", "generate", "judge_modality", "judged_with_cache",
           "rescore", "run_modality", "sample_seed"]
