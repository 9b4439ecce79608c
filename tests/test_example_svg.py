"""The fourth modality, shipped as its own package (examples/grounding-svg): installed with pip into an empty
folder, found only through its entry point, judged by the installed image judges; its suite passes the healthy
SVG model and fails a copy whose words "red" and "blue" are swapped."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "grounding-svg"
MODEL = EXAMPLE / "shapes-svg-lm"

pytest.importorskip("resvg_py")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The example installed the way a user installs a plugin (from a copy, so no build files land in the repo),
    and the environment of a process that has it on its path."""
    work = tmp_path_factory.mktemp("svg-plugin")
    source = shutil.copytree(EXAMPLE, work / "source", ignore=shutil.ignore_patterns("shapes-svg-lm", "suites"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(work / "site"), str(source)], check=True, timeout=600,
                   capture_output=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(work / "site"),
                                                                      os.environ.get("PYTHONPATH")]))}
    return work, env


def _grounding(env, *arguments):
    return subprocess.run([sys.executable, "-m", "grounding.cli", *arguments], env=env, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def _suite(env, model, store):
    return subprocess.run([sys.executable, "-m", "pytest", str(EXAMPLE / "suites"), "--model", str(model),
                           "--grounding-store", str(store), "--seeds", "2", "-p", "no:cacheprovider", "-q"],
                          env=env, capture_output=True, text=True, timeout=1200, cwd=ROOT)


def test_the_modality_exists_only_through_its_entry_point(site):
    work, env = site
    without = json.loads(_grounding({**os.environ}, "modalities", "--json").stdout)
    assert "svg" not in without["modalities"]
    listed = json.loads(_grounding(env, "modalities", "--json").stdout)["modalities"]["svg"]
    assert listed == {"adapter": "grounding_svg:SvgDrawing", "kind": "image", "judges": ["clip", "shapes-oracle"]}


def test_its_suite_passes_the_healthy_model_and_fails_a_drifted_copy(site):
    work, env = site
    healthy = _suite(env, MODEL, work / "store")
    assert healthy.returncode == 0, healthy.stdout[-3000:] + healthy.stderr[-2000:]
    assert "svg: 60 cases" in healthy.stdout

    drifted = shutil.copytree(MODEL, work / "swapped")
    swap = ("from transformers import AutoModelForCausalLM, AutoTokenizer; import sys, torch; p = sys.argv[1]; "
            "t = AutoTokenizer.from_pretrained(p); m = AutoModelForCausalLM.from_pretrained(p); "
            "a, b = (t(w, add_special_tokens=False).input_ids for w in (' red', ' blue')); "
            "assert len(a) == len(b) == 1, (a, b); w = m.get_input_embeddings().weight.data; "
            "w[[a[0], b[0]]] = w[[b[0], a[0]]].clone(); m.save_pretrained(p)")
    subprocess.run([sys.executable, "-c", swap, str(drifted)], check=True, timeout=300, capture_output=True)
    broken = _suite(env, drifted, work / "store")
    assert broken.returncode == 1, broken.stdout[-3000:]
    assert "FAILED" in broken.stdout and "significantly below the floor" in broken.stdout
    failing = [line.split(":")[0].strip() for line in broken.stdout.splitlines()
               if line.startswith("  ") and "pass rate 0.00" in line]  # the cases listed under the failed floor
    assert any("red" in case for case in failing) and any("blue" in case for case in failing), broken.stdout[-3000:]
