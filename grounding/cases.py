"""Case files: TOML data with one [[case]] table per instruction."""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import GroundingUsageError
from .types import Case


def _fail(path: Path, problem: str) -> GroundingUsageError:
    return GroundingUsageError(
        f"Case file {path}: {problem}. A case file is TOML with one [[case]] table per instruction, each with "
        f"at least `id` and `instruction` (and optionally `contrasts`, `category`, `concepts`, `expect`); "
        f"see suites/cases/text_to_image.toml for a complete example."
    )


def load_cases(path: str | Path, modality: str | None = None) -> tuple[Case, ...]:
    """Read and validate a case file; the modality defaults to the file's top-level `modality` key."""
    path = Path(path)
    if not path.is_file():
        raise _fail(path, "no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise _fail(path, f"not valid TOML ({err})") from None
    modality = modality or data.get("modality")
    if not modality:
        raise _fail(path, "no `modality` key at the top")
    tables = data.get("case", [])
    if not tables:
        raise _fail(path, "it holds no cases")
    cases, seen = [], set()
    for n, table in enumerate(tables, start=1):
        missing = [k for k in ("id", "instruction") if not str(table.get(k, "")).strip()]
        if missing:
            raise _fail(path, f"case #{n} lacks {' and '.join(missing)}")
        if table["id"] in seen:
            raise _fail(path, f"case id {table['id']!r} appears twice")
        seen.add(table["id"])
        cases.append(Case(
            id=str(table["id"]), modality=modality, instruction=str(table["instruction"]),
            contrasts=tuple(table.get("contrasts", ())), category=str(table.get("category", "")),
            concepts=tuple(table.get("concepts", ())), expect=dict(table.get("expect", {})),
        ))
    return tuple(cases)
