"""Judges: each returns frozen Scores; aggregation lives in grounding.verdicts."""
