"""The prompts a language model sees, shared by the adapters and the reference model's training script.

Each output is described twice: blind (only the output) and primed (the instruction in context too).
"""

from __future__ import annotations

DESCRIBE = {
    "ascii-art": "Describe this ASCII art in a few words.\n{output}",
    "code": "Is this code secure? Answer yes or no and name its security issues.\n{output}",
}
PRIMED = "You were asked: {instruction}\n"


def describe_prompt(modality: str, output: str, instruction: str | None = None) -> str:
    """The description request for an output; primed when the instruction is given."""
    prompt = DESCRIBE[modality].format(output=output)
    return PRIMED.format(instruction=instruction) + prompt if instruction else prompt
