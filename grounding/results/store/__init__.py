"""The result store: a SQLite file of runs, records, the generation and score caches, plus content-named artifacts."""

from grounding.results.store._artifacts import ArtifactProblem, artifact_ref, artifact_sha, read_verified
from grounding.results.store._check import StoreCheck, check_store
from grounding.results.store._schema import SCHEMA_VERSION
from grounding.results.store._store import Store, case_data

__all__ = ["SCHEMA_VERSION", "ArtifactProblem", "Store", "StoreCheck", "artifact_ref", "artifact_sha", "case_data",
           "check_store", "read_verified"]
