# torch is imported before any test runs pytest in-process: pytester unloads the modules an inline run imported,
# and importing torch a second time in one process fails inside its C extension ("bad call flags").
import torch  # noqa: F401

pytest_plugins = ["pytester"]  # the offline environment and the markers are in the top-level conftest.py
