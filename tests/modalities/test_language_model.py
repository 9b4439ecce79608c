"""The language-model adapters on a tiny random GPT-2 built here (real transformers classes, no download)."""

import sys
from pathlib import Path

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from grounding.errors import GroundingUsageError
from grounding.testing import check_adapter
from grounding.modalities.ascii_art import AsciiArt
from grounding.modalities.code import Code
from grounding.modalities.language_model import LanguageModel

sys.path.insert(0, str(Path(__file__).parents[2] / "fixtures"))
from train_language_model import build_tokenizer  # noqa: E402


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-lm")
    tokenizer = build_tokenizer(["Draw a square in ASCII art.\n#####\n#   #\n#####", "def f():\n    return 1"], 300)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=128, n_embd=32, n_layer=1, n_head=2,
                        bos_token_id=tokenizer.eos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)  # a fixed random model: the tests below are deterministic
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_ascii_and_code_adapters_conform(tiny_lm):
    assert check_adapter("ascii-art", tiny_lm).suffix == ".txt"
    code = check_adapter("code", tiny_lm)
    assert code.suffix == ".py" and code.settings["chat_template"] is True


def test_sampling_depends_on_prompt_and_seed_only(tiny_lm):
    lm = LanguageModel.load(tiny_lm, device="cpu", temperature=1.0, max_new_tokens=12, batch_size=4)
    prompts, seeds = ["a", "b", "a", "c", "a"], [0, 0, 1, 2, 0]
    batched = lm.complete(prompts, seeds)
    alone = [lm.complete([p], [s])[0] for p, s in zip(prompts, seeds)]
    assert batched == alone
    assert batched[0] == batched[4]
    assert len({lm.complete(["a"], [s])[0] for s in range(6)}) > 1  # seeds do change samples


def test_greedy_is_deterministic_and_limits_new_tokens(tiny_lm):
    lm = LanguageModel.load(tiny_lm, device="cpu", max_new_tokens=5)
    out = lm.complete(["a", "a"], [0, 7])
    assert out[0] == out[1]
    longer = LanguageModel.load(tiny_lm, device="cpu", max_new_tokens=40).complete(["a"], [0])[0]
    assert len(longer) > len(out[0].rstrip("\ufffd")) and longer.startswith(out[0].rstrip("\ufffd"))


def test_greedy_answers_each_distinct_message_once_whatever_the_seeds(tiny_lm):
    lm = LanguageModel.load(tiny_lm, device="cpu", max_new_tokens=5, batch_size=2)
    asked = []
    answer_batch = lm._batch
    lm._batch = lambda messages, seeds: asked.extend(messages) or answer_batch(messages, seeds)
    out = lm.complete(["a", "b", "a", "a", "b"], [0, 1, 2, 3, 4])
    assert sorted(asked) == ["a", "b"]
    assert out == [out[0], out[1], out[0], out[0], out[1]]
    assert out[:2] == [lm.complete(["a"], [9])[0], lm.complete(["b"], [9])[0]]  # the same answers, asked alone


def test_code_adapter_keeps_only_the_fenced_code():
    assert Code.clean(None, "Sure:\n```python\nx = 1\n```\nDone.") == "x = 1\n"
    assert AsciiArt.clean(None, "\n\n###\n# #\n###\n\n") == "###\n# #\n###"


def test_describe_primes_with_the_instruction(tiny_lm):
    adapter = AsciiArt.load(tiny_lm, device="cpu", max_new_tokens=4)
    prompts = []
    adapter.lm.complete = lambda messages, seeds: prompts.extend(messages) or ["x"] * len(messages)
    adapter.describe([b"###"], ["Draw a square in ASCII art."], [0])
    adapter.describe([b"###"], [None], [0])
    assert prompts[0].startswith("You were asked: Draw a square in ASCII art.\nDescribe this ASCII art")
    assert prompts[1].startswith("Describe this ASCII art") and prompts[1].endswith("###")


def test_a_folder_that_is_not_a_language_model_is_a_usage_error(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "gpt2"}')
    with pytest.raises(GroundingUsageError, match="transformers could not load this causal language model"):
        LanguageModel.load(tmp_path, device="cpu")


def test_an_answer_cut_by_the_time_limit_is_an_error_not_an_output(tiny_lm):
    """A clock-cut answer depends on machine load: it must never be judged or cached as the model's answer."""
    lm = LanguageModel.load(tiny_lm, device="cpu", max_new_tokens=400, time_limit=1e-6)
    with pytest.raises(GroundingUsageError, match="stopped at time_limit"):
        lm.complete(["draw"], [0])
    assert len(LanguageModel.load(tiny_lm, device="cpu", max_new_tokens=8).complete(["draw"], [0])) == 1
