"""A run against its baseline, on synthetic records with known answers: identical runs and symmetric noise raise
no alarm, a planted concept drift is flagged on that concept, and a fall needs significance and size."""

import random

import pytest

from grounding.results import Thresholds, compare, compare_runs
from grounding.results.store import Store
from grounding.types import Case, Record

COLOURS = ("red", "orange", "yellow", "green", "blue", "purple")
SHAPES = ("circle", "square", "triangle")
SIZES = ("small", "medium", "large")
CASES = {f"{z}-{c}-{s}": Case(f"{z}-{c}-{s}", "text-to-image", f"a {z} {c} {s}", concepts=(c, s, z),
                              category="attribute") for c in COLOURS for s in SHAPES for z in SIZES}


def records(outcome, run="run", cases=CASES, seeds=4, clip=None, greedy=False):
    """One oracle verdict (and optionally a CLIPScore) per case and seed; outcome(case, seed) -> passed. Each seed
    has its own output unless `greedy` (one output for every seed)."""
    out = []
    for case_id in cases:
        for seed in range(seeds):
            ok = outcome(case_id, seed)
            artifact = f"{case_id}-{ok}" if greedy else f"{case_id}-{seed}"
            out.append(Record(run, "0", "h", "text-to-image", case_id, seed, "oracle", "correct", float(ok), ok,
                              artifact))
            if clip is not None:
                out.append(Record(run, "0", "h", "text-to-image", case_id, seed, "clip", "clip_score",
                                  clip(case_id, seed), None, artifact))
    return out


def slice_named(comparison, name):
    return next(s for s in comparison.slices if s.name == name)


def test_identical_runs_show_no_change_and_no_regression():
    healthy = records(lambda c, s: s != 3 or "red" not in c)
    comparison = compare("text-to-image", healthy, healthy, CASES)
    assert comparison.passed and comparison.unpaired == 0
    assert all(s.interval.mean == 0 and s.p_value == 1 for s in comparison.slices)
    names = {s.name for s in comparison.slices}
    assert {"all outputs", "concept 'red'", "concept 'circle'", "oracle/correct"} <= names
    assert "concept 'attribute'" not in names  # a category every case shares is "all outputs" again


def test_a_concept_with_too_few_cases_says_it_cannot_be_tested():
    few = {k: v for k, v in CASES.items() if k.startswith("small-") and "circle" in k}  # 6 cases, 1 per colour
    comparison = compare("text-to-image", records(lambda c, s: False, cases=few),
                         records(lambda c, s: True, cases=few), few)
    names = {s.name for s in comparison.slices}
    assert "concept 'red'" not in names and "concept 'circle'" not in names  # one case, or every case
    overall = slice_named(comparison, "all outputs")
    assert overall.cases == 6 and overall.p_value == pytest.approx(1 / 64) and 0.05 <= overall.mde < 1
    assert "too few cases" not in overall.line()
    two = {k: few[k] for k in list(few)[:2]}
    lone = slice_named(compare("text-to-image", records(lambda c, s: False, cases=two),
                               records(lambda c, s: True, cases=two), two), "all outputs")
    assert lone.p_value == 0.25 and lone.mde == float("inf") and "too few cases to reach significance after Holm" in lone.line()


def test_one_drifted_colour_word_is_flagged_on_that_word_only():
    baseline = records(lambda c, s: True)
    drifted = records(lambda c, s: "red" not in c)  # every "red" output now fails: red drew another colour
    comparison = compare("text-to-image", drifted, baseline, CASES)
    assert {s.name for s in comparison.regressions} >= {"concept 'red'"}
    red = slice_named(comparison, "concept 'red'")
    assert red.interval.mean == -1 and red.p_adjusted < 0.05 and red.cases == 9
    assert not slice_named(comparison, "concept 'blue'").regressed
    assert "REGRESSED" in comparison.message() and "concept 'red'" in comparison.message().split("\n")[1]


def test_symmetric_noise_raises_no_alarm_at_the_stated_rate():
    """Two healthy runs whose outputs pass independently with the same probability: false alarms stay rare."""
    alarms = 0
    for trial in range(40):
        rng = random.Random(trial)
        first, second = ({(c, s): rng.random() < 0.85 for c in CASES for s in range(4)} for _ in range(2))
        comparison = compare("text-to-image", records(lambda c, s: second[c, s]), records(lambda c, s: first[c, s]),
                             CASES, Thresholds(concept_tolerance=0.0))
        alarms += bool(comparison.regressions)
    assert alarms <= 4  # 5% stated, Holm makes it conservative; 40 trials


def test_a_significant_fall_smaller_than_the_tolerance_does_not_gate():
    cases = {f"case-{i}": Case(f"case-{i}", "text-to-image", f"thing {i}") for i in range(100)}
    baseline = records(lambda c, s: True, cases=cases, seeds=1)
    drifted = records(lambda c, s: int(c.split("-")[1]) >= 10, cases=cases, seeds=1)  # 10 of 100 fail now
    strict = compare("text-to-image", drifted, baseline, cases, Thresholds(concept_tolerance=0.05))
    lenient = compare("text-to-image", drifted, baseline, cases, Thresholds(concept_tolerance=0.2))
    overall = slice_named(strict, "all outputs")
    assert overall.interval.mean == pytest.approx(-0.1) and overall.p_adjusted < 0.05
    assert overall.regressed and not slice_named(lenient, "all outputs").regressed


def test_a_case_regresses_only_when_its_seeds_make_the_fall_significant():
    cases = {"red-circle": CASES["small-red-circle"]}
    for seeds, significant in ((4, False), (8, True)):
        comparison = compare("text-to-image", records(lambda c, s: False, cases=cases, seeds=seeds),
                             records(lambda c, s: True, cases=cases, seeds=seeds), cases)
        change = comparison.case("red-circle")
        assert (change.before, change.after, change.lost, change.gained) == (1.0, 0.0, seeds, 0)
        assert change.p_value == pytest.approx(0.5 ** seeds)
        assert change.pass_rate_fell is significant
    greedy = compare("text-to-image", records(lambda c, s: False, cases=cases, seeds=8, greedy=True),
                     records(lambda c, s: True, cases=cases, seeds=8, greedy=True), cases).case("red-circle")
    assert (greedy.seeds, greedy.lost, greedy.p_value) == (1, 1, 0.5) and not greedy.pass_rate_fell
    assert "over 1 observed pair (every seed gave one same output)" in greedy.line()


def test_clip_score_falls_are_tested_per_case_and_per_slice():
    baseline = records(lambda c, s: True, clip=lambda c, s: 2.0, seeds=8)
    drifted = records(lambda c, s: True, clip=lambda c, s: 1.5 if "red" in c else 2.0, seeds=8)
    comparison = compare("text-to-image", drifted, baseline, CASES)
    assert comparison.case("small-red-circle").clip_score_fell
    assert not comparison.case("small-blue-circle").clip_score_fell
    clip = slice_named(comparison, "clip/clip_score")
    assert clip.kind == "score" and clip.interval.mean == pytest.approx(-0.5 / 6) and not clip.regressed


def test_outputs_without_a_partner_are_counted_not_paired():
    comparison = compare("text-to-image", records(lambda c, s: True, seeds=4), records(lambda c, s: True, seeds=2),
                         CASES)
    assert comparison.unpaired == 2 * len(CASES)
    assert slice_named(comparison, "all outputs").outputs == 2 * len(CASES)
    assert "had no partner" in comparison.message()


def test_stored_runs_compare_by_round_label_with_the_cases_they_stored(tmp_path):
    store = Store(tmp_path)
    for label, outcome in (("0", lambda c, s: True), ("1", lambda c, s: "red" not in c)):
        store.append_run(run_id=f"run-{label}", round=label, model="h", started=float(label), settings={},
                         records=records(outcome, run=f"run-{label}"), cases=list(CASES.values()))
    assert store.cases("run-1")["text-to-image"]["small-red-circle"] == CASES["small-red-circle"]
    [comparison] = compare_runs(store, "run-1", "0")
    assert comparison.baseline == "0" and "concept 'red'" in {s.name for s in comparison.regressions}
    store.close()


def test_a_verdict_that_only_now_applies_pairs_with_a_baseline_that_did_not_need_it():
    """False assurance exists only for code with bandit findings: the healthy baseline has no such verdict. Many
    two-case concept slices that can never reach significance do not dilute Holm's correction (Tarone)."""
    cases = {f"secure-{i}": Case(f"secure-{i}", "code", f"secure task {i}", concepts=(f"B{i // 2}",), category="task")
             for i in range(18)}

    def run(assures, name):
        out = []
        for case_id in cases:
            out.append(Record(name, "0", "h", "code", case_id, 0, "python", "parses", 1.0, True, "a"))
            if assures and int(case_id.split("-")[1]) < 9:
                out.append(Record(name, "0", "h", "code", case_id, 0, "self-description", "false_assurance",
                                  1.0, False, "a", "claims secure; bandit: B602"))
        return out

    comparison = compare("code", run(True, "now"), run(False, "before"), cases)
    assurance = slice_named(comparison, "self-description/false_assurance")
    assert (assurance.before, assurance.after, assurance.cases, assurance.changed) == (1.0, 0.0, 9, 9)
    assert len(comparison.slices) > 9 + 2 and assurance.p_value == 0.5 ** 9
    assert assurance.regressed and "2 of" in comparison.message()  # false assurance and all outputs


def _embedded(run, spread_of):
    """Records with one artifact per (case, seed), and an embedding per artifact: seeds of a case scatter around
    the case's own point by `spread_of(case)`."""
    import numpy as np

    rows, vectors = [], {}
    for n, case_id in enumerate(CASES):
        centre = np.random.default_rng(n).normal(0, 1, 8)
        for seed in range(4):
            sha = f"{run}-{case_id}-{seed}"
            vectors[sha] = (centre + spread_of(case_id) * np.random.default_rng([n, seed]).normal(0, 1, 8)).tolist()
            rows.append(Record(run, "0", "h", "text-to-image", case_id, seed, "oracle", "correct", 1.0, True,
                               f"/store/artifacts/xx/{sha}.png"))
    return rows, vectors


def test_distribution_change_and_a_diversity_collapse_that_gates():
    base, base_vectors = _embedded("before", lambda c: 0.5)
    same, same_vectors = _embedded("same", lambda c: 0.5)
    collapsed, collapsed_vectors = _embedded("after", lambda c: 0.1)  # every prompt's seeds now look alike
    healthy = compare("text-to-image", same, base, CASES, embeddings=base_vectors | same_vectors, embedder="test")
    assert healthy.passed and healthy.distribution.outputs == 4 * len(CASES)
    assert healthy.distribution.diversity_after == pytest.approx(healthy.distribution.diversity_before)
    drifted = compare("text-to-image", collapsed, base, CASES, embeddings=base_vectors | collapsed_vectors,
                      embedder="test")
    d = drifted.distribution
    assert d.diversity_after < 0.3 * d.diversity_before and d.recall < d.precision
    # what the issue warns of: MMD sees shifts of the mean, and this collapse keeps every prompt's mean in place
    assert d.cmmd.sigma == 10.0 and d.cmmd.p_value > 0.05
    assert [s.name for s in drifted.regressions] == ["diversity (spread across seeds, relative)"]
    assert "distribution (test, 216 paired outputs): CMMD sigma 10" in drifted.message()
    shifted_vectors = {sha: [v + 1.0 for v in vector] for sha, vector in same_vectors.items()}
    shifted = compare("text-to-image", same, base, CASES, embeddings=base_vectors | shifted_vectors, embedder="test")
    assert shifted.distribution.cmmd_median.p_value < 0.01 and shifted.distribution.precision < 0.5


def test_a_run_labelled_like_its_baseline_is_read_against_the_run_before_it_not_itself(tmp_path):
    """`pytest suites/ --baseline 0` with the default `--round 0`: the stored run carries the baseline's label,
    so the summary and the report must resolve the label to the run it was compared with at run time."""
    store = Store(tmp_path)
    for n, outcome in enumerate((lambda c, s: True, lambda c, s: "red" not in c, lambda c, s: "red" not in c)):
        store.append_run(run_id=f"run-{n}", round="0", model="h", started=float(n), settings={},
                         records=records(outcome, run=f"run-{n}"), cases=list(CASES.values()))
    [drifted] = compare_runs(store, "run-1", "0")
    assert "concept 'red'" in {s.name for s in drifted.regressions}  # against run-0, not itself or run-2
    assert store.find_run("0") == "run-2" and store.find_run("0", compared="run-0") == "run-2"  # none before it
    assert store.find_run("run-2", compared="run-0") == "run-2"  # a run id names that run
    [still] = compare_runs(store, "run-2", "0")  # against run-1, as drifted as itself
    assert still.regressions == () and store.find_run("0", compared="run-2") == "run-1"
    store.close()


def test_precision_and_recall_are_also_measured_against_round_0(tmp_path):
    """Round 2 against round 1 also reports recall against round 0, the store's first run: a loop that loses
    diversity round by round shows its whole loss there."""
    from grounding.judges.functional.embeddings import embedder_for

    store = Store(tmp_path)
    for label, spread_of in (("0", 0.5), ("1", 0.3), ("2", 0.1)):
        rows, vectors = _embedded(f"run-{label}", lambda c, s=spread_of: s)
        store.remember_embeddings(embedder_for("text-to-image", None), vectors)
        store.append_run(run_id=f"run-{label}", round=label, model="h", started=float(label), settings={},
                         records=rows, cases=list(CASES.values()))
    [latest] = compare_runs(store, "run-2", "1")
    d = latest.distribution
    assert d.origin == "0" and d.origin_recall < d.recall
    assert f"against round 0 ('0'): precision {d.origin_precision:.3f}, recall {d.origin_recall:.3f}" in latest.message()
    [first] = compare_runs(store, "run-1", "0")  # round 0 is the baseline itself: nothing more to report
    assert first.distribution.origin is None and "against round 0" not in first.message()
    store.close()


def test_a_small_fall_of_a_paired_margin_warns_before_verdicts_flip_and_does_not_gate():
    def with_margin(shift):
        out = records(lambda c, s: True, seeds=4)
        return out + [Record("run", "0", "h", "text-to-image", r.case_id, r.seed, "clip", "margin",
                             0.2 - shift + 0.01 * ((r.seed * 7 + len(r.case_id)) % 5), None, r.artifact) for r in out]

    drifted = compare("text-to-image", with_margin(0.02), with_margin(0.0), CASES)
    margin = slice_named(drifted, "clip/margin")
    assert margin.warns and not margin.regressed and drifted.passed
    assert "(early warning, does not gate: FELL SIGNIFICANTLY)" in margin.line()
    steady = slice_named(compare("text-to-image", with_margin(0.0), with_margin(0.0), CASES), "clip/margin")
    assert not steady.warns and "(early warning, does not gate)" in steady.line()


def test_a_slice_counts_distinct_observations_beside_its_outputs():
    """Greedy decoding: four seeds, one output per case; the slice says how many outputs were really observed."""
    greedy = compare("text-to-image", records(lambda c, s: "red" not in c, greedy=True),
                     records(lambda c, s: True, greedy=True), CASES)
    overall = slice_named(greedy, "all outputs")
    assert (overall.outputs, overall.distinct) == (4 * len(CASES), len(CASES))
    assert f"{4 * len(CASES)} outputs, {len(CASES)} distinct)" in overall.line()
    sampled = slice_named(compare("text-to-image", records(lambda c, s: s != 1), records(lambda c, s: True), CASES),
                          "all outputs")
    assert sampled.distinct == sampled.outputs and "distinct" not in sampled.line()


def test_per_case_falls_are_corrected_across_cases_and_a_planted_one_is_still_found():
    """120 cases x 8 seeds, two independent runs of one model (a retrain's null): uncorrected one-sided McNemar
    tests at 0.05 would fail most such runs; corrected across cases (Benjamini-Hochberg), few."""
    cases = {f"c{i}": Case(f"c{i}", "text-to-image", f"case {i}") for i in range(120)}
    rng = random.Random(7)
    corrected = uncorrected = 0
    for _ in range(40):
        before = records(lambda c, s: rng.random() < 0.7, cases=cases, seeds=8)
        after = records(lambda c, s: rng.random() < 0.7, run="after", cases=cases, seeds=8)
        changes = compare("text-to-image", after, before, cases).cases
        corrected += any(c.regressed for c in changes)
        uncorrected += any(c.p_value < 0.05 and c.before - c.after > 0.05 for c in changes)
    assert corrected <= 4 and uncorrected >= 20, (corrected, uncorrected)
    broken = {f"c{i}" for i in range(12)}  # one case alone at 8/8 -> 0/8 (p=1/256) is not enough among 120
    planted = compare("text-to-image", records(lambda c, s: c not in broken, run="after", cases=cases, seeds=8),
                      records(lambda c, s: True, cases=cases, seeds=8), cases)
    assert {c.case_id for c in planted.cases if c.regressed} == broken
    assert "Benjamini-Hochberg over the cases p=0.0" in planted.case("c3").line()


def test_a_baseline_with_nothing_to_pair_for_a_modality_is_a_usage_error_naming_both_runs(tmp_path):
    """Before, a baseline run of another model that held no text-to-image output compared nothing: "0 significant
    regressions ... over the 0 of 0 slices", every output "had no partner", and the comparison passed."""
    from grounding.errors import GroundingUsageError
    from grounding.results import load_baseline

    store = Store(tmp_path)
    ascii_art = Record("run-lm", "0", "h", "ascii-art", "square", 0, "oracle", "correct", 1.0, True, "a.txt")
    store.append_run(run_id="run-lm", round="0", model="ckpt/shapes-lm", started=0.0, settings={}, records=[ascii_art],
                     cases=[Case("square", "ascii-art", "Draw a square.")])
    store.append_run(run_id="run-t2i", round="1", model="ckpt/shapes-t2i", started=1.0, settings={},
                     records=records(lambda c, s: True, run="run-t2i"), cases=list(CASES.values()))
    with pytest.raises(GroundingUsageError) as refused:
        compare_runs(store, "run-t2i", "0")
    assert ("--baseline 0: it names run run-lm (round '0', model ckpt/shapes-lm), which holds no text-to-image "
            "output, so run run-t2i (round '1', model ckpt/shapes-t2i) has no text-to-image output to pair") \
        in str(refused.value) and "ascii-art" in str(refused.value)
    # before generating (gate, the orchestrator): a baseline of the modality on none of the run's cases and seeds
    baseline = load_baseline("1", store)
    baseline.check_pairs("text-to-image", "this run", [("small-red-circle", 0)])
    with pytest.raises(GroundingUsageError, match="holds text-to-image outputs of 54 cases, none of them on this "
                                                  "run's cases and seeds"):
        baseline.check_pairs("text-to-image", "this run", [("another-case", 0), ("small-red-circle", 9)])
    store.close()
