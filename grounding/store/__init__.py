"""The result store: a SQLite file of runs, records and the generation cache, plus content-named artifacts."""

from ._artifacts import ArtifactProblem, artifact_ref, artifact_sha, read_verified
from ._check import StoreCheck, check_store
from ._schema import SCHEMA_VERSION
from ._store import Store

__all__ = ["SCHEMA_VERSION", "ArtifactProblem", "Store", "StoreCheck", "artifact_ref", "artifact_sha", "check_store",
           "read_verified"]
