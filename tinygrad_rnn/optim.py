"""Optimizers with PyTorch's update formulas, and gradient clipping.

Each optimizer updates `p.data` in place from `p.grad`; a parameter whose grad is None (it took no
part in the loss) is skipped and its state does not advance. `state_dict()` gives the optimizer's
state as NumPy arrays (so `save` can write it next to the model's) and `load_state_dict` puts it
back, checking everything first.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .tensor import Tensor


def _params(params, who: str) -> list[Tensor]:
    if isinstance(params, Tensor):
        raise TypeError(f"{who}: params must be an iterable of tensors (e.g. model.parameters()), "
                        "got a single Tensor")
    unique: list[Tensor] = []
    seen: set[int] = set()
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: params must be tensors, got {type(p).__name__}")
        if not p.requires_grad:
            raise ValueError(f"{who}: a parameter of shape {p.shape} does not require grad")
        if id(p) not in seen:  # a parameter listed twice is updated once
            seen.add(id(p))
            unique.append(p)
    if not unique:
        raise ValueError(f"{who}: got an empty parameter list")
    return unique


def _check(who: str, name: str, value, low: float, low_inclusive: bool = True, high: float | None = None) -> float:
    """A finite number in [low, high) (or (low, high) when low is not inclusive)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{who}: {name} must be a number, got {value!r}")
    value = float(value)
    ok = math.isfinite(value) and (value >= low if low_inclusive else value > low)
    if high is not None:
        ok = ok and value < high
    if not ok:
        interval = f"{'[' if low_inclusive else '('}{low}, {high if high is not None else 'inf'})"
        raise ValueError(f"{who}: {name} must be in {interval}, got {value!r}")
    return value


class Optimizer:
    """Base class: holds the parameters and per-parameter state buffers (`_buffers` names them)."""

    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        who = type(self).__name__
        self.params = _params(params, who)
        self.lr = _check(who, "lr", lr, 0.0, low_inclusive=False)
        # one array per buffer per parameter, made lazily at the first step that parameter takes
        self.state: list[dict[str, np.ndarray]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        for k, p in enumerate(self.params):  # check every grad first: no half-applied update
            if p.grad is not None and p.grad.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.step: parameter {k} has shape {p.shape} but its grad "
                                 f"has shape {p.grad.shape}")
        for k, p in enumerate(self.params):
            if p.grad is None:
                continue
            state = self.state[k]
            if not state:
                state.update({name: np.zeros(p.shape, np.float64) for name in self._buffers})
                state["step"] = np.zeros((), np.int64)
            state["step"] += 1
            update = self._update(p.grad.astype(np.float64), state)
            p.data -= update.astype(p.dtype, copy=False)

    def _update(self, g: np.ndarray, state: dict) -> np.ndarray:
        """The amount to subtract from the parameter, given its gradient; updates `state` in place."""
        raise NotImplementedError

    # -- state, for resuming training --------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat dict of arrays: '<k>.<buffer>' and '<k>.step' for every parameter k that has stepped."""
        out = {}
        for k, state in enumerate(self.state):
            for name, value in state.items():
                out[f"{k}.{name}"] = value.copy()
        return out

    def load_state_dict(self, sd: dict) -> None:
        """Put back a `state_dict()` of an optimizer of the same kind over parameters of the same
        shapes. Every entry is checked first; on an error nothing changes."""
        who = f"{type(self).__name__}.load_state_dict"
        names = self._buffers + ("step",)
        new: list[dict[str, np.ndarray]] = [{} for _ in self.params]
        for key, value in sd.items():
            index, _, name = key.partition(".")
            if not index.isdigit() or int(index) >= len(self.params) or name not in names:
                raise KeyError(f"{who}: unexpected entry '{key}'")
            array = np.asarray(value)
            shape = () if name == "step" else self.params[int(index)].shape
            if array.shape != shape:
                raise ValueError(f"{who}: '{key}' has shape {array.shape}, expected {shape}")
            new[int(index)][name] = array.astype(np.int64 if name == "step" else np.float64, copy=True)
        for k, state in enumerate(new):
            if state and set(state) != set(names):
                raise KeyError(f"{who}: parameter {k} has entries {sorted(state)}, expected {sorted(names)}")
        self.state = new


class SGD(Optimizer):
    """v = μ v + g;  p -= lr v  (plain SGD when momentum = 0), as torch.optim.SGD."""

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _check("SGD", "momentum", momentum, 0.0, high=1.0)
        self._buffers = ("momentum_buffer",) if self.momentum else ()

    def _update(self, g, state):
        if not self.momentum:
            return self.lr * g
        v = state["momentum_buffer"]
        v *= self.momentum
        v += g
        return self.lr * v


class Adam(Optimizer):
    """m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²;  p -= lr m̂ / (sqrt(v̂) + eps) with the bias
    corrections m̂ = m / (1-β1^t), v̂ = v / (1-β2^t), as torch.optim.Adam."""

    _buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_check("Adam", "betas[0]", betas[0], 0.0, high=1.0),
                      _check("Adam", "betas[1]", betas[1], 0.0, high=1.0))
        self.eps = _check("Adam", "eps", eps, 0.0)

    def _update(self, g, state):
        b1, b2 = self.betas
        m, v, t = state["exp_avg"], state["exp_avg_sq"], int(state["step"])
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class Adagrad(Optimizer):
    """s += g²;  p -= lr g / (sqrt(s) + eps), with s starting at 0, as torch.optim.Adagrad."""

    _buffers = ("sum",)

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.eps = _check("Adagrad", "eps", eps, 0.0)

    def _update(self, g, state):
        s = state["sum"]
        s += g * g
        return self.lr * g / (np.sqrt(s) + self.eps)


def clip_grad_norm(params: Iterable[Tensor], max_norm: float) -> float:
    """Scale all gradients together so their joint L2 norm is at most `max_norm`, as PyTorch's
    `clip_grad_norm_`: when the total norm exceeds max_norm, every grad is multiplied in place by
    max_norm / (total + 1e-6). Returns the total norm before clipping. Grads that are None are ignored."""
    if isinstance(params, Tensor):
        params = [params]
    max_norm = _check("clip_grad_norm", "max_norm", max_norm, 0.0, low_inclusive=False)
    grads = [p.grad for p in params if p.grad is not None]
    total = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for g in grads:
            g *= scale
    return total
