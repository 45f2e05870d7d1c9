"""`Tensor`: a handle on a NumPy array and on the graph node that made it.

The tensor owns its data; its node (graph.py) owns the structure: op, parents, scope, and the few
arrays the op's gradient needs. So dropping a tensor frees its array unless a gradient saved it,
and a graph kept after backward() costs only its structure.

This module also runs the primitives on tensors (`apply`, bound into ops/ at import): it unwraps
the inputs, calls the op's forward on their arrays and, when recording is on and an input requires
grad, makes the result's node.
"""
from __future__ import annotations

import numbers
import operator
import weakref

import numpy as np

from . import ops
from .anomaly import check_forward
from .engine import run_backward
from .graph import NO_OPTIONS, STATE, Node, leaf_node, new_node, next_order
from .ops.core import AxisError, bind

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_new_object = object.__new__
_data_of = operator.attrgetter("data")


def _to_array(data, dtype, requires_grad: bool) -> np.ndarray:
    """The dtype rules of the contract: float32/float64 arrays keep their dtype; Python numbers,
    lists and integer arrays take the default dtype; booleans stay boolean (masks) unless they must
    require grad; anything else is refused."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype not in _FLOATS:
            raise TypeError(f"Tensor: dtype must be float32 or float64, got {dtype}")
        try:
            return np.asarray(data, dtype=dtype)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"Tensor: cannot make a {dtype} tensor of {type(data).__name__}: {exc}") from None
    if not isinstance(data, (np.ndarray, np.generic)):  # Python numbers and lists
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"Tensor: cannot make a tensor of {type(data).__name__}: {exc}") from None
        if array.dtype.kind not in "iubf":
            raise TypeError(f"Tensor: cannot make a tensor of {type(data).__name__} "
                            f"(NumPy made dtype {array.dtype} of it)")
        if array.dtype.kind != "b":
            return array.astype(STATE.default_dtype)
        data = array  # booleans: the rules for bool arrays below
    if isinstance(data, np.generic):
        data = np.asarray(data)
    if data.dtype in _FLOATS:
        return data
    kind = data.dtype.kind
    if kind == "b" and not requires_grad:
        return data  # a mask: comparisons make these, indexing reads them as masks
    if kind in "iubf":  # integers, float16, longdouble (and booleans that must require grad)
        if kind == "b":
            raise TypeError("Tensor: a bool array cannot require grad (it is a mask); convert it with "
                            ".astype(np.float32) first")
        return data.astype(STATE.default_dtype)
    raise TypeError(f"Tensor: cannot make a tensor of {data.dtype} data")


class Tensor:
    """An n-dimensional array with reverse-mode gradients.

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4.], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "__weakref__")
    __array_priority__ = 1000.0
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data, requires_grad: bool = False, name: str | None = None, dtype=None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = _to_array(data, dtype, requires_grad)
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        value = self.data.item() if self.data.ndim == 0 else None
        self._node = leaf_node(self.data.shape, self.data.dtype, self.requires_grad, name,
                               weakref.ref(self) if requires_grad else None, value)

    # -- construction on the hot path (no checks: ops produce arrays of the right dtype) --------
    @classmethod
    def _leaf(cls, data: np.ndarray) -> Tensor:
        t = _new_object(cls)
        t.data = data
        t.grad = None
        t.requires_grad = False
        node = t._node = new_node(Node)  # graph.leaf_node, inline: constants are made on every step
        node.op = node.vjps = node.saved = None
        node.parents = ()
        node.options = NO_OPTIONS
        node.scope = STATE.scope
        node.shape = data.shape
        node.dtype = data.dtype
        node.requires_grad = False
        node.order = next_order()
        node._tensor = None
        if data.ndim == 0:
            node._value = data.item()
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

    # -- the graph node (viz/, diagnostics and anomaly read nodes, never a tensor's data) -------
    @property
    def node(self):
        """The graph node of this tensor: op, parents, name, scope, shape, retained gradient norm."""
        return self._node

    @property
    def name(self) -> str | None:
        return self._node.name

    @name.setter
    def name(self, value: str | None) -> None:
        self._node.name = value

    @property
    def is_leaf(self) -> bool:
        return self._node.op is None

    @property
    def op(self) -> str | None:
        """Name of the primitive that made this tensor (None for a leaf)."""
        return self._node.op

    @property
    def parents(self) -> tuple:
        """The nodes this one was computed from (empty for a leaf)."""
        return self._node.parents

    @property
    def scope(self):
        """The innermost module call (`graph.Scope`) active when this tensor was made."""
        return self._node.scope

    @property
    def options(self) -> dict:
        return self._node.options

    @property
    def retain(self) -> bool:
        return self._node.retain

    @property
    def is_param(self) -> bool:
        return self._node.is_param

    @property
    def value(self) -> float | None:
        return self._node.value

    @property
    def grad_norm(self) -> float | None:
        return self._node.grad_norm

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

    def __float__(self) -> float:
        """float(t) of a one-element tensor (`float(loss)`); NumPy reads a list of 0-d tensors through it."""
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

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
        if self._node.op is not None:
            extras.append(f"op={self._node.op}")
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
        t._node.name = self._node.name
        t._node.scope = self._node.scope  # keeps its time step: a cell fed a detached state counts on from it
        return t

    def retain_grad(self) -> Tensor:
        """Keep this intermediate's gradient in `.grad` after backward() (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad")
        if self._node.op is not None and self._node.tensor is None:
            self._node.tensor = weakref.ref(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        node = self._node
        if node.op is not None:
            raise RuntimeError("requires_grad_(): only leaves can change requires_grad")
        if requires_grad and self.data.dtype not in _FLOATS:
            raise TypeError(f"requires_grad_(): {self.data.dtype} data cannot require grad")
        self.requires_grad = node.requires_grad = bool(requires_grad)
        node.tensor = weakref.ref(self) if requires_grad else None
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
        run_backward(self._node, seed, retain_graph)

    def _seed(self, grad, who: str) -> np.ndarray:
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"{who}: output of shape {self.shape} is not a scalar; pass grad= (an array of "
                    f"shape {self.shape}) or reduce it first, e.g. .sum()")
            return np.ones(self.shape, self.dtype)
        seed = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
        if seed.shape != self.shape:
            raise ValueError(f"{who}: grad has shape {seed.shape}, the output has shape {self.shape}")
        return np.array(seed, dtype=self.data.dtype, copy=True)

    # -- operators ------------------------------------------------------------------------------
    def __add__(self, other): return apply(ops.add, (self, other))
    def __radd__(self, other): return apply(ops.add, (other, self))
    def __sub__(self, other): return apply(ops.sub, (self, other))
    def __rsub__(self, other): return apply(ops.sub, (other, self))
    def __mul__(self, other): return apply(ops.mul, (self, other))
    def __rmul__(self, other): return apply(ops.mul, (other, self))
    def __truediv__(self, other): return apply(ops.div, (self, other))
    def __rtruediv__(self, other): return apply(ops.div, (other, self))
    def __rpow__(self, other): return apply(ops.pow_, (other, self))
    def __matmul__(self, other): return apply(ops.matmul, (self, other))
    def __rmatmul__(self, other): return apply(ops.matmul, (other, self))
    def __neg__(self): return apply(ops.neg, (self,))
    def __pos__(self): return self
    def __getitem__(self, index): return apply(ops.getitem, (self,), {"index": _index_data(index)})

    # -- comparisons: boolean tensors (masks for indexing and `where`), never in the graph -------
    def __lt__(self, other): return compare(np.less, self, other)
    def __le__(self, other): return compare(np.less_equal, self, other)
    def __gt__(self, other): return compare(np.greater, self, other)
    def __ge__(self, other): return compare(np.greater_equal, self, other)
    def __eq__(self, other): return compare(np.equal, self, other)  # type: ignore[override]
    def __ne__(self, other): return compare(np.not_equal, self, other)  # type: ignore[override]
    __hash__ = object.__hash__  # defining __eq__ would remove it: tensors hash by identity

    def __bool__(self) -> bool:
        """The truth of a one-element tensor (`if (x > 0):`); ambiguous for any other, as in NumPy."""
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous: use "
                             "(t > 0).data.any() or .all(), or index with the mask")
        return bool(self.data)

    def __pow__(self, other):
        if type(other) in (int, float) or isinstance(other, (numbers.Real, np.number)) and np.ndim(other) == 0:
            return apply(ops.power, (self,), {"exponent": float(other)})  # keeps only self
        return apply(ops.pow_, (self, other))

    # -- methods --------------------------------------------------------------------------------
    # axis= and keepdims= as NumPy, or dim= and keepdim= as PyTorch (max and min return the values only)
    def sum(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        if dim is not None or keepdim is not None:
            axis, keepdims = torch_names(axis, keepdims, dim, keepdim, "sum")
        return apply(ops.sum_, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def mean(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        if dim is not None or keepdim is not None:
            axis, keepdims = torch_names(axis, keepdims, dim, keepdim, "mean")
        return apply(ops.mean, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def max(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        if dim is not None or keepdim is not None:
            axis, keepdims = torch_names(axis, keepdims, dim, keepdim, "max")
        return apply(ops.max_, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def min(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        if dim is not None or keepdim is not None:
            axis, keepdims = torch_names(axis, keepdims, dim, keepdim, "min")
        return apply(ops.min_, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def exp(self): return apply(ops.exp, (self,))
    def log(self): return apply(ops.log, (self,))
    def tanh(self): return apply(ops.tanh, (self,))
    def sigmoid(self): return apply(ops.sigmoid, (self,))
    def relu(self): return apply(ops.relu, (self,))
    def abs(self): return apply(ops.abs_, (self,))
    def sqrt(self): return apply(ops.sqrt, (self,))

    def clip(self, min=None, max=None):  # noqa: A002 - NumPy's and PyTorch's names
        return apply(ops.clip, (self,), {"low": min, "high": max})

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(ops.reshape, (self,), {"shape": shape})

    def view(self, *shape):
        """PyTorch's name for reshape (any tensor can be viewed: the data is never strided apart)."""
        return self.reshape(*shape)

    def permute(self, *dims):
        """PyTorch's name for a full permutation of the axes: t.permute(2, 0, 1) or t.permute((2, 0, 1))."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return apply(ops.transpose, (self,), {"axes": tuple(dims)})

    def transpose(self, *axes):
        """No axes: reverse them. Two integers: swap those two axes, as torch.transpose(dim0, dim1)
        (so `m.transpose(0, 1)` transposes a matrix, as PyTorch users expect). A permutation given as
        one tuple, or as three or more integers: as np.transpose."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        elif len(axes) == 2 and self.ndim >= 2:
            if not all(-self.ndim <= a < self.ndim for a in axes):
                raise AxisError(f"transpose: axes {axes} out of range for a tensor of shape {self.shape}")
            i, j = (a % self.ndim for a in axes)
            perm = list(range(self.ndim))
            perm[i], perm[j] = perm[j], perm[i]
            axes = tuple(perm)
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        return apply(ops.transpose, (self,), {"axes": tuple(axes)})

    @property
    def T(self):
        return apply(ops.transpose, (self,), {"axes": tuple(reversed(range(self.ndim)))})

    # softmax, log_softmax and the other methods that are composites of primitives are attached
    # by functional.py, one layer up (it is built on Tensor; Tensor does not import it).


def torch_names(axis, keepdims, dim, keepdim, op: str):
    """(axis, keepdims) from NumPy's names and PyTorch's (dim=, keepdim=); giving both of a pair is refused."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give axis= or dim=, not both")
        axis = dim
    if keepdim is not None:
        if keepdims:
            raise TypeError(f"{op}: give keepdims= or keepdim=, not both")
        keepdims = keepdim
    return axis, bool(keepdims)


_COMPARABLE = (numbers.Number, np.ndarray, np.generic, list, tuple)


def compare(ufunc, a, b):
    """`a (op) b` elementwise as a boolean tensor: a mask, not in the graph and never requiring grad.
    NotImplemented for operands that are not numbers, arrays or tensors, so `t == None` is False."""
    operands = []
    for x in (a, b):
        if isinstance(x, Tensor):
            operands.append(x.data)
        elif isinstance(x, _COMPARABLE):
            operands.append(x)
        else:
            return NotImplemented
    try:
        result = ufunc(*operands)
    except ValueError:
        raise ValueError(f"{ufunc.__name__}: cannot compare shapes {np.shape(operands[0])} and "
                         f"{np.shape(operands[1])}") from None
    return Tensor._leaf(np.asarray(result))


def _axis(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _index_data(index):
    """Indices may hold tensors (targets, masks); the op needs plain arrays."""
    if isinstance(index, Tensor):
        return _positions(index)
    if isinstance(index, tuple):
        for i in index:  # most tuples are slices and ints: returned as they are
            if isinstance(i, Tensor):
                return tuple(_positions(i) if isinstance(i, Tensor) else i for i in index)
    return index


def _positions(t: Tensor) -> np.ndarray:
    """A boolean tensor is a mask. Other tensors hold floats, so a tensor used as an index must hold
    whole numbers: integer positions."""
    if t.data.dtype == bool:
        return t.data.copy()
    positions = t.data.astype(np.intp)
    if not np.array_equal(positions, t.data):
        raise IndexError(f"a tensor used as an index must hold whole numbers, got {t.data}")
    return positions


# ----------------------------------------------------------------------------------------------
# Running a primitive on tensors
# ----------------------------------------------------------------------------------------------
def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """A constant operand. Numbers and lists take the dtype of the tensor they meet, so that
    `x32 * 2` stays float32; integer arrays become that dtype too (a new array).

    A float array is used as it is, not copied: like `Tensor(a)` (and torch.from_numpy), it shares
    memory with the caller, and an op that keeps it for backward reads it then. A boolean array (a
    mask) is copied, and so are index arrays (by getitem), so that changing those after the forward
    changes no gradient."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype in _FLOATS:
            return Tensor._leaf(value)
        if value.dtype == bool:
            return Tensor._leaf(value.copy())
    dtype = like.data.dtype if like is not None and like.data.dtype in _FLOATS else STATE.default_dtype
    if type(value) is float or (type(value) is int and -2**53 < value < 2**53):
        # the usual constant (`1 - z`, `loss / T`): no check against the numbers ABC, which is
        # slow; ints this small convert exactly, so the result is what the general path gives
        return Tensor._leaf(np.asarray(value, dtype))
    if isinstance(value, numbers.Number) or isinstance(value, (list, tuple, np.ndarray, np.generic)):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"cannot use {type(value).__name__} as an operand: {exc}") from None
        if array.dtype.kind not in "iubf":
            raise TypeError(f"cannot use {type(value).__name__} of dtype {array.dtype} as an operand")
        return Tensor._leaf(array if array.dtype == bool else array.astype(dtype))
    raise TypeError(f"unsupported operand of type {type(value).__name__}")


def _operands(inputs: tuple) -> tuple[Tensor, ...]:
    """Constants become leaves with the dtype of the first tensor among the inputs."""
    first = None
    for x in inputs:  # loops, not generators: this runs for every op with a constant operand
        if isinstance(x, Tensor):
            first = x
            break
    return tuple([x if isinstance(x, Tensor) else as_tensor(x, first) for x in inputs])


def apply(op, inputs: tuple, options: dict = NO_OPTIONS) -> Tensor:
    """Run primitive `op` on tensors (numbers and arrays among them become constants).

    The result gets a graph node only when recording is on and some input requires grad. This runs
    once per op of every program, so it is written for speed: no list, no generator, slot stores.
    """
    for x in inputs:
        if not isinstance(x, Tensor):
            inputs = _operands(inputs)
            break
    try:
        result, saved = op.forward(*map(_data_of, inputs), **options)  # map: no list, no frame
    except ValueError as exc:  # name the op and the shapes, whatever NumPy said
        if str(exc).startswith(op.name) or isinstance(exc, AxisError):
            raise
        shapes = " and ".join(str(t.data.shape) for t in inputs)
        raise ValueError(f"{op.name}: cannot apply to shapes {shapes}: {exc}") from None
    if type(result) is not np.ndarray:  # NumPy gives scalars for 0-d results; keep arrays
        result = np.asarray(result)
    if STATE.detect_anomaly:
        check_forward(op, [t.data.shape for t in inputs], result)
    if STATE.grad_enabled:
        for t in inputs:
            if t.requires_grad:
                out = _new_object(Tensor)
                out.data = result
                out.grad = None
                out.requires_grad = True
                node = out._node = new_node(Node)  # the slots every op's node has (see graph.Node)
                node.op = op.name
                n = len(inputs)  # tuples built by hand for the usual arities: cheaper than map()
                node.parents = ((inputs[0]._node,) if n == 1 else (inputs[0]._node, inputs[1]._node) if n == 2
                                else (inputs[0]._node, inputs[1]._node, inputs[2]._node) if n == 3
                                else tuple([t._node for t in inputs]))
                node.vjps = op.vjps_for(len(inputs)) if op.variadic else op.vjps
                node.saved = saved
                node.options = options if op.records_options else NO_OPTIONS
                node.scope = STATE.scope
                node.shape = result.shape
                node.dtype = result.dtype
                node.requires_grad = True
                node.order = next_order()
                node._tensor = None
                return out
    return Tensor._leaf(result)


bind(apply)  # ops.add(t, u) and friends run through `apply`
