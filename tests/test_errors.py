"""The usage error's message and `printable`: what a store or an output holds reaches a terminal inert."""

import pickle

import pytest

from grounding.errors import GroundingUsageError, printable


@pytest.mark.parametrize("text, line, lines", [
    ("a\x1b[2Kb", "ab", "ab"),  # erase the line
    ("x\x1b]0;window title\x07y", "xy", "xy"),  # retitle the window (OSC ended by BEL)
    ("\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\", "link", "link"),  # a hyperlink (OSC ended by ST)
    ("q\x9b31mw\x9d0;t\x9c", "qw", "qw"),  # the 8-bit (C1) forms of CSI and OSC
    ("e\x1bcf\x1b(Bg\x1b", "efg", "efg"),  # reset the terminal, a charset switch, a lone ESC
    ("tab\tnew\nline\rdel\x7f\x00\x85", "tab new linedel", "tab\tnew\nlinedel"),
    ("é ✓ ∞ 猫", "é ✓ ∞ 猫", "é ✓ ∞ 猫"),  # printable text is kept as it is
])
def test_printable_removes_escape_sequences_and_control_characters(text, line, lines):
    assert printable(text) == line and printable(text, lines=True) == lines


def test_a_usage_error_message_is_printable_and_survives_pickling():
    err = GroundingUsageError("--run x: no such run (rounds: 0\x1b[2K\x1b]0;owned\x07, 1).\nPass one of them.")
    assert str(err) == "--run x: no such run (rounds: 0, 1).\nPass one of them."
    assert str(pickle.loads(pickle.dumps(err))) == str(err)  # xdist workers send it to the controller
