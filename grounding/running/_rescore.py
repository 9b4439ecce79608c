"""`grounding rescore`: judge a stored run's outputs again, with another CLIP judge or newer judges, without the
model. The outputs come from the store; scores whose judge is unchanged come from the score cache; the result
is a new run linked to the old one (`rescored_from` in its settings), which reports and baselines read like any.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Sequence

from grounding.errors import GroundingUsageError
from grounding.results.store import Store
from grounding.types import Artifact, Case, Record


@dataclass(frozen=True)
class StoredOutputs:
    """Stands for the model of a stored run: its modality and settings, as the run recorded them, so that the
    outputs it made (descriptions of its own outputs too) are found in the generation cache. Asked to make
    anything new, it refuses: rescore never loads a model."""

    modality: str
    settings: dict
    kind: str
    suffix: str = ""

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[bytes]:
        raise self._refusal()

    def describe(self, outputs: Sequence[bytes], instructions: Sequence[Any], seeds: Sequence[int]) -> list[str]:
        raise self._refusal()

    def choose(self, outputs: Sequence[bytes], instructions: Sequence[Any], seeds: Sequence[int],
               options: Sequence[str]) -> list[str]:
        raise self._refusal()

    def _refusal(self) -> GroundingUsageError:
        return GroundingUsageError(
            f"rescore: a {self.modality} judge asked the model for something the store does not hold (a description "
            f"of its own output, under these settings), and rescore does not load models. Rescore in the store "
            f"that judged the run, or run the suite again with --model and --judge instead.")


@dataclass(frozen=True)
class Rescored:
    """The new run and, per modality, how many outputs were judged and how many scores came from the cache."""

    run_id: str
    round: str
    rescored_from: str
    outputs: dict[str, int]
    from_cache: dict[str, dict[str, int]]
    pass_rates: dict[str, tuple[float, float]]  # modality -> (before, after), share of passing outputs

    def lines(self) -> list[str]:
        out = [f"rescored run {self.rescored_from} as run {self.run_id} (round {self.round!r})"]
        for modality, count in self.outputs.items():
            judged = ", ".join(f"{judge} ({cached} of {count} from cache)"
                               for judge, cached in self.from_cache[modality].items())
            before, after = self.pass_rates[modality]
            out.append(f"  {modality}: {count} outputs judged by {judged}; passing outputs {before:.3f} -> {after:.3f}")
        return out


def rescore(store_root, run_ref: str, *, judge: str | None = None, round: str | None = None,
            device: str | None = None) -> Rescored:
    """Judge run `run_ref`'s outputs in `store_root` again with every installed judge (`judge`: the CLIP judge's
    spec, as --judge) and append the result as a new run."""
    from grounding.adapters._protocol import adapter_kind, registered
    from grounding.judges._registry import JudgeContext, judges_for
    from grounding.judges.functional.clip import check_spec
    from grounding.running._generation import RunInfo, to_records
    from grounding.running._score_cache import judged_with_cache
    from grounding.settings import from_values

    Store(store_root, writable=False, option="--store").close()  # a mistyped --store is refused, not created empty
    store = Store(store_root, option="--store")
    try:
        run_id = store.find_run(run_ref)
        if run_id is None:
            raise GroundingUsageError(f"rescore --run {run_ref}: no run or round of that name in {store_root}. "
                                      f"`grounding history --store {store_root}` lists them.")
        old = next(r for r in store.runs() if r["run_id"] == run_id)
        old_settings, records, cases = old["settings"], store.records(run_id), store.cases(run_id)
        if not cases:
            raise GroundingUsageError(f"rescore --run {run_ref}: run {run_id} stored no cases (a store written before "
                                      f"cases were kept), so its outputs cannot be judged again.")
        check_spec(judge)
        settings = from_values({"judge": judge, "store": str(store_root), "device": device,
                                "round": round or f"{old['round']}+rescored", "model": old["model"] or None})
        new_id = time.strftime("%Y%m%d-%H%M%S-rescore-") + run_id[-6:]
        started, new_records = time.time(), []
        outputs, cached, rates = {}, {}, {}
        for modality, by_id in cases.items():
            if modality not in registered():
                raise GroundingUsageError(f"rescore: run {run_id} holds {modality} outputs and no installed adapter "
                                          f"declares that modality; install the package that provides it.")
            mine = [r for r in records if r.modality == modality]
            artifacts = _stored_artifacts(store, mine, run_id)
            model_hash = mine[0].model_hash if mine else old_settings.get("models", {}).get(modality, "")
            adapter = StoredOutputs(modality, dict(old_settings.get("adapters", {}).get(modality, {})),
                                    adapter_kind(modality))
            context = JudgeContext(adapter, settings, store, model_hash, _world(old_settings, modality, mine))
            run = RunInfo(new_id, settings.round, model_hash)
            cached[modality] = {}
            for each in judges_for(adapter.kind, modality):
                judged, from_cache = judged_with_cache(each, artifacts, by_id, context)
                cached[modality][each.name] = from_cache
                for artifact, scores in judged:
                    new_records += to_records(run, modality, artifact, scores)
            outputs[modality] = len(artifacts)
            rates[modality] = (_passing_share(mine, by_id, settings), _passing_share(
                [r for r in new_records if r.modality == modality], by_id, settings))
        store.append_run(run_id=new_id, round=settings.round, model=old["model"], started=started,
                         records=new_records, cases=[c for by_id in cases.values() for c in by_id.values()],
                         settings={**old_settings, "judge": judge or "bundled:shapes-clip", "rescored_from": run_id,
                                   "baseline": None})
    finally:
        store.close()
    return Rescored(new_id, settings.round, run_id, outputs, cached, rates)


def _stored_artifacts(store: Store, records: Sequence[Record], run_id: str) -> list[Artifact]:
    """The run's outputs (no controls), one per case and seed, each checked against its hash in the store."""
    from grounding.results.store import artifact_sha

    seen: dict[tuple[str, int], Artifact] = {}
    for record in records:
        if record.is_control or (record.case_id, record.seed) in seen:
            continue
        sha = artifact_sha(record.artifact)
        path = store.verified_artifact(record.artifact, sha) if sha else None
        if path is None:
            raise GroundingUsageError(
                f"rescore: run {run_id}'s output for case {record.case_id}, seed {record.seed} ({record.artifact}) is "
                f"missing from the store or damaged. `grounding store check --store {store.root}` lists what is "
                f"wrong; rescore needs every output of the run.")
        seen[record.case_id, record.seed] = Artifact(record.case_id, record.seed, path, sha, True)
    return list(seen.values())


def _world(settings: dict, modality: str, records: Sequence[Record]) -> str | None:
    """The world the run's model declared; for runs stored before worlds were kept, the shapes world when the
    shapes oracle judged the run."""
    worlds = settings.get("worlds")
    if isinstance(worlds, dict):
        return worlds.get(modality)
    return "shapes" if any(r.judge == "oracle" for r in records) else None


def _passing_share(records: Sequence[Record], cases: dict[str, Case], settings) -> float:
    from grounding.running._orchestrator import modality_results

    if not records:
        return 0.0
    return modality_results(cases, records, None, replace(settings, floor_rule="point")).floors.pooled.observed.rate
