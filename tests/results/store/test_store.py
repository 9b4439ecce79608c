import json
import os
import random
import sqlite3

import pytest

from grounding.errors import GroundingUsageError
from grounding.results.store import SCHEMA_VERSION, ArtifactProblem, Store, artifact_ref, check_store
from grounding.types import Record


def _record(run_id, case="c1", seed=0, value=1.0):
    return Record(run_id, "r0", "hash", "text-to-image", case, seed, "clip", "r_precision", value, value > 0.5, "a.png")


def test_runs_and_records_round_trip(tmp_path):
    store = Store(tmp_path)
    store.append_run(run_id="run-1", round="0", model="m", started=1.0, settings={"seeds": 2},
                     records=[_record("run-1"), _record("run-1", seed=1, value=0.0)])
    store.append_run(run_id="run-2", round="1", model="m", started=2.0, settings={}, records=[_record("run-2")])
    assert [r["run_id"] for r in store.runs()] == ["run-1", "run-2"]
    assert store.find_run("0") == "run-1" and store.find_run("run-2") == "run-2" and store.find_run("9") is None
    records = store.records("run-1")
    assert [(r.seed, r.passed) for r in records] == [(0, True), (1, False)]


def test_a_failed_append_leaves_the_store_as_it_was(tmp_path):
    store = Store(tmp_path)
    store.append_run(run_id="run-1", round="0", model="m", started=1.0, settings={}, records=[_record("run-1")])
    bad = Record("run-2", "1", "h", "m", "c", 0, "clip", "x", None, None, "a.png")  # value NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        store.append_run(run_id="run-2", round="1", model="m", started=2.0, settings={},
                         records=[_record("run-2"), bad])
    assert [r["run_id"] for r in store.runs()] == ["run-1"]
    assert store.records("run-2") == []


def test_artifacts_are_content_addressed_and_cache_entries_verified(tmp_path):
    store = Store(tmp_path)
    path, sha = store.write_artifact(b"png bytes", ".png")
    assert path.name == f"{sha}.png" and path.read_bytes() == b"png bytes"
    assert store.write_artifact(b"png bytes", ".png") == (path, sha)
    store.remember_generations([("key", path, sha)])
    assert store.cached_generation("key") == (path, sha)
    path.write_bytes(b"tampered")
    assert store.cached_generation("key") is None
    assert store.cached_generation("unknown") is None


def test_unwritable_store_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(GroundingUsageError, match="cannot open the result store"):
        Store(blocker / "store")


# A store is input like any other: a baseline downloaded from another job, a folder damaged by a full disk.

def _one_run(root, artifact="a.png"):
    store = Store(root)
    path, _ = store.write_artifact(b"png bytes", ".png")
    store.append_run(run_id="run-1", round="0", model="m", started=1.0, settings={"seeds": 1},
                     records=[Record("run-1", "0", "h", "text-to-image", "c1", 0, "clip", "r", 1.0, True,
                                     artifact_ref(path) if artifact is None else artifact)])
    store.close()
    return path


def test_records_keep_artifacts_relative_to_the_store_and_resolve_them_by_name_only(tmp_path):
    path = _one_run(tmp_path, artifact=None)
    store = Store(tmp_path, writable=False)
    (record,) = store.records("run-1")
    assert record.artifact == f"artifacts/{path.name[:2]}/{path.name}"
    assert store.read_artifact(record.artifact) == b"png bytes"
    secret = tmp_path.parent / "secret.txt"
    secret.write_text("GH_TOKEN=abc")
    for ref in (str(secret), "../../secret.txt", "artifacts/../../secret.txt", f"/etc/{path.name[:10]}.png"):
        with pytest.raises(ArtifactProblem, match="not the name of a store artifact"):
            store.read_artifact(ref)
    # an absolute path (as older stores kept) is followed by its name into this store, never to where it points
    elsewhere = tmp_path.parent / path.name
    elsewhere.write_bytes(b"png bytes")
    assert store.artifact_path(str(elsewhere)) == path


def test_a_damaged_artifact_is_rewritten_and_never_read_as_good(tmp_path):
    store = Store(tmp_path)
    path, sha = store.write_artifact(b"png bytes", ".png")
    path.write_bytes(b"tampered")
    with pytest.raises(ArtifactProblem, match="damaged"):
        store.read_artifact(artifact_ref(path))
    assert store.write_artifact(b"png bytes", ".png") == (path, sha)
    assert path.read_bytes() == b"png bytes"
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere")
    assert store.write_artifact(b"png bytes", ".png") == (path, sha) and not path.is_symlink()


def _damage(tmp_path, how):
    _one_run(tmp_path)
    file = tmp_path / "grounding.sqlite"
    data = file.read_bytes()
    if how == "truncated":
        file.write_bytes(data[: len(data) // 3])
    elif how == "random bytes":
        file.write_bytes(random.Random(0).randbytes(len(data)))
    elif how == "page corrupted":
        pages = sqlite3.connect(file).execute("PRAGMA page_size").fetchone()[0]
        file.write_bytes(data[:pages] + bytes(reversed(data[pages:2 * pages])) + data[2 * pages:])
    elif how == "column missing":
        with sqlite3.connect(file) as db:
            db.execute("ALTER TABLE records DROP COLUMN explanation")
    elif how == "newer version":
        with sqlite3.connect(file) as db:
            db.execute("PRAGMA user_version = 7")
    elif how == "wrong types":
        with sqlite3.connect(file) as db:
            db.execute("UPDATE records SET value = 'high', seed = 'x'")
    return file


@pytest.mark.parametrize("how, message", [
    ("truncated", "damaged"), ("random bytes", "damaged"), ("page corrupted", "damaged"),
    ("column missing", "missing explanation"), ("newer version", r"written by a newer grounding \(schema 7"),
])
@pytest.mark.parametrize("writable", [True, False])
def test_a_damaged_store_is_one_usage_error_and_is_left_as_it_was(tmp_path, how, message, writable):
    file = _damage(tmp_path, how)
    before = file.read_bytes()
    option = "--grounding-store" if writable else "--baseline"
    with pytest.raises(GroundingUsageError, match=message) as err:
        Store(tmp_path, writable=writable, option=option).records("run-1")
    text = str(err.value)
    assert text.startswith(f"{option} {tmp_path}") and "\n" not in text
    assert "grounding store check" in text or "Upgrade grounding" in text
    assert file.read_bytes() == before


def test_rows_of_the_wrong_type_are_refused_as_they_are_read(tmp_path):
    _damage(tmp_path, "wrong types")
    store = Store(tmp_path, writable=False)
    with pytest.raises(GroundingUsageError, match="has a wrong seed, value"):
        store.records("run-1")


def test_a_read_only_store_is_a_usage_error_when_written_and_readable_as_a_baseline(tmp_path):
    """As root permissions do not bind, so the folder is mounted read-only (bubblewrap); otherwise chmod."""
    import os
    import shutil
    import subprocess
    import sys

    _one_run(tmp_path / "store")
    code = ("import sys; from grounding.results.store import Store; from grounding.errors import GroundingUsageError\n"
            "print(len(Store(sys.argv[1], writable=False).records('run-1')))\n"
            "try:\n    Store(sys.argv[1])\nexcept GroundingUsageError as err:\n    print(err)\n")
    command = [sys.executable, "-c", code, str(tmp_path / "store")]
    if os.geteuid() == 0:
        if not shutil.which("bwrap"):
            pytest.skip("needs bubblewrap to mount a folder read-only as root")
        command = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(tmp_path), str(tmp_path), *command]
    else:
        for path in (tmp_path / "store", tmp_path / "store" / "grounding.sqlite", tmp_path / "store" / "artifacts"):
            path.chmod(0o555 if path.is_dir() else 0o444)
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and lines[0] == "1", result.stderr
    assert lines[1].startswith(f"--grounding-store {tmp_path / 'store'}: cannot open the result store there")
    assert "Read-only file system" in lines[1] or "Permission denied" in lines[1]


def _legacy_store(root):
    """A store as versions before the schema was numbered wrote it: absolute artifact paths, no cases table,
    records without kind and hash columns (a control known by its judge's name suffix)."""
    from grounding.results.store._schema import ADDED_IN_3, COLUMNS

    (root / "artifacts" / "ab").mkdir(parents=True)
    artifact = root / "artifacts" / "ab" / ("ab" + "0" * 62 + ".png")
    artifact.write_bytes(b"x")
    with sqlite3.connect(root / "grounding.sqlite") as db:
        for table in ("runs", "records", "generations"):
            columns = [c for c in COLUMNS[table] if c not in ADDED_IN_3.get(table, ())]
            db.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
        db.execute("INSERT INTO runs VALUES ('run-1', '0', 'm', 1.0, 2.0, '{}')")
        db.execute("INSERT INTO records VALUES ('run-1', '0', 'h', 'code', 'c', 0, 'bandit', 'secure', 1.0, 1, ?, '')",
                   (str(artifact),))
        db.execute("INSERT INTO records VALUES ('run-1', '0', 'h', 'code', 'c', 0, 'clip-control', 'blank_loses', 1.0, "
                   "1, 'elsewhere/blank.png', '')")
    return artifact


def test_an_older_store_is_read_as_it_is_and_migrated_when_written(tmp_path):
    artifact = _legacy_store(tmp_path)
    file = tmp_path / "grounding.sqlite"
    before = file.read_bytes()
    reader = Store(tmp_path, writable=False)
    record, control = reader.records("run-1")
    assert record.artifact == str(artifact) and reader.cases("run-1") == {}
    assert (record.kind, record.sha256, control.kind, control.sha256) == ("output", artifact.stem, "control", "")
    reader.close()
    assert file.read_bytes() == before  # read-only means read-only
    writer = Store(tmp_path)
    record, control = writer.records("run-1")
    assert record.artifact == f"artifacts/ab/{artifact.name}" and writer.cases("run-1") == {}
    assert (record.kind, record.sha256, control.kind, control.sha256) == ("output", artifact.stem, "control", "")
    assert control.is_control and not record.is_control
    assert sqlite3.connect(file).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_store_check_reports_integrity_missing_damaged_and_orphaned_artifacts(tmp_path, capsys):
    from grounding.cli import main

    path = _one_run(tmp_path, artifact=None)
    assert check_store(tmp_path).healthy
    assert main(["store", "check", "--store", str(tmp_path)]) == 0
    assert "healthy" in capsys.readouterr().out
    orphan = tmp_path / "artifacts" / "cd" / ("cd" + "1" * 62 + ".txt")
    orphan.parent.mkdir()
    orphan.write_text("left over")
    path.write_bytes(b"tampered")
    found = check_store(tmp_path)
    assert not found.healthy and found.runs == 1 and found.records == 1 and found.artifacts == 1
    assert found.damaged == (f"{path.name} is damaged: its content does not match its name",)
    assert found.orphaned == (str(orphan.relative_to(tmp_path)),)
    path.unlink()
    assert check_store(tmp_path).missing == (f"{path.name} is missing from the store",)
    assert main(["store", "check", "--store", str(tmp_path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["missing"]
    _damage(tmp_path / "other", "truncated")
    assert main(["store", "check", "--store", str(tmp_path / "other")]) == 1
    assert "damaged" in capsys.readouterr().out
    assert main(["store", "check", "--store", str(tmp_path / "nowhere")]) == 2


# A link planted in a store (a downloaded baseline) must not make the store read a file from elsewhere: the attacker
# names the link by the SHA-256 of the file it points at, so the hash check alone would pass it.

def _planted(tmp_path, content=b"GH_TOKEN=abc"):
    """A store whose one record names a file outside it, through a link named by that file's hash."""
    import hashlib

    secret = tmp_path / "home" / "secret.txt"
    secret.parent.mkdir()
    secret.write_bytes(content)
    name = hashlib.sha256(content).hexdigest() + ".txt"
    _one_run(tmp_path / "store", artifact=f"artifacts/{name[:2]}/{name}")
    link = tmp_path / "store" / "artifacts" / name[:2] / name
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(secret)
    return tmp_path / "store", link, secret


def test_an_artifact_that_is_a_link_is_refused_and_store_check_names_it(tmp_path, capsys):
    from grounding.cli import main

    root, link, secret = _planted(tmp_path)
    ref = str(link.relative_to(root))
    store = Store(root, writable=False)
    with pytest.raises(ArtifactProblem, match="is a symbolic link") as refused:
        store.read_artifact(ref)
    assert refused.value.kind == "unsafe" and "GH_TOKEN" not in str(refused.value)
    assert store.verified_artifact(ref, link.name.split(".")[0]) is None
    store.close()
    before = sorted((p, p.lstat().st_mode) for p in root.rglob("*"))
    found = check_store(root)
    assert not found.healthy and found.unsafe == (f"{ref} (a symbolic link)",) and found.damaged == ()
    assert main(["store", "check", "--store", str(root)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEMS FOUND" in out and "1 symbolic links or not regular files" in out and f"    {ref} (a" in out
    assert main(["store", "check", "--store", str(root), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["unsafe"] == [f"{ref} (a symbolic link)"]
    assert sorted((p, p.lstat().st_mode) for p in root.rglob("*")) == before  # the check changes nothing
    assert secret.read_bytes() == b"GH_TOKEN=abc"


def test_a_folder_of_artifacts_that_is_a_link_is_neither_read_nor_written_through(tmp_path, capsys):
    from grounding.cli import main

    import hashlib

    root, link, secret = _planted(tmp_path)
    folder = link.parent
    link.unlink()
    folder.rmdir()
    (secret.parent / link.name).write_bytes(secret.read_bytes())  # the file the record names, outside the store
    folder.symlink_to(secret.parent, target_is_directory=True)
    ref = str(link.relative_to(root))
    store = Store(root)
    with pytest.raises(ArtifactProblem, match=f"artifacts/{folder.name} is a symbolic link"):
        store.read_artifact(ref)
    data = next(d for d in (str(i).encode() for i in range(100_000))
                if hashlib.sha256(d).hexdigest()[:2] == folder.name)
    with pytest.raises(GroundingUsageError, match="symbolic link"):  # a write into the linked folder is refused
        store.write_artifact(data, ".txt")
    store.close()
    assert sorted(p.name for p in secret.parent.iterdir()) == sorted(["secret.txt", link.name])
    assert check_store(root).unsafe == (f"artifacts/{folder.name} (a symbolic link)",)
    assert main(["store", "check", "--store", str(root)]) == 1
    (root / "artifacts").rename(tmp_path / "moved")
    (root / "artifacts").symlink_to(tmp_path / "moved", target_is_directory=True)
    assert check_store(root).unsafe == ("artifacts (a symbolic link)",)
    with pytest.raises(ArtifactProblem, match="artifacts is a symbolic link"):
        Store(root, writable=False).read_artifact(ref)


def test_an_artifact_that_is_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    root, link, _ = _planted(tmp_path)
    link.unlink()
    os.mkfifo(link)
    ref = str(link.relative_to(root))
    with pytest.raises(ArtifactProblem, match="is a named pipe"):
        Store(root, writable=False).read_artifact(ref)
    found = check_store(root)
    assert found.unsafe == (f"{ref} (a named pipe)",) and not found.healthy
