import json
import re
import shutil

import pytest
import torch
from safetensors.torch import save_file

from grounding.inputs._checkpoint import BUNDLED, content_hash, resolve
from grounding.errors import GroundingUsageError


def _pipeline_dir(tmp_path, weights="model.safetensors"):
    folder = tmp_path / "pipe"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    if weights.endswith(".safetensors"):
        save_file({"w": torch.ones(3)}, folder / "unet" / weights)
    else:
        torch.save({"w": torch.ones(3)}, folder / "unet" / weights)
    return folder


def test_bundled_checkpoints_resolve_to_their_modalities():
    found = resolve(BUNDLED)
    assert [c.modality for c in found] == ["text-to-image", "ascii-art", "code"]
    assert (found[0].path / "model_index.json").is_file()
    assert found[0].settings["steps"] > 0
    assert found[1].path == found[2].path and (found[1].path / "config.json").is_file()
    assert found[2].settings["max_new_tokens"] > found[1].settings["max_new_tokens"]


def test_diffusers_and_transformers_folders(tmp_path):
    assert [c.modality for c in resolve(_pipeline_dir(tmp_path))] == ["text-to-image"]
    lm = tmp_path / "lm"
    lm.mkdir()
    (lm / "config.json").write_text("{}")
    assert [c.modality for c in resolve(lm)] == ["ascii-art", "code"]


def _file(folder):
    (folder / "w.safetensors").write_bytes(b"x")
    return folder / "w.safetensors"


@pytest.mark.parametrize("make, problem", [
    (lambda p: p / "missing", "no such file or directory"),
    (_file, "a file, not a checkpoint folder"),
    (lambda p: p, "not a checkpoint"),
])
def test_bad_paths_get_one_clear_message(tmp_path, make, problem):
    with pytest.raises(GroundingUsageError, match=problem) as err:
        resolve(make(tmp_path))
    assert "--model" in str(err.value)


def test_pickle_weights_are_refused_unless_allowed(tmp_path):
    folder = _pipeline_dir(tmp_path, weights="diffusion_pytorch_model.bin")
    with pytest.raises(GroundingUsageError, match="pickle checkpoint.*--allow-pickle"):
        resolve(folder)
    assert resolve(folder, allow_pickle=True)


@pytest.mark.parametrize("damage", [lambda b: b[:-4], lambda b: b"\xff" * 8 + b[8:], lambda b: b[:8] + b"{nope" + b[13:]])
def test_corrupt_safetensors_are_refused(tmp_path, damage):
    folder = _pipeline_dir(tmp_path)
    file = folder / "unet" / "model.safetensors"
    file.write_bytes(damage(file.read_bytes()))
    with pytest.raises(GroundingUsageError, match="not a readable safetensors file"):
        resolve(folder)


def test_content_hash_follows_content_not_location(tmp_path):
    first = _pipeline_dir(tmp_path)
    moved = shutil.copytree(first, tmp_path / "elsewhere")
    assert content_hash(first) == content_hash(moved)
    save_file({"w": torch.zeros(3)}, moved / "unet" / "model.safetensors")
    assert content_hash(first) != content_hash(moved)


def test_content_hash_reads_through_a_linked_component_folder(tmp_path):
    shared = tmp_path / "shared-tokenizer"
    shared.mkdir()
    (shared / "vocab.json").write_text('{"a": 0}')
    folder = _pipeline_dir(tmp_path)
    (folder / "tokenizer").symlink_to(shared, target_is_directory=True)
    before = content_hash(folder)
    (shared / "vocab.json").write_text('{"b": 0}')
    assert content_hash(folder) != before


def test_grounding_toml_names_sub_folders(tmp_path):
    pipe = _pipeline_dir(tmp_path)
    (tmp_path / "grounding.toml").write_text('[modalities.text-to-image]\npath = "pipe"\nsteps = 3\n')
    (found,) = resolve(tmp_path)
    assert found.path == pipe.resolve() and found.settings == {"steps": 3}
    (tmp_path / "grounding.toml").write_text("[modalities\n")
    with pytest.raises(GroundingUsageError, match="not valid TOML"):
        resolve(tmp_path)


@pytest.mark.parametrize("text, fragment", [
    ('modalities = 5\n', "`modalities` must hold tables"),
    ('[modalities.text-to-image]\npath = 3\n', "`path` must be a string"),
    ('[modalities.text-to-image]\nsteps = nan\n', "`steps` = nan: a setting must be a string, a finite number"),
    ('[modalities.text-to-image]\nsteps = [1, 2]\n', "`steps` = [1, 2]"),
    ('wrld = "shapes"\n', "unknown top-level key(s) 'wrld'"),
])
def test_grounding_toml_values_are_checked(tmp_path, text, fragment):
    (tmp_path / "grounding.toml").write_text(text)
    with pytest.raises(GroundingUsageError, match=re.escape(fragment)):
        resolve(tmp_path)


def test_the_world_a_checkpoint_draws_comes_from_grounding_toml_and_travels_with_a_copied_folder(tmp_path):
    assert [c.world for c in resolve(BUNDLED)] == ["shapes", "shapes", "shapes"]
    copy = shutil.copytree(BUNDLED / "shapes-t2i", tmp_path / "copy")
    (found,) = resolve(copy)
    assert (found.modality, found.world) == ("text-to-image", "shapes")
    assert [c.world for c in resolve(_pipeline_dir(tmp_path))] == [None]  # a user's pipeline: no oracle
    (tmp_path / "manifest").mkdir()
    (tmp_path / "manifest" / "grounding.toml").write_text(f'[modalities.text-to-image]\npath = "{copy}"\n')
    assert [c.world for c in resolve(tmp_path / "manifest")] == ["shapes"]  # the sub-folder's own declaration
    (tmp_path / "manifest" / "grounding.toml").write_text('world = "mnist"\n')
    with pytest.raises(GroundingUsageError, match="`world` = 'mnist' names no world"):
        resolve(tmp_path / "manifest")
