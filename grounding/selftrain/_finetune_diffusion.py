"""Fine-tune a Stable-Diffusion-layout diffusers pipeline (unet, vae, text_encoder, tokenizer) on captioned images.

The denoising objective the pipeline was trained with: noise the VAE latents of each image at a random
timestep of the pipeline's own noise schedule and regress the noise, conditioned on the caption (10% empty
captions, so classifier-free guidance keeps working). The UNet and the text encoder are trained; the VAE is
kept. Used by the self-training harness; works for the reference model and for any pipeline of that layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from grounding.errors import GroundingUsageError

EMPTY_SHARE = 0.1
COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer")


def fine_tune(pipeline: Path, out: Path, images: Sequence, captions: Sequence[str], *, steps: int, lr: float,
              batch: int, seed: int, device: str | None = None) -> None:
    """Fine-tune the pipeline at `pipeline` on (PIL image, caption) pairs and save it to `out` as safetensors."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler, DiffusionPipeline

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    pipe = DiffusionPipeline.from_pretrained(pipeline, use_safetensors=True)
    missing = [c for c in COMPONENTS if getattr(pipe, c, None) is None]
    if missing:
        raise GroundingUsageError(
            f"{pipeline}: selftrain fine-tunes pipelines of the Stable Diffusion layout (unet, vae, text_encoder, "
            f"tokenizer); this one lacks {', '.join(missing)}. Self-train it with its own training code.")
    torch.manual_seed(seed)
    vae, unet, text = pipe.vae.to(device), pipe.unet.to(device).train(), pipe.text_encoder.to(device).train()
    pixels = torch.stack([torch.from_numpy(_array(image)) for image in images]).permute(0, 3, 1, 2).float()
    with torch.no_grad():
        latents = torch.cat([vae.encode((pixels[i:i + 256] / 127.5 - 1).to(device)).latent_dist.mean
                             for i in range(0, len(pixels), 256)]) * vae.config.scaling_factor
    tokenizer = pipe.tokenizer
    ids = tokenizer(list(captions) + [""], padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
    alphas = noise_scheduler.alphas_cumprod.to(device)
    v_prediction = noise_scheduler.config.prediction_type == "v_prediction"
    trained = list(unet.parameters()) + list(text.parameters())
    optimiser = torch.optim.AdamW(trained, lr=lr, weight_decay=1e-2)
    for _ in range(steps):
        pick = torch.randint(0, len(latents), (batch,))
        tokens = ids[pick].clone()
        tokens[torch.rand(batch) < EMPTY_SHARE] = ids[-1]
        z = latents[pick]
        noise = torch.randn_like(z)
        t = torch.randint(0, noise_scheduler.config.num_train_timesteps, (batch,), device=device)
        a = alphas[t].view(-1, 1, 1, 1)
        prediction = unet(a.sqrt() * z + (1 - a).sqrt() * noise, t,
                          encoder_hidden_states=text(tokens.to(device)).last_hidden_state).sample
        target = noise_scheduler.get_velocity(z, noise, t) if v_prediction else noise
        loss = F.mse_loss(prediction, target)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimiser.step()
    unet.eval()
    text.eval()
    pipe.save_pretrained(out, safe_serialization=True)


def _array(image):
    import numpy as np

    return np.array(image.convert("RGB"), dtype=np.uint8)
