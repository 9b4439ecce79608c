"""Paths a user types: `~` is the home folder; a `~name` with no such user is a name, not a traceback."""

from pathlib import Path

import pytest

from grounding.errors import GroundingUsageError
from grounding.inputs import resolve, user_path
from grounding.results.store import Store


def test_a_tilde_is_the_home_folder_and_an_unknown_user_is_taken_literally():
    assert user_path("~/ckpt") == Path.home() / "ckpt"
    assert user_path("~no-such-user-here/ckpt") == Path("~no-such-user-here/ckpt")
    assert user_path("~0") == Path("~0")  # a round label, as the fuzzer passed it to --baseline


def test_a_baseline_or_model_named_with_an_unknown_home_is_a_usage_error(tmp_path):
    from grounding.results import load_baseline

    store = Store(tmp_path / "store")
    with pytest.raises(GroundingUsageError, match="--baseline ~0: no run with that id or round label"):
        load_baseline("~0", store)
    store.close()
    with pytest.raises(GroundingUsageError, match="--model ~no-such-user-here/ckpt: no such file or directory"):
        resolve("~no-such-user-here/ckpt")
