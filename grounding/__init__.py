"""grounding: a pytest-based cross-modal grounding test suite.

The public surface: the data types that flow through a run, case loading, the release gate for training loops
(`gate`, returning a `GateVerdict`), and the one usage error.
Heavy libraries (torch, diffusers, open_clip) load only when a modality or judge is used.
"""

from grounding.errors import GroundingUsageError
from grounding.gate import GateVerdict, gate
from grounding.inputs._cases import load_cases
from grounding.types import Artifact, Case, Record, Score

__all__ = ["Artifact", "Case", "GateVerdict", "GroundingUsageError", "Record", "Score", "gate", "load_cases"]
