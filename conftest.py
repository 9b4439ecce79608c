"""What suites/ and tests/ share: the offline environment, and the markers that split the project's tests.

    pytest tests/ -m "not slow"     # the quick set: unit and plugin tests, a few minutes on 2 cores
    pytest tests/                   # everything, as .ci/run does
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here touches the network


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: runs the bundled models end to end through pytest or gate() (also slow)")
    config.addinivalue_line("markers", "slow: takes more than about 15 s on 2 CPU cores; `-m 'not slow'` leaves it out")
