"""grounding installs like a library: a wheel built from the checkout, installed (not editable) into a fresh venv,
finds its bundled checkpoints and case files as package data, runs its suites by package name from another
folder, and puts nothing generic at the top of site-packages."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).parents[1]


def _source_copy(dest: Path) -> Path:
    """The checkout's files as git sees them (tracked, and new ones it does not ignore): building in a copy
    leaves no build/ or egg-info in the checkout."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel installed; the heavy dependencies (torch, diffusers, ...) come from this
    environment's site-packages through a .pth line, since nothing may be downloaded."""
    work = tmp_path_factory.mktemp("install")
    source = _source_copy(work / "source")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--wheel-dir", str(work / "dist"), str(source)], check=True, timeout=900)
    (wheel,) = (work / "dist").glob("grounding-*.whl")
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=600)
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    return python, site, elsewhere


def _run(python, args, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_the_wheel_installs_everything_under_the_grounding_namespace(installed):
    python, site, elsewhere = installed
    (record,) = site.glob("grounding-*.dist-info/RECORD")
    tops = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines()
            if not line.startswith("../")}  # the console script, in the venv's bin/
    assert {top for top in tops if not top.endswith(".dist-info")} == {"grounding"}, tops
    shipped = site / "grounding"
    assert (shipped / "checkpoints" / "shapes-t2i" / "model_index.json").is_file()
    assert (shipped / "checkpoints" / "shapes-clip" / "open_clip_model.safetensors").is_file()
    assert (shipped / "suites" / "cases" / "text_to_image.toml").is_file()
    assert (shipped / "suites" / "cases" / "thorough" / "text_to_image.toml").is_file()
    probe = _run(python, ["-c", "import importlib, grounding, grounding.shapes_world, "
                                "grounding.modalities.text_to_image; from grounding.inputs._checkpoint import BUNDLED; "
                                "cases = importlib.import_module('grounding.gate').SUITE_CASES; "
                                "print(grounding.__file__, BUNDLED, cases, sep='\\n')"], elsewhere)
    assert probe.returncode == 0, probe.stderr
    module, bundled, cases = probe.stdout.split()
    for path in (module, bundled, cases):
        assert Path(path).is_relative_to(shipped), (path, shipped)
    for generic in ("modalities", "shapes_world", "suites"):
        assert _run(python, ["-c", f"import {generic}"], elsewhere).returncode != 0


def test_the_installed_suites_run_by_package_name_from_another_folder(installed, tmp_path):
    python, site, elsewhere = installed
    result = _run(python, ["-m", "pytest", "--pyargs", "grounding.suites", "-p", "no:cacheprovider", "-q",
                           "--seeds", "1", f"--grounding-store={tmp_path / 'store'}"], elsewhere)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    for modality in ("text-to-image: 60 cases", "ascii-art: 16 cases", "code: 40 cases"):
        assert modality in result.stdout, result.stdout[-3000:]
    assert not (elsewhere / ".grounding").exists()


def test_the_installed_cli_judges_an_image_from_another_folder(installed):
    python, _, elsewhere = installed
    picture = elsewhere / "red-circle.png"
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).ellipse((16, 16, 44, 44), fill=(220, 40, 40))
    image.save(picture)
    cli = python.parent / "grounding"
    result = subprocess.run([str(cli), "judge", "image", str(picture), "--instruction", "a red circle",
                             "--contrast", "a blue circle", "--expect",
                             json.dumps({"things": [{"colour": "red", "shape": "circle"}]})],
                            cwd=elsewhere, capture_output=True, text=True, timeout=600,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert result.returncode == 0, result.stdout + result.stderr
    (verdict,) = json.loads(result.stdout)
    assert verdict["passed"] and verdict["judge"] == "bundled:shapes-clip"
    assert verdict["verdicts"]["clip"]["winner"] == "a red circle"
    assert verdict["verdicts"]["oracle"]["pass"] and "red circle" in verdict["verdicts"]["oracle"]["reading"]
