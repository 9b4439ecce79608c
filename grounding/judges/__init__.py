"""Judges: each reads one kind of artifact and returns frozen Scores; aggregation lives in grounding.results.

`functional/` holds the pure primitives (CLIP scoring, the shapes-world oracle on pixels and on ASCII grids,
bandit, the description readers, sandboxed tests of code); beside them, with mirrored names, the judge plugins
that apply them to a run (`clip`, `shapes_oracle`, `ascii_art`, `code`), registered under the
`grounding.judges` entry-point group as a third party's would be.
"""

from grounding.judges._registry import GROUP, Judge, JudgeContext, Judged, installed, judges_for, kind_of

__all__ = ["GROUP", "Judge", "JudgeContext", "Judged", "installed", "judges_for", "kind_of"]
