# The model stacks are imported before any test runs pytest in-process: pytester unloads the modules an inline
# run imported, and importing torch's C extension or its registered operator libraries a second time in one
# process fails ("bad call flags", "Only a single TORCH_LIBRARY ..."). Seen when the end-to-end tests ran
# without the unit tests before them.
import open_clip  # noqa: F401
import torch  # noqa: F401
from diffusers import DiffusionPipeline, StableDiffusionPipeline  # noqa: F401
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2LMHeadModel  # noqa: F401

pytest_plugins = ["pytester"]  # the offline environment and the markers are in the top-level conftest.py
