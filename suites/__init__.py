"""The suites users run: one module per modality (its marker names the modality and its case file) and the case
files under cases/. Installed, they are grounding.suites: `pytest --pyargs grounding.suites`."""
