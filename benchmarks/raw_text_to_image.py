"""The work the text-to-image suite wraps, written as a user would without grounding: load the pipeline with
diffusers, make one image per (prompt, seed) in batches, keep the images. benchmarks/speed.py runs it in a fresh
process and times it from outside, as it times `pytest suites/test_text_to_image.py`, so both pay for starting
Python, importing torch and diffusers and loading the weights.

    python benchmarks/raw_text_to_image.py < job.json    # {"folder", "prompts", "seeds", "device", "knobs"}
"""

import json
import sys
import time


def make_images(pipe, prompts: list[str], seeds: list[int], device: str, knobs: dict) -> list:
    """The pipeline called in batches of `knobs["batch_size"]`, one torch generator per seed, images kept as PIL
    (speed.py also calls this in its own process, on the adapter's pipeline)."""
    import torch

    size, images = knobs["batch_size"], []
    for start in range(0, len(prompts), size):
        images += pipe(prompt=prompts[start:start + size], output_type="pil",
                       generator=[torch.Generator(device).manual_seed(s) for s in seeds[start:start + size]],
                       num_inference_steps=knobs["steps"], guidance_scale=knobs["guidance"],
                       height=knobs["height"], width=knobs["width"]).images
    return images


def main() -> int:
    job = json.load(sys.stdin)
    import torch
    from diffusers import DiffusionPipeline

    started = time.perf_counter()
    device, knobs = job["device"], job["knobs"]
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    pipe = DiffusionPipeline.from_pretrained(job["folder"], torch_dtype=dtype, use_safetensors=True).to(device)
    pipe.set_progress_bar_config(disable=True)
    loaded = time.perf_counter()
    images = make_images(pipe, job["prompts"], job["seeds"], device, knobs)
    print(json.dumps({"images": len(images), "load_s": loaded - started, "generate_s": time.perf_counter() - loaded}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
