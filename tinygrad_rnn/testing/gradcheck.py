"""gradcheck: analytic gradients against float64 central differences."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def numeric_grad(fn: Callable, inputs: Sequence[Tensor], index: int, upstream: np.ndarray,
                 eps: float = 1e-6) -> np.ndarray:
    """Central differences of <upstream, fn(*inputs)> with respect to inputs[index], in float64."""
    x = inputs[index]
    result = np.zeros(x.shape, dtype=np.float64)
    original = x.data
    with no_grad():
        for i in np.ndindex(*x.shape):
            shifted = original.copy()
            shifted[i] = original[i] + eps
            x.data = shifted
            plus = np.sum(np.asarray(fn(*inputs).data, dtype=np.float64) * upstream)
            shifted[i] = original[i] - eps
            minus = np.sum(np.asarray(fn(*inputs).data, dtype=np.float64) * upstream)
            result[i] = (plus - minus) / (2 * eps)
    x.data = original
    return result


def gradcheck(fn: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, grad_output=None, seed: int | None = 0) -> bool:
    """Check the analytic gradients of `fn(*inputs)` against central differences.

    Inputs are converted to float64 copies (the originals are not touched); the output is
    contracted with a random upstream gradient (or `grad_output`), so every Jacobian entry matters,
    not only the column sums. On a mismatch it raises GradcheckError naming the input, the index and
    both values (or returns False with raise_exception=False).
    """
    tensors = [Tensor(np.array(t.data if isinstance(t, Tensor) else t, dtype=np.float64),
                      requires_grad=(t.requires_grad if isinstance(t, Tensor) else True))
               for t in inputs]
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if grad_output is None:
        upstream = np.random.default_rng(seed).standard_normal(out.shape)
    else:
        upstream = np.asarray(grad_output, dtype=np.float64)
    if not out.requires_grad:
        raise ValueError("gradcheck: the output does not depend on any input that requires grad")
    out.backward(upstream)
    for k, t in enumerate(tensors):
        if not t.requires_grad:
            continue
        analytic = t.grad if t.grad is not None else np.zeros(t.shape)
        numeric = numeric_grad(fn, tensors, k, upstream, eps)
        close = np.isclose(analytic, numeric, atol=atol, rtol=rtol)
        if not close.all():
            where = tuple(int(i) for i in np.argwhere(~close)[0])
            message = (f"gradcheck: gradient of input {k} (shape {t.shape}) at index {where}: "
                       f"analytic {float(analytic[where])!r}, numeric {float(numeric[where])!r} "
                       f"(atol={atol}, rtol={rtol}; {int((~close).sum())} of {close.size} entries differ)")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
