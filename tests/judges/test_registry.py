"""Judges as plugins: a modality that exists only through entry points (an adapter and a judge registered by an
installed package, here a dist-info folder on sys.path) runs through gate() with no edit of the core; the
bundled judges are found the same way."""

import json
import re

import pytest

import grounding
from grounding.cli import main
from grounding.errors import GroundingUsageError
from grounding.judges._registry import Judge, installed, judges_for

PLUGIN = '''
from dataclasses import dataclass, field

from grounding.types import Score


@dataclass
class Shout:
    """Writes each prompt in capitals; a drifted copy (`drifted = true`) whispers it in lower case."""

    settings: dict = field(default_factory=dict)
    modality: str = "shout"
    kind: str = "loud-text"
    suffix: str = ".txt"

    @classmethod
    def recognises(cls, path):
        return (path / "shout.json").is_file()

    @classmethod
    def load(cls, path, *, device=None, allow_pickle=False, drifted: bool = False):
        return cls({"drifted": drifted})

    def generate(self, prompts, seeds):
        return [(p.lower() if self.settings["drifted"] else p.upper()).encode() for p in prompts]


@dataclass
class Mumble(Shout):
    modality: str = "mumble"
    kind: str = "mumbled-text"

    @classmethod
    def recognises(cls, path):
        return False

    @classmethod
    def load(cls, path, **options):
        raise AssertionError("a modality no judge reads must be refused before its weights load")


@dataclass(frozen=True)
class IsLoud:
    name: str = "is-loud"
    reads: str = "loud-text"
    version: str = "1"

    def judge(self, artifacts, cases, context):
        out = []
        for artifact in artifacts:
            text = artifact.path.read_text()
            out.append((artifact, [Score("is-loud", "upper", float(text.isupper()), text.isupper(),
                                         f"read {text!r} for {cases[artifact.case_id].instruction!r}")]))
        return out


class NotAJudge:
    pass
'''

ENTRY_POINTS = """
[grounding.modalities]
shout = shout_plugin:Shout
mumble = shout_plugin:Mumble

[grounding.judges]
is-loud = shout_plugin:IsLoud
"""


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """An installed package that registers the `shout` modality and its judge only through entry points."""
    site = tmp_path / "site"
    info = site / "shout_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shout-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (site / "shout_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    return info


def checkpoint(tmp_path, modality="shout", drifted=False):
    folder = tmp_path / f"{modality}-{drifted}"
    folder.mkdir()
    (folder / "grounding.toml").write_text(f'[modalities.{modality}]\npath = "."\ndrifted = {str(drifted).lower()}\n')
    return folder


def case_file(tmp_path, modality="shout"):
    path = tmp_path / f"{modality}.toml"
    path.write_text(f'modality = "{modality}"\n' + "".join(
        f'[[case]]\nid = "say-{word}"\ninstruction = "say {word}"\nconcepts = ["{word}"]\n'
        for word in ("hello", "goodbye", "yes", "no", "maybe", "now", "later", "here", "there", "why")))
    return path


def test_a_modality_from_entry_points_alone_is_judged_by_its_own_judge(plugin, tmp_path):
    cases = {"shout": case_file(tmp_path)}
    healthy = grounding.gate(checkpoint(tmp_path), baseline=None, round="loud", store=tmp_path / "store", cases=cases)
    results = healthy.results["shout"]
    assert healthy.passed and len(results.cases) == 10
    assert {r.judge for r in results.records["say-hello"]} == {"is-loud"}
    drifted = grounding.gate(checkpoint(tmp_path, drifted=True), baseline="loud", round="quiet",
                             store=tmp_path / "store", cases=cases)
    assert not drifted.passed
    assert any("significantly below" in line for line in drifted.failures()), drifted.failures()
    assert any("all outputs" in line for line in drifted.regressions())


def test_a_plugin_adapter_recognises_its_own_model_folders(plugin, tmp_path):
    from grounding.inputs._checkpoint import BUNDLED, resolve

    (tmp_path / "shout.json").write_text("{}")
    assert [c.modality for c in resolve(tmp_path)] == ["shout"]
    lm = BUNDLED / "shapes-lm"  # a transformers folder as well: both adapters take it
    for name in ("config.json", "tokenizer_config.json", "tokenizer.json", "model.safetensors"):
        (tmp_path / name).write_bytes((lm / name).read_bytes())
    assert [c.modality for c in resolve(tmp_path)] == ["ascii-art", "code", "shout"]


def test_a_modality_no_installed_judge_reads_is_refused_before_loading(plugin, tmp_path):
    with pytest.raises(GroundingUsageError, match=r"'mumble' writes 'mumbled-text' artifacts and no installed judge "
                                                  r"reads them \(judges read: .*loud-text"):
        grounding.gate(checkpoint(tmp_path, "mumble"), baseline=None, store=tmp_path / "store",
                       cases={"mumble": case_file(tmp_path, "mumble")})


def test_a_broken_judge_plugin_is_named_not_a_traceback(plugin):
    (plugin / "entry_points.txt").write_text(ENTRY_POINTS + "not-a-judge = shout_plugin:NotAJudge\n"
                                             "missing = shout_plugin_gone:Judge\n")
    with pytest.raises(GroundingUsageError, match=r"'missing' registered under `grounding.judges` as "
                                                  r"'shout_plugin_gone:Judge' could not be loaded"):
        installed()
    (plugin / "entry_points.txt").write_text(ENTRY_POINTS + "not-a-judge = shout_plugin:NotAJudge\n")
    with pytest.raises(GroundingUsageError, match="'not-a-judge' .* is not a judge: it needs `name`, `reads`"):
        installed()


def test_the_bundled_judges_are_plugins_of_their_artifact_kinds():
    judges = installed()
    assert all(isinstance(j, Judge) for j in judges.values())
    assert [j.name for j in judges_for("image", "text-to-image")] == ["clip", "shapes-oracle"]
    assert [j.name for j in judges_for("ascii-art", "ascii-art")] == ["ascii-art"]
    assert [j.name for j in judges_for("code", "code")] == ["code"]


def test_grounding_modalities_lists_adapters_kinds_and_judges(plugin, capsys):
    assert main(["modalities"]) == 0
    text = capsys.readouterr().out
    assert ("text-to-image: grounding.modalities.text_to_image:TextToImage, writes 'image'; judged by clip, "
            "shapes-oracle") in text
    assert "shout: shout_plugin:Shout, writes 'loud-text'; judged by is-loud" in text
    assert "mumble: shout_plugin:Mumble, writes 'mumbled-text'; judged by NO JUDGE" in text
    assert main(["modalities", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["modalities"]["code"] == {"adapter": "grounding.modalities.code:Code", "kind": "code",
                                             "judges": ["code"]}
    assert listing["judges"]["is-loud"] == {"reads": "loud-text", "version": "1"}



def test_a_suite_module_runs_the_plugin_modality_through_pytest(plugin, pytester, tmp_path):
    cases = case_file(tmp_path)
    pytester.makepyfile(test_shout=f"""
import pytest

from grounding.suite import test_instruction_is_grounded, test_pass_rate_of_all_cases_is_above_the_floor

pytestmark = pytest.mark.grounding("shout", cases={str(cases)!r})
""")
    store = tmp_path / "store"
    loud = pytester.runpytest("-p", "no:cacheprovider", f"--model={checkpoint(tmp_path)}", f"--grounding-store={store}")
    loud.assert_outcomes(passed=1, skipped=10)  # one distinct output per case: undecidable alone, not passed
    assert re.search(r"^shout: 40 outputs \(0 from cache\) generated and judged in [\d.]+ s \([\d.]+ outputs/s\)$",
                     loud.stdout.str(), re.M)  # progress: in a log (no terminal) the closing line per modality
    quiet = pytester.runpytest("-p", "no:cacheprovider", f"--model={checkpoint(tmp_path, drifted=True)}",
                               f"--grounding-store={store}", "--round=quiet", "-q")
    quiet.assert_outcomes(skipped=10, failed=1)  # one distinct output per case: only the pooled floor can fail
    assert "0 of 10 cases significantly below 0.75" in quiet.stdout.str()
    assert "generated and judged in" not in quiet.stdout.str()  # -q: no progress


@pytest.mark.parametrize("store_name", ["store", "absolute"])
def test_failure_messages_give_artifact_paths_that_open_as_printed(plugin, pytester, tmp_path, store_name):
    """The failure messages listed artifacts relative to the store without saying so: `artifacts/ab/<sha>.txt`
    opened from nowhere the user stood. Every path printed opens from the directory pytest ran in."""
    cases = case_file(tmp_path)
    pytester.makepyfile(test_shout=f"""
import pytest

from grounding.suite import test_instruction_is_grounded, test_pass_rate_of_all_cases_is_above_the_floor

pytestmark = pytest.mark.grounding("shout", cases={str(cases)!r})
""")
    store = "store" if store_name == "store" else str(tmp_path / "store")
    result = pytester.runpytest("-p", "no:cacheprovider", f"--model={checkpoint(tmp_path, drifted=True)}",
                                f"--grounding-store={store}", "--seeds=1", "--floor-rule=point")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    printed = re.findall(r"^\s+(\S*artifacts/\w\w/\w{64}\.txt)$", result.stdout.str(), re.M)
    assert len(printed) >= 10, result.stdout.str()[-3000:]
    assert all((pytester.path / path).is_file() for path in printed), printed[:3]


def test_progress_shows_per_batch_in_a_log_with_rate_and_eta_and_not_under_q(plugin, pytester, tmp_path,
                                                                               monkeypatch):
    """A 240-image run on a CPU printed nothing for 6 minutes: in a log (no terminal) only the closing line came.
    Now a line per batch while generating and per part while judging (done/total, outputs/s, ETA), at most every
    PROGRESS_LOG_SECONDS in a log, and none under -q."""
    import grounding.plugin
    import grounding.running._generation

    monkeypatch.setattr(grounding.running._generation, "CHUNK", 10)
    cases = case_file(tmp_path)
    pytester.makepyfile(test_shout=f"""
import pytest

from grounding.suite import test_instruction_is_grounded, test_pass_rate_of_all_cases_is_above_the_floor

pytestmark = pytest.mark.grounding("shout", cases={str(cases)!r})
""")
    run = [f"--model={checkpoint(tmp_path)}", "-p", "no:cacheprovider"]
    monkeypatch.setattr(grounding.plugin, "PROGRESS_LOG_SECONDS", 0.0)
    text = pytester.runpytest(*run, f"--grounding-store={tmp_path / 'every'}").stdout.str()
    rate = r"[\d.]+ outputs/s, (ETA \d+s|in \d+s)"
    generated = re.findall(rf"^shout: generated (\d+)/40 outputs \(0 from cache\), {rate}$", text, re.M)
    judged = re.findall(rf"^shout: judged by is-loud (\d+)/40 outputs, {rate}$", text, re.M)
    assert [int(done) for done, _ in generated] == [10, 20, 30, 40], text
    assert [int(done) for done, _ in judged] == [40], text  # a judge with no identity is given every output at once
    assert generated[0][1].startswith("ETA") and generated[-1][1].startswith("in ")
    monkeypatch.setattr(grounding.plugin, "PROGRESS_LOG_SECONDS", 3600.0)  # a quick run: the first line only
    text = pytester.runpytest(*run, f"--grounding-store={tmp_path / 'few'}").stdout.str()
    assert len(re.findall(r"^shout: (generated|judged by is-loud) \d+/40", text, re.M)) == 1, text
    assert "generated and judged in" in text
    quiet = pytester.runpytest(*run, f"--grounding-store={tmp_path / 'quiet'}", "-q").stdout.str()
    assert "outputs/s" not in quiet
