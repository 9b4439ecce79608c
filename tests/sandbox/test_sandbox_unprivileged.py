"""The sandbox's attack tests, the store's trust tests and the code analysis worker's limits again, as an ordinary
user: CI runs as root, most CI runners and laptops do not, and the isolation is built differently for each (see
grounding/sandbox/_isolation.py); a read-only store is read-only by permissions only for an ordinary user; the
analysis worker's limits hold for anyone."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import grounding

USER = "grounding-sandbox-test"
# pytest, bandit and what they need, with their distributions' metadata: bandit finds its checks through entry
# points, and pytest's in-process runs (pytester) print pluggy's version
DISTRIBUTIONS = {"pytest": ("pytest", "_pytest", "py"), "pluggy": ("pluggy",), "iniconfig": ("iniconfig",),
                 "packaging": ("packaging",), "bandit": ("bandit",), "stevedore": ("stevedore",),
                 "PyYAML": ("yaml", "_yaml"), "rich": ("rich",), "markdown-it-py": ("markdown_it",),
                 "mdurl": ("mdurl",), "Pygments": ("pygments",)}
PACKAGES = ("sandbox", "results/store", "cli")
MODULES = ("errors.py", "types.py", "inputs/_cases.py", "inputs/_expectations.py", "inputs/_transcripts.py",
           "results/_thresholds.py", "judges/functional/analysis.py", "judges/functional/_analysis_child.py",
           "judges/functional/bandit.py", "judges/functional/code.py")
# their real __init__ re-exports modules that need numpy or torch
EMPTY_PACKAGES = ("", "inputs", "results", "judges", "judges/functional")
TESTS = tuple(Path(__file__).parents[1] / name for name in ("sandbox/test_sandbox.py", "results/store/test_store.py",
                                                            "judges/functional/test_analysis.py", "test_errors.py"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="already unprivileged: test_sandbox.py is this test")


def _copy_module(name: str, site: Path) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return
    origin = Path(spec.origin)
    if origin.name == "__init__.py":
        shutil.copytree(origin.parent, site / name, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy(origin, site / origin.name)


def _unprivileged_tree(root: Path) -> Path:
    """The sandbox and store packages (with the few modules they use, none needing numpy or torch), pytest and
    the tests where an ordinary user can read them (the checkout and the virtual environment may sit in root's
    home)."""
    site = root / "site-packages"
    package = site / "grounding"
    source = Path(grounding.__file__).parent
    for name in PACKAGES:
        shutil.copytree(source / name, package / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in MODULES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, package / name)
    for name in EMPTY_PACKAGES:
        (package / name / "__init__.py").write_text("")
    for distribution, modules in DISTRIBUTIONS.items():
        for name in modules:
            _copy_module(name, site)
        metadata = Path(importlib.metadata.distribution(distribution)._path)
        shutil.copytree(metadata, site / metadata.name)
    (root / "tests").mkdir()
    for test in TESTS:
        shutil.copy(test, root / "tests" / test.name)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return site


def test_every_attack_is_contained_and_every_store_check_holds_for_an_unprivileged_user():
    python = shutil.which("python3", path="/usr/bin:/bin")
    assert python, "no system python3 for the unprivileged user"
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
    root = Path(tempfile.mkdtemp(prefix="grounding-unprivileged-"))
    try:
        root.chmod(0o755)
        site = _unprivileged_tree(root)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "PYTHONPATH": str(site), "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1"}
        account = pwd.getpwnam(USER)
        become = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", "--"]
        done = subprocess.run([*become, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytester",
                               "--rootdir", str(root), *(str(root / "tests" / test.name) for test in TESTS)],
                              cwd=root, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        assert " passed" in done.stdout and "skipped" not in done.stdout
    finally:
        shutil.rmtree(root, ignore_errors=True)
