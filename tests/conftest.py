"""Hypothesis profiles: "ci" (the default) fixes the example budget and turns the deadline off, so
the suite is stable on a shared, noisy machine; "thorough" is for hunting bugs locally
(HYPOTHESIS_PROFILE=thorough pytest)."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
