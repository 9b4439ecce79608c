import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the project's tests never touch the network

pytest_plugins = ["pytester"]
