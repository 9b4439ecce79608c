pytest_plugins = ["pytester"]  # the offline environment and the markers are in the top-level conftest.py
