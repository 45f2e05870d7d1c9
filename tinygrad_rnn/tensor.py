"""`Tensor`: a NumPy array that remembers how it was made.

Each result of a primitive op (see ops.py) keeps its inputs (`_parents`, a tuple), one
vector-Jacobian product per input (`_vjps`), the op's name and the scope it was made in. That is the
whole graph; autograd.py walks it backwards.
"""
from __future__ import annotations

import itertools
import numbers
import operator
from collections.abc import Callable

import numpy as np

from . import autograd
from .autograd import STATE

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_creation_counter = itertools.count()  # `Tensor._created`: creation order is a topological order
_new_object = object.__new__
_data_of = operator.attrgetter("data")
_NO_OPTIONS: dict = {}


def _to_array(data, dtype, requires_grad: bool) -> np.ndarray:
    """The dtype rules of the contract: float32/float64 arrays keep their dtype; Python numbers,
    lists and integer arrays take the default dtype; anything else is refused."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _FLOATS:
            raise TypeError(f"Tensor: dtype must be float32 or float64, got {dtype}")
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        if data.dtype in _FLOATS:
            return data
        kind = data.dtype.kind
        if kind in "iub":
            if requires_grad:
                raise TypeError(
                    f"Tensor: an {data.dtype} array cannot require grad (gradients need floating "
                    "point data); convert it with .astype(np.float32) or pass dtype=")
            return data.astype(STATE.default_dtype)
        if kind == "f":  # float16, longdouble: bring to the default
            return data.astype(STATE.default_dtype)
        raise TypeError(f"Tensor: cannot make a tensor of {data.dtype} data")
    if isinstance(data, np.generic):
        return _to_array(np.asarray(data), None, requires_grad)
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"Tensor: cannot make a tensor of {type(data).__name__}: {exc}") from None
    if array.dtype.kind not in "iubf":
        raise TypeError(f"Tensor: cannot make a tensor of {type(data).__name__} "
                        f"(NumPy made dtype {array.dtype} of it)")
    return array.astype(STATE.default_dtype, copy=False)


class Tensor:
    """An n-dimensional array with reverse-mode gradients.

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4.], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_parents", "_vjps", "_op", "_scope",
                 "_retain", "_created", "_options", "__weakref__")
    __array_priority__ = 1000.0
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad: bool = False, name: str | None = None, dtype=None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = _to_array(data, dtype, requires_grad)
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._parents: tuple[Tensor, ...] = ()
        self._vjps = None
        self._op: str | None = None
        self._scope = STATE.scope
        self._retain = False
        self._created = next(_creation_counter)
        self._options = _NO_OPTIONS

    # -- construction on the hot path (no checks: ops produce arrays of the right dtype) --------
    @classmethod
    def _leaf(cls, data: np.ndarray) -> Tensor:
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = False
        t.name = None
        t._parents = ()
        t._vjps = None
        t._op = None
        t._scope = STATE.scope
        t._retain = False
        t._created = next(_creation_counter)
        t._options = _NO_OPTIONS
        return t

    # -- array-like views -----------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def op(self) -> str | None:
        """Name of the primitive that made this tensor (None for a leaf)."""
        return self._op

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from (empty for a leaf)."""
        return self._parents

    @property
    def scope(self):
        """The innermost module call (`autograd.Scope`) active when this tensor was made."""
        return self._scope

    # -- the graph node's interface (what viz/, diagnostics and anomaly read) --------------------
    # Readers of the graph use only these names: op, parents, options, name, scope, shape, ndim,
    # size, retain, is_param, value, grad_norm, and `node` to go from a tensor to its graph node.
    is_param = False  # True for Parameter

    @property
    def node(self):
        """The graph node of this tensor (what diagrams and diagnostics read)."""
        return self

    @property
    def options(self) -> dict:
        """The op's keyword options, e.g. getitem's `index`, a reduction's `axis` (empty for leaves)."""
        return self._options

    @property
    def retain(self) -> bool:
        """Whether backward() keeps this intermediate's gradient (recurrent cells mark their states)."""
        return self._retain

    @property
    def value(self) -> float | None:
        """The number a 0-d constant holds (None otherwise): the ops view labels constants with it."""
        return self.data.item() if self._op is None and self.data.ndim == 0 else None

    @property
    def grad_norm(self) -> float | None:
        """‖.grad‖ (Frobenius), or None before a backward reached this tensor."""
        return None if self.grad is None else float(np.linalg.norm(self.grad))

    def numpy(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item(): only a tensor of one element has an item, got shape {self.shape}")
        return self.data.item()

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        extras = []
        if self.name:
            extras.append(f"name={self.name!r}")
        if self._op is not None:
            extras.append(f"op={self._op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.data.dtype != STATE.default_dtype:
            extras.append(f"dtype={self.data.dtype}")
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return "Tensor(" + ", ".join([body] + extras) + ")"

    # -- graph ----------------------------------------------------------------------------------
    def detach(self) -> Tensor:
        """Same data, no history: gradients stop here (truncated BPTT cuts the graph with this)."""
        t = Tensor._leaf(self.data)
        t.name = self.name
        t._scope = self._scope  # keeps its time step: a cell fed a detached state counts on from it
        return t

    def retain_grad(self) -> Tensor:
        """Keep this intermediate's gradient in `.grad` after backward() (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad")
        self._retain = True
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._op is not None:
            raise RuntimeError("requires_grad_(): only leaves can change requires_grad")
        if requires_grad and self.data.dtype not in _FLOATS:
            raise TypeError(f"requires_grad_(): {self.data.dtype} data cannot require grad")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        A one-element tensor is seeded with 1; any other needs `grad` of its own shape.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward(): this tensor (shape {self.shape}) does not require grad and has no "
                "graph; did an input have requires_grad=True, and was it made outside no_grad()?")
        seed = self._seed(grad, "backward()")
        autograd.run_backward(self, seed, retain_graph)

    def _seed(self, grad, who: str) -> np.ndarray:
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"{who}: output of shape {self.shape} is not a scalar; pass grad= (an array of "
                    f"shape {self.shape}) or reduce it first, e.g. .sum()")
            return np.ones_like(self.data)
        seed = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
        if seed.shape != self.shape:
            raise ValueError(f"{who}: grad has shape {seed.shape}, the output has shape {self.shape}")
        return np.array(seed, dtype=self.data.dtype, copy=True)

    # -- operators ------------------------------------------------------------------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow_(self, other)
    def __rpow__(self, other): return ops.pow_(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __getitem__(self, index): return ops.getitem(self, index=_index_data(index))

    # -- methods --------------------------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False): return ops.sum_(self, axis=_axis(axis), keepdims=keepdims)
    def mean(self, axis=None, keepdims: bool = False): return ops.mean(self, axis=_axis(axis), keepdims=keepdims)
    def max(self, axis=None, keepdims: bool = False): return ops.max_(self, axis=_axis(axis), keepdims=keepdims)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def abs(self): return ops.abs_(self)
    def sqrt(self): return ops.sqrt(self)

    def clip(self, min=None, max=None):  # noqa: A002 - NumPy's and PyTorch's names
        return ops.clip(self, low=min, high=max)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape=shape)

    def transpose(self, *axes):
        """No axes: reverse them. Two integers: swap those two axes, as torch.transpose(dim0, dim1)
        (so `m.transpose(0, 1)` transposes a matrix, as PyTorch users expect). A permutation given as
        one tuple, or as three or more integers: as np.transpose."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        elif len(axes) == 2 and self.ndim >= 2:
            if not all(-self.ndim <= a < self.ndim for a in axes):
                raise ValueError(f"transpose: axes {axes} out of range for a tensor of shape {self.shape}")
            i, j = (a % self.ndim for a in axes)
            perm = list(range(self.ndim))
            perm[i], perm[j] = perm[j], perm[i]
            axes = tuple(perm)
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        return ops.transpose(self, axes=tuple(axes))

    @property
    def T(self):
        return ops.transpose(self, axes=tuple(reversed(range(self.ndim))))

    def softmax(self, axis: int = -1):
        from . import functional
        return functional.softmax(self, axis)

    def log_softmax(self, axis: int = -1):
        from . import functional
        return functional.log_softmax(self, axis)


def _axis(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _index_data(index):
    """Indices may hold tensors (e.g. targets); the op needs plain arrays."""
    if isinstance(index, Tensor):
        return _positions(index)
    if isinstance(index, tuple):
        for i in index:  # most tuples are slices and ints: returned as they are
            if isinstance(i, Tensor):
                return tuple(_positions(i) if isinstance(i, Tensor) else i for i in index)
    return index


def _positions(t: Tensor) -> np.ndarray:
    """Tensors hold floats, so a tensor used as an index must hold whole numbers: integer positions."""
    positions = t.data.astype(np.intp)
    if not np.array_equal(positions, t.data):
        raise IndexError(f"a tensor used as an index must hold whole numbers, got {t.data}")
    return positions


# ----------------------------------------------------------------------------------------------
# Primitive ops: a forward that returns (result, one vjp per input). See ops.py for the table.
# ----------------------------------------------------------------------------------------------
def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """A constant operand: numbers and lists take the dtype of the tensor they meet, so that
    `x32 * 2` stays float32; float arrays keep their own dtype (NumPy's promotion applies)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray) and value.dtype in _FLOATS:
        return Tensor._leaf(value)
    dtype = like.data.dtype if like is not None else STATE.default_dtype
    if type(value) is float or (type(value) is int and -2**53 < value < 2**53):
        # the usual constant (`1 - z`, `loss / T`): no check against the numbers ABC, which is
        # slow; ints this small convert exactly, so the result is what the general path gives
        return Tensor._leaf(np.asarray(value, dtype))
    if isinstance(value, numbers.Number) or isinstance(value, (list, tuple, np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind not in "iubf":
            raise TypeError(f"cannot use {type(value).__name__} of dtype {array.dtype} as an operand")
        return Tensor._leaf(array.astype(dtype, copy=False))
    raise TypeError(f"unsupported operand of type {type(value).__name__}")


def primitive(forward: Callable) -> Callable:
    """Turn `forward(*arrays, **options) -> (result, vjps)` into an op on tensors.

    The op records a graph node only when recording is on and some input requires grad; the
    function's name becomes the node's op name (what diagrams show).
    """
    op_name = forward.__name__.rstrip("_")
    next_created = _creation_counter.__next__

    def op(*tensors, **options):
        for x in tensors:
            if not isinstance(x, Tensor):  # a number or array among the operands: make leaves
                tensors = _operands(tensors)
                break
        try:
            result, vjps = forward(*map(_data_of, tensors), **options)  # map: no list, no frame
        except ValueError as exc:  # name the op and the shapes, whatever NumPy said
            if str(exc).startswith(op_name):
                raise
            shapes = " and ".join(str(t.data.shape) for t in tensors)
            raise ValueError(f"{op_name}: cannot apply to shapes {shapes}: {exc}") from None
        if type(result) is not np.ndarray:  # NumPy gives scalars for 0-d results; keep arrays
            result = np.asarray(result)
        if STATE.detect_anomaly:
            from .anomaly import check_forward
            check_forward(op_name, tensors, result)
        if STATE.grad_enabled:
            for t in tensors:
                if t.requires_grad:  # a graph node, built inline: this runs once per node of every graph
                    node = _new_object(Tensor)
                    node.data = result
                    node.grad = None
                    node.requires_grad = True
                    node.name = None
                    node._parents = tensors
                    node._vjps = vjps
                    node._op = op_name
                    node._scope = STATE.scope
                    node._retain = False
                    node._created = next_created()
                    node._options = options
                    return node
        return Tensor._leaf(result)

    op.__name__ = op_name
    op.__doc__ = forward.__doc__
    op.forward = forward
    return op


def _operands(inputs: tuple) -> tuple[Tensor, ...]:
    """Constants become leaves with the dtype of the first tensor among the inputs."""
    first = None
    for x in inputs:  # loops, not generators: this runs for every op with a constant operand
        if isinstance(x, Tensor):
            first = x
            break
    return tuple([x if isinstance(x, Tensor) else as_tensor(x, first) for x in inputs])


from . import ops  # noqa: E402  (ops uses `primitive` above; Tensor's methods use ops)
