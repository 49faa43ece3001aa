"""Shared test configuration: Qt runs headless, before anything imports it."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hypothesis import settings  # noqa: E402

# In CI the examples are drawn from a fixed seed, so that a run is repeatable; locally
# each run draws new ones (and keeps failures in .hypothesis/ to replay them).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
