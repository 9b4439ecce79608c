"""What a run leaves and what is concluded from it: the store (runs, records, caches, artifacts; schema and
migrations), per-case verdicts and floors, stated power, the comparison with a baseline and its statistics, the
round-by-round history and run planning. Nothing here loads a model."""

from grounding.results._baseline import Baseline, against, compare_runs, load_baseline
from grounding.results._comparison import ModalityComparison, compare, concept_words
from grounding.results._floors import Floors, FloorTest
from grounding.results._history import HistoryRow, history
from grounding.results._thresholds import Thresholds
from grounding.results._verdicts import CaseVerdict, case_verdict, failing_checks, stored_floors
from grounding.results.store import Store, check_store

__all__ = ["Baseline", "CaseVerdict", "FloorTest", "Floors", "HistoryRow", "ModalityComparison", "Store",
           "Thresholds", "against", "case_verdict", "check_store", "compare", "compare_runs", "concept_words",
           "failing_checks", "history", "load_baseline", "stored_floors"]
