"""`Module` and `Parameter`: containers of named parameters, and the scope each call opens."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..autograd import STATE, Scope
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor a module learns: requires_grad=True, data copied so optimizers can update it in place."""

    __slots__ = ()

    def __init__(self, data, name: str | None = None, dtype=None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(np.array(data, dtype=dtype, copy=True) if dtype is not None else
                         _copy_float(data), requires_grad=True, name=name)
        self._node.is_param = True


def _copy_float(data):
    """A float array is copied (the module owns its parameters); numbers, lists and integer
    arrays go through Tensor's rules (the default dtype)."""
    if isinstance(data, np.ndarray) and data.dtype.kind == "f":
        return data.copy()
    return data


def check_size(owner: str, name: str, value, minimum: int = 1) -> int:
    """A layer's size argument: an integer (not a bool) of at least `minimum`, or one line naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an integer, got {value!r}")
    if value < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{owner}: {name} must be {wanted}, got {value}")
    return int(value)


class Module:
    """Base class of layers and models.

    Parameters are found through attributes (in the order they were set), lists, tuples and dicts
    of submodules or parameters. Calling a module runs `forward` inside a new scope, so every node
    made during the call knows which module call (and, for recurrent cells, which time step) made it.
    """

    training = True

    def __call__(self, *args, **kwargs):
        previous = STATE.scope
        STATE.scope = Scope(self, previous, self._scope_step(args, kwargs))
        try:
            return self.forward(*args, **kwargs)
        finally:
            STATE.scope = previous

    def _scope_step(self, args, kwargs) -> int | None:
        """The time step recorded for this call; only recurrent cells have one."""
        return None

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    # -- parameters ----------------------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs in a fixed order; a parameter shared twice is listed once."""
        seen: set[int] = set()
        stack: list[tuple[str, object]] = [(prefix, self)]
        while stack:  # depth-first in attribute order, without recursion
            name, item = stack.pop()
            if isinstance(item, Parameter):
                if id(item) not in seen:
                    seen.add(id(item))
                    yield name, item
                continue
            if isinstance(item, Module):
                children = list(vars(item).items())
            elif isinstance(item, (list, tuple)):
                children = [(str(i), v) for i, v in enumerate(item)]
            elif isinstance(item, dict):
                children = [(str(k), v) for k, v in item.items()]
            else:
                continue
            joined = [(f"{name}.{key}" if name else key, value) for key, value in children
                      if isinstance(value, (Parameter, Module, list, tuple, dict))]
            stack.extend(reversed(joined))

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator[Module]:
        stack: list[object] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, Module):
                yield item
                stack.extend(reversed(list(vars(item).values())))
            elif isinstance(item, (list, tuple)):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                stack.extend(reversed(list(item.values())))

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter's data, by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        """Replace every parameter's data. Everything is checked first: a missing, unexpected or
        wrongly shaped entry raises KeyError/ValueError naming it, and nothing is changed."""
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if unexpected:
                parts.append(f"unexpected {unexpected}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        arrays = {}
        for name, p in own.items():
            value = state[name]
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.shape != p.shape:
                raise ValueError(f"load_state_dict for {type(self).__name__}: '{name}' has shape "
                                 f"{array.shape}, the model expects {p.shape}")
            if array.dtype.kind not in "iuf":
                raise TypeError(f"load_state_dict for {type(self).__name__}: '{name}' has dtype "
                                f"{array.dtype}, expected numbers")
            arrays[name] = array
        for name, p in own.items():  # all checks passed: now change things
            p.data = arrays[name].astype(p.dtype, copy=True)
            p.grad = None

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""
