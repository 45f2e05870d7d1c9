"""Helpers for testing gradients: `gradcheck`, and Hypothesis `strategies` (needs hypothesis)."""
from .gradcheck import GradcheckError, gradcheck, numeric_grad


def __getattr__(name):
    # strategies imports hypothesis, which the package does not depend on: load it on first use
    if name == "strategies":
        import importlib
        return importlib.import_module(f"{__name__}.strategies")
    raise AttributeError(f"module 'tinygrad_rnn.testing' has no attribute {name!r}")


__all__ = ["gradcheck", "numeric_grad", "GradcheckError", "strategies"]
