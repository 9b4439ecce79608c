"""Modality adapters, one self-contained module each, registered under `grounding.modalities`."""
