"""What enters a run from outside, checked where it enters: checkpoints (what `--model` holds, safe loading,
weight hashes, the bundled data), case files and their `expect` tables, images, and transcripts of a model no
adapter loads."""

from grounding.inputs._cases import case_from_table, load_cases, profile_case_file
from grounding.inputs._checkpoint import (BUNDLED, Checkpoint, bundled, check_language_model, check_pipeline,
                                          content_hash, resolve)
from grounding.inputs._expectations import expect_problem
from grounding.inputs._images import open_artifacts, open_image
from grounding.inputs._paths import user_path

__all__ = ["BUNDLED", "Checkpoint", "bundled", "case_from_table", "check_language_model", "check_pipeline",
           "content_hash", "expect_problem", "load_cases", "open_artifacts", "open_image", "profile_case_file",
           "resolve", "user_path"]
