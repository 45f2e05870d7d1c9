"""Jacobians of a recording, from vector-Jacobian products through the recorded graph (no finite
differences): how much a_T moves with a_t, and how much ŷ_t moves with each earlier input x_s.

One VJP gives one row of a Jacobian for every step at once: seeding unit j of a_T with 1 and asking
`grad()` for the gradients of all the states gives row j of ∂a_T/∂a_t for every t. So H products
give all T Jacobians of the state, and `output_size` products give ‖∂ŷ_t/∂x_s‖ for every s ≤ t.
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad
from .recording import Recording


def state_jacobians(rec: Recording, batch: int = 0, max_lag: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(lags, J): J[k] = ∂a_T/∂a_t (H, H) for sequence `batch`, at lag T - t = lags[k] = k, for
    k = 0 .. max_lag (default T - 1). J[0] is the identity. Row j of J[k] is ∂a_T[j]/∂a_t."""
    batch = rec.check_batch(batch, "state_jacobians")
    T, H = rec.steps, rec.hidden
    max_lag = T - 1 if max_lag is None else int(max_lag)
    if not 0 <= max_lag <= T - 1:
        raise ValueError(f"state_jacobians: max_lag must be 0 to {T - 1} for {T} steps, got {max_lag}")
    states = rec.graph.states
    last = states[-1]
    wanted = states[T - 1 - max_lag:][::-1]  # a_T, a_{T-1}, ...: lag 0, 1, ...
    J = np.zeros((max_lag + 1, H, H), dtype=np.result_type(last.dtype, np.float32))
    for j in range(H):
        seed = np.zeros(last.shape, dtype=last.dtype)
        seed[batch, j] = 1
        rows = grad(last, wanted, grad_output=seed, retain_graph=True)
        for k, row in enumerate(rows):
            J[k, j] = row[batch]
    return np.arange(max_lag + 1), J


def input_output_norms(rec: Recording, t: int, batch: int = 0) -> np.ndarray:
    """‖∂ŷ_t/∂x_s‖ (Frobenius, over output and input units) for s = 1..t, sequence `batch`; t from 1."""
    batch = rec.check_batch(batch, "connectivity")
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= rec.steps:
        raise ValueError(f"connectivity: t is a step from 1 to {rec.steps}, got {t!r}")
    t = int(t)
    output = rec.graph.outputs[t - 1]
    if not output.requires_grad:
        raise ValueError(f"connectivity: the output at step {t} does not depend on the inputs")
    squares = np.zeros(t)
    for k in range(output.shape[-1]):
        seed = np.zeros(output.shape, dtype=output.dtype)
        seed[batch, k] = 1
        (g,) = grad(output, [rec.graph.inputs], grad_output=seed, retain_graph=True)
        squares += np.sum(np.square(g[:t, batch].astype(np.float64)), axis=-1)
    return np.sqrt(squares)
