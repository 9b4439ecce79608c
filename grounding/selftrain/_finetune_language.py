"""Fine-tune a transformers causal language model on (user message, answer) pairs.

The answers are framed as the adapters frame a prompt (the tokenizer's chat template when it has one), and
the loss covers the answer tokens only. Used by the self-training harness; works for the reference model and
for any `AutoModelForCausalLM` folder.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

from grounding.errors import GroundingUsageError


def encode(tokenizer, pairs: Sequence[tuple[str, str]], max_length: int) -> list[tuple[list[int], int]]:
    """Token ids of each whole exchange and where its answer starts; exchanges longer than the model's
    context are left out (an own output may run to the token limit)."""
    out = []
    for user, answer in pairs:
        if tokenizer.chat_template:
            prompt = tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                                   add_generation_prompt=True)
        else:
            prompt = user + "\n"
        prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
        answer_ids = tokenizer(answer, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
        if len(prompt_ids) + len(answer_ids) <= max_length:
            out.append((prompt_ids + answer_ids, len(prompt_ids)))
    return out


def pad_batch(chosen: Sequence[tuple[list[int], int]], pad: int):
    """Input ids, labels (-100 outside the answers) and attention mask of encoded exchanges, right-padded."""
    import torch

    width = max(len(ids) for ids, _ in chosen)
    inputs = torch.full((len(chosen), width), pad)
    labels = torch.full((len(chosen), width), -100)
    mask = torch.zeros((len(chosen), width), dtype=torch.long)
    for row, (ids, start) in enumerate(chosen):
        inputs[row, :len(ids)] = torch.tensor(ids)
        labels[row, start:len(ids)] = torch.tensor(ids[start:])
        mask[row, :len(ids)] = 1
    return inputs, labels, mask


def train_step(model, optimiser, batch, device: str) -> float:
    """One optimiser step of the answer-only language-model loss on a padded batch; returns the loss."""
    import torch

    inputs, labels, mask = batch
    loss = model(input_ids=inputs.to(device), attention_mask=mask.to(device), labels=labels.to(device)).loss
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimiser.step()
    return loss.item()


def fine_tune(model_path: Path, out: Path, pairs: Sequence[tuple[str, str]], *, steps: int, lr: float, batch: int,
              seed: int, device: str | None = None) -> None:
    """Fine-tune the causal LM at `model_path` on `pairs` and save it, with its tokenizer, to `out`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    # bandit B615: a local folder (local_files_only): nothing is downloaded, so there is no revision to pin
    tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)  # nosec B615
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32, use_safetensors=True,  # nosec B615
                                                 local_files_only=True).to(device)
    context = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", 1024)
    data = encode(tokenizer, pairs, context)
    if not data:
        raise GroundingUsageError(
            f"{model_path}: none of the {len(pairs)} training exchanges fits the model's context of {context} "
            f"tokens. Lower the generation's max_new_tokens in grounding.toml.")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    # bandit B311: seeded sampling of training batches, reproducible on purpose; no secret comes from it
    rng = random.Random(seed)  # nosec B311
    torch.manual_seed(seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    model.train()
    for _ in range(steps):
        train_step(model, optimiser, pad_batch([rng.choice(data) for _ in range(batch)], pad), device)
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
