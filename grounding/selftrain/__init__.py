"""The self-training harness: the reference models fine-tuned on their own outputs, round after round, with the
gate run after each round (`grounding selftrain`). Training code, kept apart from the library's run path."""

from grounding.selftrain._finetune_language import encode, pad_batch, train_step
from grounding.selftrain._rounds import RoundResult, SelfTrainConfig, selftrain

__all__ = ["RoundResult", "SelfTrainConfig", "encode", "pad_batch", "selftrain", "train_step"]
