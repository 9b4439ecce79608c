"""PNG plots of a store's history: each modality's metrics over rounds, and the concepts that moved most."""

from __future__ import annotations

import io

from grounding.errors import printable
from grounding.results._history import HistoryRow, moved_most

SCALES = {"clip_score": "CLIPScore (0-2.5)", "bandit_findings": "bandit findings per output"}


def history_png(rows: list[HistoryRow], modality: str) -> bytes:
    """Three panels: the [0, 1] metrics, the unbounded ones, and the concepts that moved most, round by round."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    mine = [r for r in rows if r.modality == modality]
    labels = [printable(r.round) for r in mine]
    x = range(len(mine))
    names = list(dict.fromkeys(k for r in mine for k in r.metrics))
    figure, (rates, scores, concepts) = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
    for name in names:
        axis = scores if name in SCALES else rates
        axis.plot(x, [r.metrics.get(name, float("nan")) for r in mine], marker="o", label=SCALES.get(name, name))
    for word in moved_most(mine):
        concepts.plot(x, [r.concepts.get(word, float("nan")) for r in mine], marker="o", label=printable(word))
    for axis, title in ((rates, f"{modality}: rates"), (scores, "scores"), (concepts, "concepts that moved most")):
        axis.set_title(title)
        axis.set_xticks(list(x), labels)
        axis.set_xlabel("round")
        if axis.lines:
            axis.legend(fontsize="small")
        else:
            axis.text(0.5, 0.5, "nothing to plot", ha="center", va="center", transform=axis.transAxes)
    rates.set_ylim(-0.05, 1.05)
    concepts.set_ylim(-0.05, 1.05)
    concepts.set_ylabel("pass rate of the concept's cases")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return buffer.getvalue()
