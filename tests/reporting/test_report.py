"""`grounding report` and `grounding history --plots`: read a store only, write a self-contained HTML report, a
Markdown summary and PNG plots, and exit 1 on a significant regression."""

import io
import re

from PIL import Image

from grounding.cli import main
from grounding.results.store import Store
from grounding.types import Case, Record

COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")
CASES = [Case(f"{c}-{i}", "text-to-image", f"a {c} thing number {i}", concepts=(c,), category="attribute")
         for c in COLOURS for i in range(8)]
ASCII = Case("square", "ascii-art", "Draw a small outlined square in ASCII art.", category="shape")


def _png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _run(store: Store, label: str, red_drifts: bool, baseline: str | None = None, run_id: str = "") -> None:
    run_id, records = run_id or f"run-{label}", []
    for case in CASES:
        drifted = red_drifts and "red" in case.concepts
        path, _ = store.write_artifact(_png("orange" if drifted else case.concepts[0]), ".png")
        for seed in range(2):
            records.append(Record(run_id, label, "h", "text-to-image", case.id, seed, "oracle", "correct",
                                  float(not drifted), not drifted, str(path),
                                  "oracle: expected red circle, saw orange circle" if drifted else "oracle: ok"))
    art, _ = store.write_artifact(b"+--+\n|  |\n+--+\n", ".txt")
    records.append(Record(run_id, label, "h", "ascii-art", "square", 0, "oracle", "correct", 1.0, True,
                          str(art), "oracle: saw small outlined square"))
    store.append_run(run_id=run_id, round=label, model="ckpt", started=float(len(store.runs())),
                     settings={"baseline": baseline, "thresholds": {}}, records=records, cases=[*CASES, ASCII])


def _store(tmp_path):
    store = Store(tmp_path / "store")
    _run(store, "0", red_drifts=False)
    _run(store, "1", red_drifts=True, baseline="0")
    store.close()
    return tmp_path / "store"


def test_report_shows_the_drifted_concept_and_its_cases_side_by_side(tmp_path, capsys):
    root = _store(tmp_path)
    html, summary = tmp_path / "out" / "report.html", tmp_path / "summary.md"
    assert main(["report", "--store", str(root), "--html", str(html), "--markdown", str(summary)]) == 1
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "FAILED: significant regression" in page
    assert "concept &#x27;red&#x27;" in page and "REGRESSED" in page
    assert "a red thing number 0" in page and "baseline 0</th><th>this run" in page
    assert "saw orange circle" in page
    thumbnails = re.findall(r'src="data:image/png;base64,', page)
    assert len(thumbnails) >= 2 * 2 * 8 + 2  # 8 red cases x 2 seeds x (baseline, now), plus one plot each modality
    assert "<pre>+--+" not in page  # the unchanged ASCII case is not among the cases that fell
    text = summary.read_text()
    assert "round `1`" in text and "FAILED" in text and "concept 'red'" in text
    assert "| text-to-image | oracle_accuracy | 1.000 | 0.833 | -0.167 |" in text


def test_report_of_a_first_round_has_no_baseline_and_exits_zero(tmp_path, capsys):
    store = Store(tmp_path / "store")
    _run(store, "0", red_drifts=True)
    store.close()
    html = tmp_path / "report.html"
    assert main(["report", "--store", str(tmp_path / "store"), "--html", str(html)]) == 0
    assert "no baseline" in capsys.readouterr().out
    page = html.read_text()
    assert "Failing outputs (16)" in page and "saw orange circle" in page


def test_report_against_an_explicit_round_and_an_unknown_one(tmp_path, capsys):
    root = _store(tmp_path)
    html = tmp_path / "report.html"
    assert main(["report", "--store", str(root), "--run", "0", "--baseline", "1", "--html", str(html)]) == 0
    assert "passed" in capsys.readouterr().out  # round 0 is better than round 1: no regression
    assert main(["report", "--store", str(root), "--run", "7", "--html", str(html)]) == 2
    assert "--run 7: no run with that id or round label" in capsys.readouterr().err


def test_a_run_labelled_like_its_baseline_is_reported_against_it_not_itself(tmp_path, capsys):
    """`--baseline 0` with the default `--round 0`: the terminal summary and the report read the stored run against
    the run it was compared with, and the summary says that `--baseline 0` now names this run."""
    from grounding.reporting._terminal import summary_lines

    store = Store(tmp_path / "store")
    _run(store, "0", red_drifts=False)
    _run(store, "0", red_drifts=True, baseline="0", run_id="run-0-again")
    store.close()
    text = "\n".join(summary_lines(tmp_path / "store", "run-0-again"))
    assert re.search(r"text-to-image against baseline 0: [1-9]\d* significant regressions", text)
    assert "concept 'red'" in text
    assert "from now on --baseline 0 names this run" in text
    html = tmp_path / "report.html"
    assert main(["report", "--store", str(tmp_path / "store"), "--run", "run-0-again", "--html", str(html)]) == 1
    assert "concept &#x27;red&#x27;" in html.read_text()


def test_history_plots_are_png_files_per_modality(tmp_path, capsys):
    root = _store(tmp_path)
    assert main(["history", "--store", str(root), "--plots", str(tmp_path / "plots")]) == 0
    for modality in ("text-to-image", "ascii-art"):
        image = Image.open(tmp_path / "plots" / f"history-{modality}.png")
        assert image.format == "PNG" and image.width > 600
    rows = [line for line in capsys.readouterr().out.split("\n") if line.strip().startswith(("0 ", "1 "))]
    assert len(rows) == 4


def test_a_record_naming_a_file_outside_the_store_is_not_embedded(tmp_path, capsys):
    """A baseline store downloaded from another job is input: its records cannot make the report read files."""
    import sqlite3

    secret = tmp_path / "secret.txt"
    secret.write_text("GH_TOKEN=ghp_very_secret")
    root = _store(tmp_path)
    with sqlite3.connect(root / "grounding.sqlite") as db:
        db.execute("UPDATE records SET artifact = ? WHERE run_id = 'run-0'", (str(secret),))
        db.execute("UPDATE records SET artifact = '../../secret.txt' WHERE run_id = 'run-1' AND seed = 1")
    html = tmp_path / "report.html"
    assert main(["report", "--store", str(root), "--html", str(html)]) == 1
    page = html.read_text()
    assert "ghp_very_secret" not in page
    assert "output not shown: &#x27;" in page and "is not the name of a store artifact" in page


def test_a_damaged_or_oversized_artifact_is_named_not_shown(tmp_path, capsys):
    from grounding.inputs._images import MAX_PIXELS

    root = _store(tmp_path)
    for path in (root / "artifacts").rglob("*.png"):
        path.write_bytes(b"tampered")
    html = tmp_path / "report.html"
    assert main(["report", "--store", str(root), "--html", str(html)]) == 1
    assert "is damaged: its content does not match its name" in html.read_text()
    store = Store(root)
    big = io.BytesIO()
    Image.new("1", (MAX_PIXELS // 1000 + 1, 1000)).save(big, format="PNG")  # 40 MP in a few kB
    path, _ = store.write_artifact(big.getvalue(), ".png")
    store.close()
    from grounding.reporting._html import _output_html

    shown = _output_html(Record("r", "0", "h", "text-to-image", "c", 0, "clip", "x", 1.0, True, str(path)), root)
    assert "more than the 40 megapixels" in shown


def test_report_output_paths_are_checked_before_any_work(tmp_path, capsys):
    root = _store(tmp_path)
    (tmp_path / "folder").mkdir()
    for flag, target in (("--html", tmp_path / "folder"), ("--html", "/dev/full"), ("--markdown", "/dev/full")):
        args = ["report", "--store", str(root), flag, str(target)]
        assert main(args if flag == "--html" else args + ["--html", str(tmp_path / "r.html")]) == 2
        err = capsys.readouterr().err
        assert f"{flag} {target}: this is a folder or a device, not a file" in err and "Traceback" not in err
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    assert main(["report", "--store", str(root), "--html", str(blocker / "r.html")]) == 2
    assert "cannot create this folder" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
    assert main(["history", "--store", str(root), "--plots", str(blocker)]) == 2
    assert "--plots" in capsys.readouterr().err


def test_a_run_below_the_floor_fails_its_report_without_a_baseline(tmp_path, capsys):
    store = Store(tmp_path / "store")
    records = []
    for case in CASES:
        for seed in range(4):
            path, _ = store.write_artifact(_png(COLOURS[seed]) + case.id.encode(), ".png")
            records.append(Record("run-x", "x", "h", "text-to-image", case.id, seed, "oracle", "correct", 0.0, False,
                                  str(path), "oracle: saw nothing"))
    store.append_run(run_id="run-x", round="x", model="ckpt", started=0.0, settings={"baseline": None},
                     records=records, cases=CASES)
    store.close()
    summary = tmp_path / "summary.md"
    assert main(["report", "--store", str(tmp_path / "store"), "--html", str(tmp_path / "r.html"),
                 "--markdown", str(summary)]) == 1
    text = summary.read_text()
    assert "FAILED: below the floor" in text and "48 of 48 cases below the floor" in text
    assert "significantly below the floor 0.75" in (tmp_path / "r.html").read_text()


def test_an_artifact_replaced_by_a_link_to_a_local_file_is_not_shown(tmp_path, capsys):
    """Each link is named by the SHA-256 of the file it points at, so only refusing links keeps it out."""
    root = _store(tmp_path)
    outside = tmp_path / "home"
    outside.mkdir()
    for path in (root / "artifacts").rglob("*.*"):
        path.rename(outside / path.name)
        path.symlink_to(outside / path.name)
    html = tmp_path / "report.html"
    assert main(["report", "--store", str(root), "--html", str(html)]) == 1
    page = html.read_text()
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 2  # the two history plots, no output
    assert "output not shown: artifacts/" in page and "is a symbolic link" in page
    assert main(["store", "check", "--store", str(root)]) == 1
    assert f"{len(list(outside.iterdir()))} symbolic links or not regular files" in capsys.readouterr().out


TRAPS = "\x1b[2K\x1b]0;owned\x07\x9b31m\x7f\r"  # erase the line, retitle the window, 8-bit CSI, DEL, return


def _clean(text: str) -> bool:
    return not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


def test_escapes_in_a_store_never_reach_the_terminal(tmp_path, capsys):
    from grounding.reporting import summary_lines

    store = Store(tmp_path / "store")
    _run(store, f"0{TRAPS}", red_drifts=False, run_id=f"run-0{TRAPS}")
    _run(store, f"1{TRAPS}", red_drifts=True, baseline=f"run-0{TRAPS}", run_id="run-1")
    store.close()
    (tmp_path / "store" / "artifacts" / f"left{TRAPS}over").write_text("")  # named as an orphan
    root, html = tmp_path / "store", tmp_path / "report.html"
    for argv, code, shown in ((["history"], 0, "  0      run-0  48     1.000"),
                              (["report", "--html", str(html)], 1, "round `1` (run `run-1`)"),
                              (["report", "--run", "none"], 2, "(rounds: 0, 1)."),
                              (["store", "check"], 0, "    artifacts/leftover\n")):
        assert main([*argv, "--store", str(root)]) == code
        out = capsys.readouterr()
        assert _clean(out.out) and _clean(out.err) and "Traceback" not in out.err, argv
        assert shown in out.out + out.err and "owned" not in out.out + out.err
    assert main(["report", "--store", str(root), "--html", str(html), "--markdown", str(tmp_path / "md")]) == 1
    assert _clean((tmp_path / "md").read_text()) and "round `1` (run `run-1`)" in (tmp_path / "md").read_text()
    lines = summary_lines(root, "run-1")
    assert "run-0" in "".join(lines) and all(_clean(line) and "\n" not in line for line in lines)
    page = html.read_text()
    assert _clean(page) and "grounding report: round 1</h1>" in page and "owned" not in page


def test_the_summary_says_when_code_was_judged_under_weak_sandbox_isolation(tmp_path, monkeypatch):
    from grounding.judges.functional.code import tests_score
    from grounding.reporting import summary_lines
    from grounding.sandbox import _isolation

    tests = "from solution import f\n\ndef test_f():\n    assert f() == 1\n"
    strong = tests_score("def f():\n    return 1\n", tests)
    monkeypatch.setattr(_isolation, "_working_bwrap", lambda: None)  # as on a host without bubblewrap
    weak = tests_score("def f():\n    return 1\n", tests, allow_weak=True)
    assert strong.passed and weak.passed and weak.metadata["weak"] and not strong.metadata["weak"]
    store = Store(tmp_path / "store")
    code = Case("f", "code", "Write f.", category="task")
    art, _ = store.write_artifact(b"def f():\n    return 1\n", ".py")
    records = [Record("run-0", "0", "h", "code", "f", seed, "sandbox", "tests_passed", 1.0, True, str(art),
                      score.explanation) for seed, score in enumerate((strong, weak))]
    store.append_run(run_id="run-0", round="0", model="ckpt", started=0.0, settings={"baseline": None,
                     "thresholds": {}}, records=records, cases=[code])
    store.close()
    text = "\n".join(summary_lines(tmp_path / "store", "run-0"))
    said = "sandbox: 1 of 2 outputs' tests ran under WEAK isolation, without pid-namespace, "
    assert said in text
    html, summary = tmp_path / "report.html", tmp_path / "summary.md"
    main(["report", "--store", str(tmp_path / "store"), "--html", str(html), "--markdown", str(summary)])
    assert said in summary.read_text() and "### Weak sandbox isolation" in summary.read_text()
    assert said.replace("'", "&#x27;") in html.read_text()


def test_the_summary_markdown_and_html_say_how_many_cases_were_undecidable_alone(tmp_path, capsys):
    """Each case's two seeds gave one output (one observation): no case could have failed alone, and the summary,
    the Markdown and the HTML say so beside the verdict instead of counting them as passed."""
    from grounding.reporting._terminal import summary_lines

    root = _store(tmp_path)
    text = "\n".join(summary_lines(root, "run-1"))
    assert ("undecidable alone: 48 of 48 cases, reported as skipped, not passed (as few as 1 distinct output of 2 "
            "seeds; it takes 3 distinct outputs, all failing, to be significantly below the floor 0.75 at level "
            "0.05 (the most the correction grants: every case failing)); they count in the pooled floor") in text
    assert "undecidable alone: 1 of 1 cases" in text  # ascii-art
    html, summary = tmp_path / "report.html", tmp_path / "summary.md"
    main(["report", "--store", str(root), "--html", str(html), "--markdown", str(summary)])
    markdown = summary.read_text()
    assert "(49 cases undecidable alone)" in markdown.split("\n")[0]
    assert "### Undecided (no evidence either way)" in markdown and "- **text-to-image** undecidable alone: 48 of 48" \
        in markdown
    page = html.read_text()
    assert "(49 cases undecidable alone)" in page and "undecidable alone: 48 of 48 cases" in page


def test_a_report_against_a_baseline_with_nothing_of_a_modality_is_refused(tmp_path, capsys):
    store = Store(tmp_path / "store")
    _run(store, "1", red_drifts=False)
    art, _ = store.write_artifact(b"+--+\n", ".txt")
    store.append_run(run_id="run-lm", round="lm", model="ckpt/shapes-lm", started=9.0, settings={}, records=[
        Record("run-lm", "lm", "h", "ascii-art", "square", 0, "oracle", "correct", 1.0, True, str(art))], cases=[ASCII])
    store.close()
    assert main(["report", "--store", str(tmp_path / "store"), "--run", "1", "--baseline", "lm",
                 "--html", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert ("--baseline lm: it names run run-lm (round 'lm', model ckpt/shapes-lm), which holds no text-to-image "
            "output, so run run-1 (round '1', model ckpt) has no text-to-image output to pair") in err
    assert not (tmp_path / "r.html").exists()


def test_the_default_baseline_compares_only_the_modalities_it_pairs(tmp_path, capsys):
    """Without --baseline the report compares with the store's first run: one that holds no text-to-image output is
    not made a usage error the user never asked for; text-to-image is shown alone, ascii-art is compared."""
    store = Store(tmp_path / "store")
    art, _ = store.write_artifact(b"+--+\n", ".txt")
    store.append_run(run_id="run-lm", round="lm", model="ckpt/shapes-lm", started=-1.0, settings={}, records=[
        Record("run-lm", "lm", "h", "ascii-art", "square", 0, "oracle", "correct", 1.0, True, str(art))], cases=[ASCII])
    _run(store, "1", red_drifts=True)
    store.close()
    html = tmp_path / "r.html"
    assert main(["report", "--store", str(tmp_path / "store"), "--run", "1", "--html", str(html)]) == 0
    page = html.read_text()
    assert "Against baseline run-lm" in page and page.count("<h3>Against baseline") == 1
    assert "Failing outputs (16)" in page  # text-to-image, shown alone


def test_the_summary_starts_with_a_line_per_modality_then_the_failing_checks_and_where_the_rest_are(tmp_path):
    """A release manager reads the first lines: per modality the pass rate with its interval, the cases below the
    floor, the regressions and the worst slice with numbers; then the failing checks; then where the full list is.
    The detailed lines follow."""
    from grounding.reporting import summary_lines

    lines = summary_lines(_store(tmp_path), "run-1")
    assert lines[0] == ("ascii-art: pass rate 1.000 (1/1, 95% CI 0.025-1.000), 0 of 1 cases significantly below the "
                        "floor 0.75, 0 significant regressions against baseline 0; no slice fell")
    assert lines[1].startswith("text-to-image: pass rate 0.833 (40/48, 95% CI 0.698-0.925), 0 of 48 cases "
                               "significantly below the floor 0.75, 3 significant regressions against baseline 0 "
                               "(3 slices, 0 cases); worst slice: concept 'red' 1.000 -> 0.000 (p=0.0039, Holm p=")
    assert lines[1].endswith("REGRESSED")
    assert lines[2] == "failing checks (3):" and lines[3].startswith("  text-to-image: all outputs: 1.000 -> 0.833")
    assert lines[6].startswith("full list: the lines below, and grounding report --store ") and "--run run-1" in lines[6]
    assert lines[7].startswith("run run-1, round '1'")


def test_at_most_ten_failing_checks_are_listed():
    from grounding.reporting import release_lines

    lines = release_lines(["m: head"], [f"m: case c{i}: failed" for i in range(25)], "verdict.failures()")
    assert lines[:2] == ["m: head", "failing checks (25, the first 10):"]
    assert lines[2:12] == [f"  m: case c{i}: failed" for i in range(10)] and lines[12:] == ["full list: verdict.failures()"]
    assert release_lines(["m: head"], [], "x") == ["m: head", "failing checks: none", "full list: x"]


def test_gate_summary_opens_with_a_total_and_the_terminals_lines(tmp_path):
    """`gate().summary()` and the terminal share their per-modality headlines and failing checks (one function
    each), on the same stored runs."""
    from grounding.gate import GateVerdict
    from grounding.reporting import summary_lines
    from grounding.results import compare_runs
    from grounding.running._orchestrator import modality_results
    from grounding.settings import from_values

    root = _store(tmp_path)
    store = Store(root, writable=False)
    comparisons = {c.modality: c for c in compare_runs(store, "run-1", "0")}
    records, cases = store.records("run-1"), store.cases("run-1")
    store.close()
    settings = from_values({"store": str(root), "round": "1", "baseline": "0"})
    results = {m: modality_results(cases[m], [r for r in records if r.modality == m], comparisons[m], settings)
               for m in sorted(cases)}
    text = GateVerdict("run-1", "1", "0", results).summary().split("\n")
    assert text[0] == ("grounding gate FAILED: round '1' (run run-1) against baseline '0': 3 failing checks over 2 "
                       "modalities")
    assert text[1:7] == summary_lines(root, "run-1")[:6]  # two headlines, "failing checks (3):" and the three
    assert text[7] == (f"full list: verdict.failures(); every case side by side: grounding report --store {root} "
                       f"--run run-1 --html report.html")
