import re

import pytest

from grounding.adapters._protocol import load_adapter, registered
from grounding.inputs._checkpoint import BUNDLED
from grounding.errors import GroundingUsageError
from grounding.testing import check_adapter


def test_text_to_image_is_registered_like_any_third_party_adapter():
    assert registered()["text-to-image"].value == "grounding.modalities.text_to_image:TextToImage"


def test_text_to_image_adapter_conforms_on_the_bundled_checkpoint():
    adapter = check_adapter("text-to-image", BUNDLED / "shapes-t2i")
    assert adapter.suffix == ".png" and adapter.device == "cpu" and adapter.settings["dtype"] == "torch.float32"


def test_unknown_modality_names_the_known_ones(tmp_path):
    with pytest.raises(GroundingUsageError, match="Unknown modality 'smell'.*text-to-image.*grounding.modalities"):
        load_adapter("smell", tmp_path)


def test_an_incomplete_pipeline_is_a_usage_error(tmp_path):
    (tmp_path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", '
                                               '"UNet2DConditionModel"]}')
    with pytest.raises(GroundingUsageError, match="diffusers could not load this pipeline"):
        load_adapter("text-to-image", tmp_path)


def test_language_model_adapters_are_registered_and_conform_on_the_bundled_checkpoint():
    assert registered()["ascii-art"].value == "grounding.modalities.ascii_art:AsciiArt"
    assert registered()["code"].value == "grounding.modalities.code:Code"
    adapter = check_adapter("ascii-art", BUNDLED / "shapes-lm")
    assert adapter.settings["chat_template"] is True and adapter.settings["dtype"] == "torch.float32"


@pytest.mark.parametrize("modality,path", [("code", "shapes-lm"), ("text-to-image", "shapes-t2i")])
def test_a_misspelt_setting_is_a_usage_error_naming_the_accepted_ones(modality, path):
    with pytest.raises(GroundingUsageError, match=r"does not take: temprature \(it takes: .*batch_size"):
        load_adapter(modality, BUNDLED / path, settings={"temprature": 1.0})


@pytest.mark.parametrize("modality,path,settings,fragment", [
    ("code", "shapes-lm", {"temperature": "hot"}, "`temperature` = 'hot', of type str; it takes float"),
    ("code", "shapes-lm", {"max_new_tokens": 12.5}, "`max_new_tokens` = 12.5, of type float; it takes int"),
    ("text-to-image", "shapes-t2i", {"steps": True}, "`steps` = True, of type bool; it takes int"),
])
def test_a_setting_of_the_wrong_type_is_a_usage_error(modality, path, settings, fragment):
    with pytest.raises(GroundingUsageError, match=re.escape(fragment)):
        load_adapter(modality, BUNDLED / path, settings=settings)
