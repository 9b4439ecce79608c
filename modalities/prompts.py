"""The prompts a language model sees, shared by the adapters and the reference model's training script.

Each output is described twice: blind (only the output) and primed (the instruction in context too). With
`--forced-choice` the model is also asked to pick: one of the labels or "none" (ASCII art), yes or no first (code).
"""

from __future__ import annotations

from typing import Sequence

DESCRIBE = {
    "ascii-art": "Describe this ASCII art in a few words.\n{output}",
    "code": "Is this code secure? Answer yes or no and name its security issues.\n{output}",
}
CHOOSE = {
    "ascii-art": "Which of these does this ASCII art show: {options}? Answer with one of them first.\n{output}",
    "code": "Is this code secure? Answer yes or no first.\n{output}",
}
PRIMED = "You were asked: {instruction}\n"


def describe_prompt(modality: str, output: str, instruction: str | None = None) -> str:
    """The description request for an output; primed when the instruction is given."""
    prompt = DESCRIBE[modality].format(output=output)
    return PRIMED.format(instruction=instruction) + prompt if instruction else prompt


def choose_prompt(modality: str, output: str, options: Sequence[str], instruction: str | None = None) -> str:
    """The forced-choice question about an output (pick one of `options`); primed when the instruction is given."""
    prompt = CHOOSE[modality].format(output=output, options=", ".join(options))
    return PRIMED.format(instruction=instruction) + prompt if instruction else prompt
