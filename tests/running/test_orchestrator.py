"""What the suites read from a modality's results: a case its own observations could not fail is undecided, not
passed, unless its fall against the baseline could be significant."""

from grounding.results import compare
from grounding.running._orchestrator import modality_results
from grounding.settings import from_values
from grounding.types import Case, Record

CASE = Case("square", "ascii-art", "Draw a small outlined square in ASCII art.")


def _records(run: str, verdicts: list[bool], greedy: bool) -> list[Record]:
    return [Record(run, "0", "h", "ascii-art", CASE.id, seed, "oracle", "correct", float(ok), ok,
                   f"{run}.txt" if greedy else f"{run}-{seed}.txt") for seed, ok in enumerate(verdicts)]


def _results(now: list[Record], baseline: list[Record] | None = None, **options):
    settings = from_values(options)
    comparison = None if baseline is None else compare("ascii-art", now, baseline, {CASE.id: CASE},
                                                       settings.thresholds)
    return modality_results({CASE.id: CASE}, now, comparison, settings)


def test_a_case_is_undecided_unless_its_floor_or_its_fall_could_be_significant():
    greedy = _records("now", [True] * 5, greedy=True)
    alone = _results(greedy).undecided(CASE.id)
    assert alone.startswith("undecidable alone: 1 distinct output of 5 seeds, passed (1/1): it takes 3 distinct "
                            "outputs") and alone.endswith("counted in the pooled floor "
                                                          "(test_pass_rate_of_all_cases_is_above_the_floor)")
    assert _results(_records("now", [True] * 4, greedy=False)).undecided(CASE.id) is None  # 4 outputs decide
    assert _results(greedy, **{"floor-rule": "point"}).undecided(CASE.id) is None  # the rate itself is compared
    # against a greedy baseline: one observed pair on each side, which cannot fall significantly either
    paired = _results(greedy, _records("before", [True] * 5, greedy=True)).undecided(CASE.id)
    assert "against the baseline, 1 observed pair cannot fall significantly either" in paired
    # against a baseline of 5 distinct outputs: losing all 5 would be significant (p = 1/32), so it is decided
    assert _results(greedy, _records("before", [True] * 5, greedy=False)).undecided(CASE.id) is None
    assert _results(_records("now", [True] * 4, greedy=True),
                    _records("before", [True] * 4, greedy=False)).undecided(CASE.id) is not None  # 1/16: not
