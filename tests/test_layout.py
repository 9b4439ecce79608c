"""README's map of the package matches the tree: every module is listed once, with what it is, and nothing listed is
missing."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def mapped_modules() -> dict[str, str]:
    """Path -> description, from the indented text block under README's "one line per module" heading."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"\*\*The package, one line per module\*\*.*?```text\n(.*?)```", readme, re.DOTALL).group(1)
    folders: list[str] = []
    modules = {}
    for line in block.splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name, _, description = line.strip().partition(" ")
        folders[depth:] = []
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
            continue
        path = "/".join([*folders, name])
        assert path not in modules, f"{path} is listed twice"
        modules[path] = description.strip()
    return modules


def test_every_module_is_mapped_once_with_a_description_and_nothing_else_is():
    mapped = mapped_modules()
    tree = {str(p.relative_to(ROOT)) for p in (ROOT / "grounding").rglob("*.py")
            if p.name not in ("__init__.py", "__main__.py") or p.parent.name == "grounding"}
    assert set(mapped) == tree, (f"in the tree, not in README's map: {sorted(tree - set(mapped))}; "
                                 f"in the map, not in the tree: {sorted(set(mapped) - tree)}")
    assert all(len(description.split()) >= 3 for description in mapped.values())


def test_the_map_reads_nested_folders():
    """The parser itself: a module two folders deep keeps both folders, and a folder's siblings do not."""
    mapped = mapped_modules()
    assert "grounding/judges/functional/clip.py" in mapped and "grounding/judges/clip.py" in mapped
    assert "grounding/results/store/_schema.py" in mapped and "grounding/results/_verdicts.py" in mapped
