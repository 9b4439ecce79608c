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


def _language_model_dir(tmp_path):
    """A causal LM folder with every file the language model adapter loads (tiny stand-ins: resolve loads nothing)."""
    folder = tmp_path / "lm"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}))
    (folder / "tokenizer_config.json").write_text("{}")
    (folder / "tokenizer.json").write_text("{}")
    save_file({"w": torch.ones(3)}, folder / "model.safetensors")
    return folder


def test_diffusers_and_transformers_folders(tmp_path):
    assert [c.modality for c in resolve(_pipeline_dir(tmp_path))] == ["text-to-image"]
    assert [c.modality for c in resolve(_language_model_dir(tmp_path))] == ["ascii-art", "code"]


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


def _complete_pipeline(tmp_path):
    """A pipeline folder holding every part its model_index.json names, as save_pretrained lays them out."""
    folder = tmp_path / "pipe"
    parts = {"tokenizer": ("transformers", "CLIPTokenizer", ["tokenizer_config.json", "vocab.json", "merges.txt"]),
             "text_encoder": ("transformers", "CLIPTextModel", ["config.json", "model.safetensors"]),
             "unet": ("diffusers", "UNet2DConditionModel", ["config.json", "diffusion_pytorch_model.safetensors"]),
             "scheduler": ("diffusers", "DPMSolverMultistepScheduler", ["scheduler_config.json"])}
    index = {"_class_name": "StableDiffusionPipeline", "safety_checker": [None, None], "requires_safety_checker": False}
    for part, (library, class_name, files) in parts.items():
        index[part] = [library, class_name]
        (folder / part).mkdir(parents=True)
        for name in files:
            if name.endswith(".safetensors"):
                save_file({"w": torch.ones(3)}, folder / part / name)
            else:
                (folder / part / name).write_text("{}")
    (folder / "model_index.json").write_text(json.dumps(index))
    return folder


def _missing(folder, part):
    shutil.rmtree(folder / part) if (folder / part).is_dir() else (folder / part).unlink()


def _empty(folder, part):
    if (folder / part).is_dir():
        shutil.rmtree(folder / part)
        (folder / part).mkdir()
    else:
        (folder / part).write_bytes(b"")


def _dangling(folder, part):
    _missing(folder, part)
    (folder / part).symlink_to(folder.parent / "gone" / part)  # as `cp -r` leaves a link into a sibling folder


UNET_WEIGHTS = "unet/diffusion_pytorch_model.safetensors"


@pytest.mark.parametrize("damage, part, fragment", [
    (_missing, "tokenizer", "the tokenizer (CLIPTokenizer) is missing: model_index.json names it, but {path}"),
    (_empty, "tokenizer", "the tokenizer (CLIPTokenizer) is an empty folder: {path} has no tokenizer_config.json"),
    (_dangling, "tokenizer", "tokenizer is a symbolic link to {gone}, which does not exist"),
    (_missing, "tokenizer/tokenizer_config.json", "the tokenizer (CLIPTokenizer) is incomplete: {parent} has no "
                                                  "tokenizer_config.json"),
    (_missing, "text_encoder", "the text_encoder (CLIPTextModel) is missing: model_index.json names it, but {path}"),
    (_empty, "text_encoder", "the text_encoder (CLIPTextModel) is an empty folder: {path} has no config.json; no "
                             "weights file"),
    (_dangling, "text_encoder", "text_encoder is a symbolic link to {gone}, which does not exist"),
    (_missing, UNET_WEIGHTS, "the unet (UNet2DConditionModel) is incomplete: {parent} has no weights file"),
    (_empty, UNET_WEIGHTS, "{path} is not a readable safetensors file: it is empty (0 bytes)"),
    (_dangling, UNET_WEIGHTS, f"{UNET_WEIGHTS} is a symbolic link to {{gone}}, which does not exist"),
    (_empty, "scheduler/scheduler_config.json", None),  # present: what it holds is the scheduler's to judge
    (_missing, "scheduler", "the scheduler (DPMSolverMultistepScheduler) is missing"),
])
def test_a_pipeline_missing_a_part_is_refused_in_one_paragraph_naming_it(tmp_path, damage, part, fragment):
    folder = _complete_pipeline(tmp_path)
    assert [c.modality for c in resolve(folder)] == ["text-to-image"]
    damage(folder, part)
    if fragment is None:
        assert resolve(folder)
        return
    with pytest.raises(GroundingUsageError) as err:
        resolve(folder)
    message = str(err.value)
    expected = fragment.format(path=folder / part, parent=(folder / part).parent, gone=tmp_path / "gone" / part)
    assert expected in message and message.startswith("--model") and "\n" not in message, message


def test_a_component_that_is_a_file_or_unnamed_or_switched_off(tmp_path):
    folder = _complete_pipeline(tmp_path)
    shutil.rmtree(folder / "text_encoder")
    (folder / "text_encoder").write_text("not a folder")
    with pytest.raises(GroundingUsageError, match=r"the text_encoder \(CLIPTextModel\) is a file, .* where a folder"):
        resolve(folder)
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps(index | {"text_encoder": [None, None]}))
    assert resolve(folder)  # [null, null]: a pipeline that runs without it
    (folder / "model_index.json").write_text("[1, 2]")
    with pytest.raises(GroundingUsageError, match="model_index.json is not a JSON object"):
        resolve(folder)


def test_a_sharded_component_missing_a_shard_is_refused(tmp_path):
    folder = _complete_pipeline(tmp_path)
    weights = folder / UNET_WEIGHTS
    weights.rename(weights.with_name("diffusion_pytorch_model-00001-of-00002.safetensors"))
    (folder / "unet" / "diffusion_pytorch_model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "diffusion_pytorch_model-00001-of-00002.safetensors",
        "b": "diffusion_pytorch_model-00002-of-00002.safetensors"}}))
    with pytest.raises(GroundingUsageError, match="lists the weights file diffusion_pytorch_model-00002-of-00002"):
        resolve(folder)


@pytest.mark.parametrize("damage, part, fragment", [
    (_missing, "tokenizer.json", "this GPT2LMHeadModel is incomplete: {folder} has no vocabulary (tokenizer.json"),
    (_missing, "tokenizer_config.json", "this GPT2LMHeadModel is incomplete: {folder} has no tokenizer_config.json"),
    (_dangling, "tokenizer.json", "tokenizer.json is a symbolic link to {gone}, which does not exist"),
    (_missing, "model.safetensors", "this GPT2LMHeadModel is incomplete: {folder} has no weights file"),
    (_empty, "model.safetensors", "{folder}/model.safetensors is not a readable safetensors file: it is empty"),
    (_dangling, "model.safetensors", "model.safetensors is a symbolic link to {gone}, which does not exist"),
])
def test_a_language_model_missing_a_file_is_refused_in_one_paragraph_naming_it(tmp_path, damage, part, fragment):
    folder = _language_model_dir(tmp_path)
    assert [c.modality for c in resolve(folder)] == ["ascii-art", "code"]
    damage(folder, part)
    with pytest.raises(GroundingUsageError) as err:
        resolve(folder)
    message = str(err.value)
    assert fragment.format(folder=folder, gone=tmp_path / "gone" / part) in message and "\n" not in message, message


MODELS = {"shapes-t2i": "text-to-image", "shapes-t2i-seed2": "text-to-image", "shapes-lm": "ascii-art",
          "shapes-lm-biased": "code", "shapes-lm-seed1": "ascii-art"}


@pytest.mark.parametrize("name", sorted(p.name for p in BUNDLED.iterdir() if p.is_dir()))
def test_a_bundled_checkpoint_copied_as_it_is_holds_all_its_files(tmp_path, name):
    """A copy keeps links as links (`cp -r`, copytree(symlinks=True)): a link into a sibling folder would dangle."""
    copy = shutil.copytree(BUNDLED / name, tmp_path / name, symlinks=True)
    assert not [p for p in copy.rglob("*") if p.is_symlink()]
    assert content_hash(copy) == content_hash(BUNDLED / name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_bundled_model_copied_as_it_is_resolves_loads_and_generates(tmp_path, name):
    from grounding.testing import check_adapter

    copy = shutil.copytree(BUNDLED / name, tmp_path / "round-1", symlinks=True)
    assert MODELS[name] in [c.modality for c in resolve(copy)]
    check_adapter(MODELS[name], copy)


@pytest.mark.parametrize("modality, index", [("text-to-image", "model_index.json"), ("code", "config.json")])
def test_a_grounding_toml_modality_whose_folder_lacks_its_index_file_is_a_usage_error(tmp_path, modality, index):
    """Found by the input fuzzer: a grounding.toml naming a modality at a folder without model_index.json (or
    config.json) raised FileNotFoundError from the folder check, a traceback instead of a message."""
    (tmp_path / "grounding.toml").write_text(f'[modalities.{modality}]\n')
    with pytest.raises(GroundingUsageError, match=f"{index} is missing"):
        resolve(tmp_path)
