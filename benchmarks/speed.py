"""How much time the suite adds to the work it wraps, measured side by side in one run (issue 11). Not a
timed test: every row is a ratio of two timings taken in this process, on this machine, one after the other.

Parts (`--parts`, comma-separated):
- `pipeline`: the bundled text-to-image model through its adapter (`generate`, PNG bytes) against the raw
  diffusers pipeline call for the same prompts, seeds, batch size, steps and guidance.
- `sd15`: the same with a Stable-Diffusion-1.5-sized pipeline of random weights (UNet 860M parameters at
  512x512, SD's VAE and a 12-layer CLIP text encoder), built in a temporary folder and loaded by the adapter
  through `from_pretrained`; meant for a GPU (on a CPU pass `--images 2`).
- `clip`: the CLIP judge's scoring of images (preprocessing, image and text embeddings, ranks) against raw
  `open_clip` (its own preprocessing and `encode_image`) on the same images at the same batch.
- `suite`: `pytest suites/test_text_to_image.py` on a fresh store (start-up, model and judge loading, generation,
  judging, statistics) against `benchmarks/raw_text_to_image.py` (diffusers alone: start-up, loading,
  generation) for the same 240 prompts, seeds and batch size, each in a fresh process timed from outside;
  `suite-thorough` the same with `--profile thorough` (960 outputs). `--pairs N` interleaves N (raw, suite)
  pairs and reports the median pair, so that the machine's drift between runs falls on both sides.
  `suite-sd15` the same with the SD-1.5-sized pipeline as `--model` (a model of real size, where generation
  outweighs start-up on a GPU too); `--sd15-size`, `--sd15-steps` and `--suite-seeds` shrink it for a CPU.
- `cache`: `pytest suites/` (all modalities) on a fresh store, the unchanged rerun, and `--collect-only`; peak
  memory of the first run.
- `scale`: `gate()` on text-to-image at 60, 240 and 960 outputs (60 cases x 1 and 4 seeds, the thorough
  profile's 120 cases x 8 seeds), time per output.
- `xdist`: `pytest suites/ -n 2` against `-n 0`, each on a fresh store.

    python benchmarks/speed.py --parts pipeline,clip,suite,cache,scale,xdist
    python benchmarks/speed.py --parts sd15,suite,suite-thorough,suite-sd15 --pairs 3 --device cuda
    python benchmarks/speed.py --parts suite-sd15 --sd15-size 128 --sd15-steps 4 --suite-seeds 1    # CPU

Prints a Markdown table (README's "Speed"): what was timed, the two timings, their ratio, and the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from grounding.adapters import load_adapter
from grounding.inputs import BUNDLED

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ("a red circle", "two blue squares", "a small green triangle", "a large yellow circle",
           "a purple square on the left", "three red triangles", "a blue circle above a red square", "an empty image")


def timed(work: Callable[[], object], repeats: int) -> float:
    """The best of `repeats` wall-clock timings, after one untimed warm-up call."""
    work()
    best = float("inf")
    for _ in range(repeats):
        _synchronize()
        started = time.perf_counter()
        work()
        _synchronize()
        best = min(best, time.perf_counter() - started)
    return best


def _synchronize() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def prompts_and_seeds(count: int) -> tuple[list[str], list[int]]:
    return [PROMPTS[i % len(PROMPTS)] for i in range(count)], list(range(count))


def raw_pipeline_calls(adapter, prompts: list[str], seeds: list[int]) -> None:
    """The diffusers pipeline called as the adapter calls it (same batches, seeds and knobs), images kept as PIL:
    the raw script's own loop, on the adapter's loaded pipeline."""
    from raw_text_to_image import make_images  # benchmarks/, this script's folder, is on sys.path

    make_images(adapter.pipe, prompts, seeds, adapter.device, adapter.settings)


def adapter_against_pipeline(folder: Path, device: str | None, images: int, repeats: int, label: str,
                             **settings) -> list[tuple[str, float, float, str]]:
    """The adapter's `generate` and the raw pipeline call on the same prompts, seeds and batches."""
    adapter = load_adapter("text-to-image", folder, device=device, settings=settings)
    prompts, seeds = prompts_and_seeds(images)
    size, knobs = adapter.settings["batch_size"], adapter.settings

    through_adapter = timed(lambda: adapter.generate(prompts, seeds), repeats)
    raw_pipeline = timed(lambda: raw_pipeline_calls(adapter, prompts, seeds), repeats)
    what = f"{label}: adapter / raw pipeline ({images} images, batch {size}, {knobs['steps']} steps, {adapter.device})"
    rates = f"{images / through_adapter:.1f} vs {images / raw_pipeline:.1f} images/s"
    return [(what, through_adapter, raw_pipeline, rates)]


def sd15_folder(folder: Path) -> Path:
    """A StableDiffusionPipeline folder with SD-1.5's UNet, VAE and text-encoder shapes and random weights, the
    bundled model's tokenizer and scheduler."""
    import torch
    from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    tokenizer = CLIPTokenizer.from_pretrained(BUNDLED / "shapes-t2i" / "tokenizer")
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768)  # the defaults are SD-1.5's blocks
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, sample_size=512)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=768, intermediate_size=3072,
                                        num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=77))
    scheduler = DPMSolverMultistepScheduler.from_pretrained(BUNDLED / "shapes-t2i" / "scheduler")
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.to(torch_dtype=torch.float16).save_pretrained(folder, safe_serialization=True)
    print(f"  SD-1.5-sized pipeline: UNet {sum(p.numel() for p in unet.parameters()) / 1e6:.0f}M parameters",
          file=sys.stderr)
    return folder


def clip_against_open_clip(device: str | None, images: int, repeats: int) -> list[tuple[str, float, float, str]]:
    """The CLIP judge's scores for `images` bundled-model outputs against raw open_clip image encoding."""
    import torch

    from grounding.judges.functional.clip import load_clip_judge, score_images
    from grounding.inputs import open_image

    adapter = load_adapter("text-to-image", BUNDLED / "shapes-t2i", device=device)
    prompts, seeds = prompts_and_seeds(images)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for n, data in enumerate(adapter.generate(prompts, seeds)):
            paths.append(Path(folder) / f"{n}.png")
            paths[-1].write_bytes(data)
        pictures = [open_image(p, str(p)) for p in paths]
    judge = load_clip_judge(device=device)
    contrasts = [[p for p in PROMPTS if p != prompt][:3] for prompt in prompts]

    def raw() -> None:
        with torch.no_grad():
            batch = torch.stack([judge.preprocess(p.convert("RGB")) for p in pictures])
            judge.model.encode_image(batch.to(judge.device))

    judged = timed(lambda: score_images(judge, pictures, prompts, contrasts), repeats)
    encoded = timed(raw, repeats)
    return [(f"CLIP judge / raw open_clip encode_image ({images} images, one batch, {judge.device})", judged, encoded,
             f"{images / judged:.0f} vs {images / encoded:.0f} images/s")]


def pytest_run(arguments: list[str], cwd: Path, log: Path | None = None) -> tuple[float, int]:
    """Wall time and peak resident memory (MiB) of `pytest ARGUMENTS` in a child process (its output to `log`)."""
    started = time.perf_counter()
    with open(log or os.devnull, "w") as output:
        child = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments], cwd=cwd,
                                 stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"pytest {' '.join(arguments)} failed to run (exit {os.waitstatus_to_exitcode(status)})")
    return elapsed, usage.ru_maxrss // 1024


def raw_child(folder: Path, prompts: list[str], seeds: list[int], device: str, knobs: dict) -> tuple[float, dict]:
    """Wall time of benchmarks/raw_text_to_image.py in a fresh process (start-up, imports, loading, generation),
    and what it printed: its own loading and generation times."""
    job = {"folder": str(folder), "prompts": prompts, "seeds": seeds, "device": device, "knobs": knobs}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "raw_text_to_image.py")], input=json.dumps(job),
                          capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the raw pipeline script failed: {done.stderr[-2000:]}")
    return elapsed, json.loads(done.stdout)


def suite_knobs(model: Path) -> tuple[Path, dict]:
    """The pipeline folder and knobs the suite's text-to-image adapter uses for `--model MODEL`: the adapter's
    defaults, then MODEL's grounding.toml, read without loading the pipeline."""
    import inspect

    from grounding.adapters import adapter_class
    from grounding.inputs import resolve

    (checkpoint,) = [c for c in resolve(model) if c.modality == "text-to-image"]
    load = inspect.signature(adapter_class("text-to-image").load).parameters
    knobs = {name: p.default for name, p in load.items() if p.default is not inspect.Parameter.empty}
    knobs |= dict(checkpoint.settings)
    return checkpoint.path, {k: knobs[k] for k in ("batch_size", "steps", "guidance", "height", "width")}


def suite_against_pipeline(device: str | None, profile: str = "default", pairs: int = 1, model: Path | None = None,
                           seeds: int | None = None, label: str = "") -> list[tuple[str, float, float, str]]:
    """The text-to-image suite on a fresh store against the raw pipeline for its prompts and seeds (the default
    profile's 240: 60 cases x 4 seeds, or the thorough profile's 960: 120 cases x 8 seeds), each in a fresh process
    timed from outside. `pairs` > 1 interleaves raw, suite, raw, suite, ... so that drift of the machine's speed
    falls on both sides of each pair; the row gives the median pair's ratio and every pair's. `model` is a
    --model folder (default: the bundled one), `seeds` the suite's --seeds (default: the profile's)."""
    from statistics import median

    from grounding.adapters import resolved_device
    from grounding.inputs import load_cases
    from grounding.running import sample_seed
    from grounding.settings import PROFILES

    folder = ROOT / "suites" / "cases" / PROFILES[profile].get("cases", "")
    cases = load_cases(folder / "text_to_image.toml", "text-to-image")
    seeds = seeds or PROFILES[profile].get("seeds", 4)
    jobs = [(c.instruction, sample_seed(c.instruction, seed)) for c in cases for seed in range(seeds)]
    pipeline, knobs = suite_knobs(model or BUNDLED)
    options = ["--profile", profile, "--seeds", str(seeds)] + (["--model", str(model)] if model else []) \
        + (["--device", device] if device else [])
    measured = []  # (suite, suite phase or None, raw, raw load + generation)
    for _ in range(pairs):
        raw_time, raw_own = raw_child(pipeline, [p for p, _ in jobs], [s for _, s in jobs], resolved_device(device),
                                      knobs)
        with tempfile.TemporaryDirectory() as store:
            log = Path(store) / "log"
            suite_time, _ = pytest_run(["suites/test_text_to_image.py", "--grounding-store", store, *options],
                                       ROOT, log)
            closing = re.search(r"text-to-image: \d+ outputs .* generated and judged in ([0-9.]+) s",
                                log.read_text())
        measured.append((suite_time, float(closing.group(1)) if closing else None, raw_time,
                         raw_own["load_s"] + raw_own["generate_s"]))
        print(f"  pair {len(measured)}: suite {suite_time:.1f} s, raw {raw_time:.1f} s", file=sys.stderr)
    ratios = sorted(m[0] / m[2] for m in measured)
    middle = min(measured, key=lambda m: abs(m[0] / m[2] - median(ratios)))
    each = ", ".join(f"{r:.2f}" for r in ratios)
    what = (f"{label or 'text-to-image'} suite, {profile} profile, {len(cases)} cases x {seeds} seeds, fresh store "
            f"/ raw pipeline script, each a fresh process ({len(jobs)} images, batch {knobs['batch_size']}, "
            f"{knobs['steps']} steps)")
    rows = [(what + (f", median of {pairs} interleaved pairs" if pairs > 1 else ""), middle[0], middle[2],
             f"{len(jobs) / middle[0]:.2f} vs {len(jobs) / middle[2]:.2f} images/s"
             + (f"; every pair: {each}" if pairs > 1 else ""))]
    if middle[1] is not None:  # the suite's own line: model and judge loading, generation, PNGs, store, judging
        rows.append(("... the suite's generate-and-judge phase (model and judge loading included) / the raw "
                     "script's loading and generation", middle[1], middle[3],
                     f"start-up, collection and reporting: {middle[0] - middle[1]:.1f} s against "
                     f"{middle[2] - middle[3]:.1f} s"))
    return rows


def sd15_suite_model(folder: Path, size: int, steps: int) -> Path:
    """The SD-1.5-sized pipeline as a --model folder: a grounding.toml gives the adapter its size and steps."""
    sd15_folder(folder)
    (folder / "grounding.toml").write_text(
        f'[modalities.text-to-image]\npath = "."\nsteps = {steps}\nheight = {size}\nwidth = {size}\n'
        f'batch_size = 16\n')
    return folder


def cached_rerun() -> list[tuple[str, float, float, str]]:
    """All bundled suites: first run on a fresh store, the unchanged rerun, and collecting alone."""
    with tempfile.TemporaryDirectory() as folder:
        first, memory = pytest_run(["suites/", "-q", "--grounding-store", folder], ROOT)
        again, _ = pytest_run(["suites/", "-q", "--grounding-store", folder], ROOT)
        collect, _ = pytest_run(["suites/", "-q", "--grounding-store", folder, "--collect-only"], ROOT)
    return [("pytest suites/: unchanged rerun / first run", again, first, f"peak memory of the first run {memory} MiB"),
            ("pytest suites/: unchanged rerun / --collect-only", again, collect, f"{again - collect:+.1f} s")]


def scaling(device: str | None) -> list[tuple[str, float, float, str]]:
    """gate() on text-to-image at 60, 240 and 960 outputs, each on a fresh store; the time per output."""
    import grounding

    rows, base = [], None
    for label, options in (("60 cases x 1 seed", {"seeds": 1}), ("60 cases x 4 seeds", {"seeds": 4}),
                           ("120 cases x 8 seeds (thorough)", {"profile": "thorough"})):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            verdict = grounding.gate(BUNDLED / "shapes-t2i", baseline=None, store=folder,
                                     modalities=["text-to-image"], device=device, **options)
            elapsed = time.perf_counter() - started
        outputs = len({(c, rec.seed) for r in verdict.results.values() for c in r.cases for rec in r.judged(c)})
        per = elapsed / outputs
        base = base or per
        rows.append((f"gate(), {label}: time per output / at 60 outputs", per, base,
                     f"{outputs} outputs in {elapsed:.1f} s"))
    return rows


def workers() -> list[tuple[str, float, float, str]]:
    """All bundled suites on fresh stores with two xdist workers and without xdist."""
    with tempfile.TemporaryDirectory() as alone, tempfile.TemporaryDirectory() as shared:
        one, _ = pytest_run(["suites/", "-q", "--grounding-store", alone, "-n", "0"], ROOT)
        two, _ = pytest_run(["suites/", "-q", "--grounding-store", shared, "-n", "2"], ROOT)
    return [("pytest suites/ -n 2 / -n 0, fresh stores", two, one, f"{os.cpu_count()} CPUs")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="pipeline,clip")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when present, else cpu)")
    parser.add_argument("--images", type=int, default=None, help="images per timing (default: 256; sd15: 64)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the best is kept (default 3)")
    parser.add_argument("--pairs", type=int, default=1, help="suite parts: interleaved (raw, suite) pairs; the "
                                                            "median pair is shown (default 1)")
    parser.add_argument("--suite-seeds", type=int, default=None,
                        help="suite-sd15: the suite's --seeds (default 4: 240 outputs)")
    parser.add_argument("--sd15-size", type=int, default=512, help="suite-sd15: image size (default 512)")
    parser.add_argument("--sd15-steps", type=int, default=20, help="suite-sd15: denoising steps (default 20)")
    args = parser.parse_args()
    rows: list[tuple[str, float, float, str]] = []
    parts = args.parts.split(",")
    if "pipeline" in parts:
        rows += adapter_against_pipeline(BUNDLED / "shapes-t2i", args.device, args.images or 256, args.repeats,
                                         "bundled text-to-image")
    if "sd15" in parts:
        with tempfile.TemporaryDirectory() as folder:
            rows += adapter_against_pipeline(sd15_folder(Path(folder) / "sd15"), args.device, args.images or 64,
                                             args.repeats, "SD-1.5-sized UNet, random weights, 512x512",
                                             batch_size=16)
    if "clip" in parts:
        rows += clip_against_open_clip(args.device, args.images or 256, args.repeats)
    if "suite" in parts:
        rows += suite_against_pipeline(args.device, pairs=args.pairs)
    if "suite-thorough" in parts:
        rows += suite_against_pipeline(args.device, "thorough", pairs=args.pairs)
    if "suite-sd15" in parts:
        with tempfile.TemporaryDirectory() as folder:
            model = sd15_suite_model(Path(folder) / "sd15", args.sd15_size, args.sd15_steps)
            rows += suite_against_pipeline(args.device, pairs=args.pairs, model=model, seeds=args.suite_seeds,
                                           label=f"SD-1.5-sized UNet (random weights, {args.sd15_size}x"
                                                 f"{args.sd15_size}) through the text-to-image")
    if "cache" in parts:
        rows += cached_rerun()
    if "scale" in parts:
        rows += scaling(args.device)
    if "xdist" in parts:
        rows += workers()
    import torch

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"{platform.processor() or 'CPU'}, " \
        f"{torch.get_num_threads()} threads"
    print(f"\nSpeed on {device} (best of {args.repeats} after a warm-up)\n")
    print("| what | ours (s) | reference (s) | ratio | notes |\n| --- | --- | --- | --- | --- |")
    for what, ours, reference, notes in rows:
        print(f"| {what} | {ours:.3f} | {reference:.3f} | {ours / reference:.2f} | {notes} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
