"""Running an op: promotion, the kernel, and recording the graph.

``apply`` is the hot path every op call goes through, so it is written flat:
no keyword re-parsing, no work for autograd unless grad mode is on and an
input requires grad.  ``apply_inplace`` and ``apply_out`` build on it for
``add_``-style methods and the ``out=`` argument.
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._device import CPU
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.graph import FREED_MESSAGE, NO_EDGE, Node, edge_of, get_accumulate_node, new_node, DelayedError
from ember.ops._registry import SCALAR_NAMES

_grad_state = grad_mode._state
_EMPTY = {}
_SCALARS = (int, float, bool, complex)
_ndarray = np.ndarray


class BackwardContext:
    """What a derivative rule sees: saved inputs and output, params, needs_input_grad."""

    __slots__ = ('inputs', 'output', 'params', 'needs_input_grad', 'input_meta')

    def __init__(self, inputs, output, params, needs_input_grad, input_meta):
        self.inputs = inputs
        self.output = output
        self.params = params
        self.needs_input_grad = needs_input_grad
        self.input_meta = input_meta


class OpNode(Node):
    """The grad_fn of a tensor made by an op of the table.

    In the common case (no ``create_graph``) the node itself is the ``ctx`` its rule sees: ``inputs``
    and ``output`` are filled in just before the rule runs (and cleared by ``release``), which saves
    building a BackwardContext per node.
    """

    __slots__ = ('op', 'params', 'saved', 'versions', 'out_arrays', 'out_version', 'out_versions',
                 'released', 'xp', 'device', 'needs_input_grad', 'inputs', 'output')


    def release(self):
        self.saved = self.out_arrays = self.inputs = self.output = None
        self.released = True

    def _unpack(self, create_graph):
        op = self.op
        inputs = output = None
        if self.released and (op.save_inputs or op.save_output):
            raise RuntimeError(FREED_MESSAGE)
        if op.save_inputs:
            for t, v in zip(self.saved, self.versions):
                if v is not None and t._vc.v != v:
                    raise _modified_error(t, v)
            inputs = self.saved if create_graph else tuple(
                t._data if isinstance(t, Tensor) else t for t in self.saved)
        if op.save_output:
            if self.out_version.v != self.out_versions:
                i = op.watched_output
                arr = self.out_arrays[i]
                where = f", which is output {i} of {_short(self.name())},"
                raise _modified_error(None, self.out_versions, arr.shape, _dtype.from_numpy_dtype(arr.dtype),
                                      self.device, self.out_version.v, where)
            arrays = self.out_arrays
            if create_graph:
                outs = []
                for i, a in enumerate(arrays):
                    t = Tensor._make(a, self.device)
                    t._vc = self.out_version
                    if t._dtype.category >= 2:
                        t._requires_grad = True
                        t._grad_fn = self
                        t._output_nr = i
                    outs.append(t)
                arrays = outs
            output = arrays if op.multi_output else arrays[0]
        return inputs, output

    def apply(self, grads, create_graph):
        op = self.op
        if not create_graph and not self.released and (
                not op.save_output or self.out_version.v == self.out_versions):
            # the common case, kept flat: saved values (if any) as arrays, after the version check
            if op.save_output:
                self.output = self.out_arrays if op.multi_output else self.out_arrays[0]
            if op.save_inputs:
                inputs = []
                for t, v in zip(self.saved, self.versions):
                    if v is None:
                        inputs.append(t)
                    elif t._vc.v != v:
                        raise _modified_error(t, v)
                    else:
                        inputs.append(t._data)
                self.inputs = inputs
            xp = self.xp
            ns = _CPU_NS if xp is np else array_namespace(xp)
            result = op.backward(ns, self, grads if op.multi_output else grads[0])
            return result if result.__class__ is tuple else (result,)
        inputs, output = self._unpack(create_graph)
        ctx = BackwardContext(inputs, output, self.params, self.needs_input_grad, self.input_meta)
        grad = grads if op.multi_output else grads[0]
        if create_graph:
            if op.once_differentiable:
                return _once_differentiable(self, ctx, grads)
            result = op.backward(TENSOR_NS, ctx, grad)
        else:
            result = op.backward(array_namespace(self.xp), ctx, grad)
        if type(result) is not tuple:
            result = (result,)
        return result


def _once_differentiable(node, ctx, grads):
    """Runs the array rule and wraps its results so that a second backward raises."""
    ctx.inputs = None if ctx.inputs is None else tuple(
        t._data if isinstance(t, Tensor) else t for t in ctx.inputs)
    if ctx.output is not None:
        ctx.output = tuple(t._data for t in ctx.output) if node.op.multi_output else ctx.output._data
    raw = [g._data for g in grads]
    result = node.op.backward(array_namespace(node.xp), ctx, raw if node.op.multi_output else raw[0])
    if type(result) is not tuple:
        result = (result,)
    edges = tuple(edge_of(g) for g in grads)
    err = None
    if any(e[0] is not None for e in edges):
        err = DelayedError(f"the derivative for '{node.op.name}' is not implemented twice "
                           f"({node.name()} is only once differentiable)", edges,
                           tuple((g.shape, g._dtype) for g in grads), ())
    out = []
    for r in result:
        if r is None:
            out.append(None)
            continue
        t = Tensor._make(r, node.device)
        if err is not None:
            t._requires_grad = True
            t._grad_fn = err
            err.output_meta += ((t.shape, t._dtype),)
            t._output_nr = len(err.output_meta) - 1
        out.append(t)
    return tuple(out)


def _short(name):
    """A node's name as torch prints it in version errors: ``MulBackward0`` -> ``Mul``."""
    head, sep, tail = name.rpartition('Backward')
    return head if sep and head and (not tail or tail.isdigit()) else name


def _modified_error(t, expected, shape=None, dtype=None, device=None, current=None, where=None):
    """torch's error for a tensor saved for backward and modified in place since (``t`` or its parts)."""
    from ember.autograd import anomaly_mode
    if t is not None:
        shape, dtype, device, current = t._data.shape, t._dtype, t._device, t._vc.v
        fn = t.grad_fn
        where = f", which is output {t._output_nr} of {_short(fn.name())}," if fn is not None else ''
    kind = device.type if device.type != 'cpu' else ''
    name = f"torch.{kind + '.' if kind else ''}{dtype.legacy_name}"
    dims = ', '.join(str(n) for n in shape)
    if anomaly_mode._enabled:
        hint = ("Hint: the backtrace further above can show the operation that failed to compute its gradient. "
                "The variable in question was changed in there or anywhere later. Good luck!")
    else:
        hint = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
                "torch.autograd.set_detect_anomaly(True, check_nan=False).")
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{name} [{dims}]]{where} is at version {current}; expected version {expected} instead. {hint}")


def scalar_type_name(d):
    """PyTorch's ScalarType name of a dtype (``Float``, ``Long``, ...), as used in error messages."""
    return SCALAR_NAMES[d.name]


def _promote(op, args):
    """Backend arrays of ``args`` cast to the PyTorch result dtype; also returns that dtype."""
    skip = op.promote_skip
    if not skip and len(args) <= 2:
        # fast paths: one tensor, two tensors of one dtype, or a tensor and a same-category scalar
        a = args[0]
        if isinstance(a, Tensor):
            d = a._dtype
            cat = d.category
            if cat >= 2 or op.promote != 'float':
                if len(args) == 1:
                    return [a._data], d
                b = args[1]
                if isinstance(b, Tensor):
                    if b._dtype is d:
                        return [a._data, b._data], d
                elif d is not _dtype.bfloat16:
                    cls = b.__class__
                    if (cls is float and cat >= 2) or (cls is int and cat >= 1) or cls is bool:
                        return [a._data, b], d
    common = None
    fast = True
    for a in args[skip:]:
        d = getattr(a, '_dtype', None)
        if d is None:
            continue
        if common is None:
            common = d
        elif d is not common:
            fast = False
            break
    if fast and common is not None:
        cat = common.category
        for a in args[skip:]:
            if a.__class__ is bool or isinstance(a, Tensor):
                continue
            if a.__class__ is int:
                if cat < 1:
                    fast = False
            elif a.__class__ is float:
                if cat < 2:
                    fast = False
            else:
                fast = False
    if not fast or common is None:
        operands = [a.item() if isinstance(a, np.generic) else a for a in args[skip:]]
        common = _dtype.result_type_of(operands)
    if op.promote == 'float' and common.category < _dtype.FLOAT:
        common = _dtype._default_dtype
    np_common = common.np
    arrays = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            arr = a._data
            if i >= skip and arr.dtype != np_common:
                arr = arr.astype(np_common)
            arrays.append(arr)
        elif isinstance(a, np.generic):
            arrays.append(a.item())
        else:
            arrays.append(a)
    if common is _dtype.bfloat16:
        # NOTE: NumPy treats Python scalars as weak (no upcast) only for its own dtypes; ml_dtypes'
        # bfloat16 would give float32, so the scalars are made bfloat16 first.
        arrays = _scalars_as(arrays, np_common, skip)
    return arrays, common


def _scalars_as(arrays, np_dtype, skip=0):
    """Python scalars among ``arrays`` as 0-d arrays of ``np_dtype`` (integers wrap around, as in torch)."""
    return [np.asarray(a).astype(np_dtype) if i >= skip and a.__class__ in _SCALARS else a
            for i, a in enumerate(arrays)]


def _forward(op, xp, arrays, params):
    """Runs the kernel; an integer scalar out of the tensor dtype's range wraps around like torch's."""
    try:
        return op.forward(xp, *arrays, **params)
    except OverflowError:
        tensor_dtypes = [a.dtype for a in arrays if hasattr(a, 'dtype')]
        if not tensor_dtypes or tensor_dtypes[0].kind not in 'iu':
            raise
        return op.forward(xp, *_scalars_as(arrays, tensor_dtypes[0], op.promote_skip), **params)


def _device_of(args):
    dev = None
    for a in args:
        if isinstance(a, Tensor):
            if dev is None:
                dev = a._device
            elif a._device is not dev and a._device != dev and not (a._device.type == 'cpu' and a._data.ndim == 0):
                raise RuntimeError(
                    f"Expected all tensors to be on the same device, but found at least two devices, "
                    f"{dev} and {a._device}!")
    return dev


def _broadcast_error(op, arrays):
    shapes = [a.shape for a in arrays if hasattr(a, 'shape')]
    if len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        for i in range(1, max(len(a), len(b)) + 1):
            x = a[-i] if i <= len(a) else 1
            y = b[-i] if i <= len(b) else 1
            if x != y and x != 1 and y != 1:
                dim = max(len(a), len(b)) - i
                return RuntimeError(f"{op.public}(): The size of tensor a ({x}) must match the size of "
                                    f"tensor b ({y}) at non-singleton dimension {dim}")
    return None


def _kernel_error(op, arrays, exc):
    if isinstance(exc, ValueError) and 'broadcast' in str(exc):
        err = _broadcast_error(op, arrays)
        if err is not None:
            return err
    return RuntimeError(f"{op.public}(): {exc}")


def apply(op, args, params=_EMPTY):
    """Runs ``op`` on ``args`` (Tensors or scalars) and records the graph when needed."""
    if op.promote is not None:
        arrays, _ = _promote(op, args)
    elif len(args) == 1 and isinstance(args[0], Tensor):
        arrays = (args[0]._data,)
    else:
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    # the device: that of the first input when no other tensor input is elsewhere
    device = None
    if args:
        a0 = args[0]
        if isinstance(a0, Tensor):
            device = a0._device
            for a in args[1:]:
                if isinstance(a, Tensor) and a._device is not device:
                    device = _device_of(args)
                    break
        else:
            device = _device_of(args)
    if device is None:
        device = CPU
    xp = np if device is CPU else _backend.get(device).xp
    try:
        out = op.forward(xp, *arrays, **params)
    except OverflowError:
        out = _forward(op, xp, arrays, params)
    except (ValueError, IndexError, TypeError) as exc:
        raise _kernel_error(op, arrays, exc) from None

    record = False
    if _grad_state['enabled'] and op.backward is not None:
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad:
                record = True
                break

    if op.multi_output:
        outs = tuple(_make(o, device) for o in out)
    else:
        outs = (_make(out, device),)
    if op.view:
        base = args[0]
        root = base._base if base._base is not None else base
        for o in outs:
            o._base = root
            o._vc = base._vc
            o._view_version = base._vc.v
        if not _grad_state['enabled'] and root._requires_grad:
            for o in outs:
                o.__dict__['_no_grad_view'] = True  # in-place on it with grad enabled is an error, as in torch
    if record:
        _record(op, args, params, outs, xp, device)
    return outs if op.multi_output else outs[0]


def unrecorded_view(base, arr):
    """What ``apply`` returns for a view op whose graph is not recorded: ``arr`` (a view of ``base``'s
    array) as a tensor sharing ``base``'s storage and version counter.  For hot paths such as ``x[i]``."""
    t = _make(arr, base._device)
    root = base._base if base._base is not None else base
    t._base = root
    t._vc = base._vc
    t._view_version = base._vc.v
    if not _grad_state['enabled'] and root._requires_grad:
        t.__dict__['_no_grad_view'] = True
    return t


_make = Tensor._make
_NODE_CLASSES = {}  # grad_fn class per name ('MulBackward0', ...), so type(t.grad_fn).__name__ is torch's


def _node_class(name):
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = _NODE_CLASSES[name] = type(name, (OpNode,), {'__slots__': (), '__module__': 'ember.autograd'})
    return cls


def _record(op, args, params, outs, xp, device):
    edges = []
    meta = []
    needs = []
    for a in args:
        if isinstance(a, Tensor):
            if a._requires_grad:
                if a._base is not None and a._view_version != a._vc.v:
                    _refresh_view(a)
                fn = a._grad_fn
                edges.append((fn, a._output_nr) if fn is not None else (get_accumulate_node(a), 0))
                needs.append(True)
            else:
                edges.append(NO_EDGE)
                needs.append(False)
            meta.append((a._data.shape, a._dtype))
        else:
            edges.append(NO_EDGE)
            needs.append(False)
            meta.append(None)
    name = op.grad_name
    if name.__class__ is not str:
        name = name(params, meta)
    cls = _NODE_CLASSES.get(name) or _node_class(name)
    if len(outs) == 1:
        o = outs[0]._data
        out_meta = ((o.shape, outs[0]._dtype),)
    else:
        out_meta = tuple((o._data.shape, o._dtype) for o in outs)
    node = new_node(cls, tuple(edges), tuple(meta), out_meta)
    node.op = op
    node.params = params
    node.xp = xp
    node.device = device
    node.needs_input_grad = tuple(needs)
    node.released = False
    node.saved = node.out_arrays = node.inputs = node.output = None
    if op.save_inputs:
        saved_for = op.saved_for
        if saved_for is not None and False in needs:
            # keep an input only if the gradient of an input that reads it is needed
            kept = []
            for i, a in enumerate(args):
                for j in saved_for.get(i, (i,)):
                    if needs[j]:
                        kept.append(a)
                        break
                else:
                    kept.append(None)
            args = tuple(kept)
        node.saved = args
        versions = []
        for a in args:
            versions.append(a._vc.v if isinstance(a, Tensor) else None)
        node.versions = tuple(versions)
    if op.save_output:
        node.out_arrays = tuple([o._data for o in outs])
        # the output whose in-place edits invalidate the rule (an op whose rule never reads output 0 names another)
        watched = outs[op.watched_output]
        node.out_version = watched._vc
        node.out_versions = watched._vc.v
    nondiff = op.nondiff_outputs
    for i, o in enumerate(outs):
        if (nondiff and i in nondiff) or o._dtype.category < 2:  # (bfloat16's NumPy kind is 'V')
            continue
        o._requires_grad = True
        o._grad_fn = node
        o._output_nr = i


# ----------------------------------------------------------------------------- views and in-place

def view_geometry(t):
    """(shape, strides, offset) of ``t`` in elements of its base's storage."""
    arr = t._data
    size = arr.itemsize
    strides = tuple(s // size for s in arr.strides)
    if t._base is None:
        return arr.shape, strides, 0
    b = _backend.get(t._device)
    offset = (b.data_ptr(arr) - b.data_ptr(t._base._data)) // size
    return arr.shape, strides, offset


def _refresh_view(view):
    """Rebuilds a view's grad_fn from its base after the base was modified in place."""
    base = view._base
    view._view_version = view._vc.v
    if not base._requires_grad:
        return
    from ember.ops.shape import as_strided_from_base
    prev = _grad_state['enabled']
    _grad_state['enabled'] = True  # also when .grad_fn is read under no_grad or during backward
    try:
        fresh = as_strided_from_base(base, view)
    finally:
        _grad_state['enabled'] = prev
    old_fn, old_nr = view._grad_fn, view._output_nr
    view._grad_fn = fresh._grad_fn
    view._output_nr = 0
    view._requires_grad = True
    if view._retains_grad:
        _move_retained(view, old_fn, old_nr)


def _check_inplace_target(t, op_name):
    view_note = t.__dict__.get('_no_grad_view') if t._base is not None and _grad_state['enabled'] else None
    if view_note and (t._requires_grad if isinstance(view_note, str) else t._base._requires_grad):
        if isinstance(view_note, str):  # made inside a custom autograd Function
            raise RuntimeError(
                f"{t.__dict__['_no_grad_view']} is a view and is being modified inplace. This view was created "
                "inside a custom Function (or because an input was returned as-is) and the autograd logic to handle "
                "view+inplace would override the custom backward associated with the custom Function, leading to "
                "incorrect gradients. This behavior is forbidden. You can fix this by cloning the output of the "
                "custom Function.")
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that "
            "this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both "
            "the view and the inplace either both inside the no_grad block (if you don't want the inplace to be "
            "tracked) or both outside (if you want the inplace to be tracked).")
    if _grad_state['enabled'] and t._requires_grad:
        if t._grad_fn is None and t._base is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = t._base
        if base is not None and base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
    if t._data.ndim and 0 in t._data.strides and t._data.size > 1 and not t._data.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")


def _write(t, value):
    """Writes array ``value`` into ``t``'s storage (casting) and bumps the version counter."""
    arr = t._data
    if arr.shape == () and not isinstance(arr, _ndarray) and _backend.get(t._device) is _backend.cpu:
        raise RuntimeError('cannot write into a scalar that does not own memory')
    try:
        if value is not arr:
            if arr.ndim == 0:
                arr[...] = value
            else:
                arr[...] = value
    except ValueError:
        if not arr.flags.writeable:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single "
                "memory location. Please clone() the tensor before performing the operation.") from None
        raise
    t._vc.v += 1


def apply_inplace(op, self, args, params=_EMPTY):
    """``self.<op>_(*args)``: computes ``op(self, *args)`` and writes it into ``self``."""
    _check_inplace_target(self, op.name)
    full = (self,) + tuple(args)
    record = _grad_state['enabled'] and op.backward is not None and any(
        isinstance(a, Tensor) and a._requires_grad for a in full)
    if op.promote is not None:
        arrays, common = _promote(op, full)
        if not _dtype.can_cast(common, self._dtype):
            raise RuntimeError(f"result type {scalar_type_name(common)} can't be cast to the desired output "
                               f"type {scalar_type_name(self._dtype)}")
    if record:
        snapshot = _snapshot(self, copy=op.save_inputs)
        result = apply(op, (snapshot,) + tuple(args), params)
        value = result._data
    else:
        if op.promote is None:
            arrays = [a._data if isinstance(a, Tensor) else a for a in full]
        xp = _backend.get(self._device).xp
        try:
            value = _forward(op, xp, arrays, params)
        except (ValueError, IndexError, TypeError) as exc:
            raise _kernel_error(op, arrays, exc) from None
    if value.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(value.shape)}")
    _write(self, value)
    if record:
        rebase_history(self, result)
    return self


def _snapshot(t, copy):
    """A stand-in for ``t`` as it is before an in-place write (same graph position)."""
    s = Tensor._make(t._data.copy() if copy else t._data, t._device)
    s._requires_grad = t._requires_grad
    if t._base is not None and t._view_version != t._vc.v and t._requires_grad:
        _refresh_view(t)
    s._grad_fn = t._grad_fn
    s._output_nr = t._output_nr
    if t._grad_fn is None and t._requires_grad:
        s._grad_acc = t._grad_acc
        s._requires_grad = False  # a leaf that requires grad cannot be written in place
    return s


def rebase_history(self, result):
    """After ``self`` was overwritten with ``result``'s values, makes ``result``'s graph its history."""
    if not result._requires_grad:
        return
    base = self._base
    old_fn, old_nr = self._grad_fn, self._output_nr
    if base is None:
        self._grad_fn = result._grad_fn
        self._output_nr = result._output_nr
        self._requires_grad = True
    else:
        from ember.ops.shape import copy_slices
        copy_slices(base, self, result)
    if self._retains_grad:
        _move_retained(self, old_fn, old_nr)


def _move_retained(t, old_fn, old_nr):
    """Like torch, ``retain_grad`` follows a tensor to its new grad_fn after an in-place change."""
    retained = old_fn._retained.pop(old_nr, None) if old_fn is not None and old_fn._retained else None
    if retained is not None and t._grad_fn is not None:
        t._grad_fn._retain(t._output_nr, retained)


def apply_out(op, args, params, out):
    """The ``out=`` argument: computes ``op(*args)`` and stores it into ``out``."""
    if _grad_state['enabled'] and any(isinstance(a, Tensor) and a._requires_grad for a in args):
        raise RuntimeError(f"{op.public}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    with grad_mode.no_grad():
        result = apply(op, args, params)
    return write_out(result, out)


def write_out(result, out):
    """Stores ``result`` into the ``out`` tensor, resizing it if its shape differs."""
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if not _dtype.can_cast(result._dtype, out._dtype):
        raise RuntimeError(f"result type {scalar_type_name(result._dtype)} can't be cast to the desired output "
                           f"type {scalar_type_name(out._dtype)}")
    if out._data.shape == result._data.shape:
        _write(out, result._data)
    else:
        if out._base is not None:
            raise RuntimeError("cannot resize a view passed as out=")
        out._data = result._data.astype(out._dtype.np, copy=True)
        out._vc.v += 1
    return out


# ----------------------------------------------------------------------------- F namespaces

class _ArrayNamespace:
    """``F`` for derivative rules on raw arrays: ``F.mul(a, b)`` runs the ``mul`` kernel."""

    def __init__(self, xp):
        self.xp = xp

    def __getattr__(self, name):
        from ember.ops._registry import TABLE
        from functools import partial
        op = TABLE.get(name)
        if op is None or op.forward is None:
            if name in _HELPERS:
                fn = partial(_HELPERS[name][0], self.xp)
            else:
                raise AttributeError(f"no op '{name}' in the op table")
        elif op.view or op.name in _VARIADIC:
            fn = _array_call(op, self.xp)
        else:
            fn = partial(op.forward, self.xp)
        setattr(self, name, fn)
        return fn


_VARIADIC = {'cat', 'stack', 'block_diag'}


def _array_call(op, xp):
    if op.name in _VARIADIC:
        return lambda arrays, **params: op.forward(xp, *arrays, **params)
    return lambda *arrays, **params: op.forward(xp, *arrays, **params)


class _TensorNamespace:
    """``F`` for derivative rules under ``create_graph=True``: the same calls, on Tensors."""

    def __getattr__(self, name):
        from ember.ops._registry import TABLE
        op = TABLE.get(name)
        if op is None or op.forward is None:
            if name in _HELPERS:
                fn = _HELPERS[name][1]
            else:
                raise AttributeError(f"no op '{name}' in the op table")
        elif op.name in _VARIADIC:
            def fn(tensors, _op=op, **params):
                return apply(_op, tuple(tensors), params)
        else:
            def fn(*tensors, _op=op, **params):
                return apply(_op, tensors, params)
        setattr(self, name, fn)
        return fn


def _t_zeros(shape, like):
    return Tensor._make(_backend.get(like._device).xp.zeros(shape, like._dtype.np), like._device)


def _t_full_like(like, value):
    return Tensor._make(_backend.get(like._device).xp.full(like._data.shape, value, like._dtype.np), like._device)


def _t_const(like, array):
    """Wraps a raw array (e.g. indices kept by forward) as a constant Tensor."""
    return Tensor._make(array, like._device) if not isinstance(array, Tensor) else array


def _t_dtype_of(x):
    return x._dtype


def _a_dtype_of(xp, x):
    return _dtype.from_numpy_dtype(x.dtype)


# helpers that exist in both namespaces: (array version taking xp first, tensor version)
_HELPERS = {
    'zeros': (lambda xp, shape, like: xp.zeros(shape, like.dtype), _t_zeros),
    'zeros_like': (lambda xp, x: xp.zeros_like(x), lambda x: _t_zeros(x._data.shape, x)),
    'ones_like': (lambda xp, x: xp.ones_like(x), lambda x: _t_full_like(x, 1)),
    'full_like': (lambda xp, x, value: xp.full_like(x, value), _t_full_like),
    'const': (lambda xp, like, array: array, _t_const),
    'dtype_of': (_a_dtype_of, _t_dtype_of),
    'is_tensor_mode': (lambda xp: False, lambda: True),
}

TENSOR_NS = _TensorNamespace()
_ARRAY_NS = {}


def array_namespace(xp):
    ns = _ARRAY_NS.get(id(xp))
    if ns is None:
        ns = _ARRAY_NS[id(xp)] = _ArrayNamespace(xp)
    return ns


_CPU_NS = array_namespace(np)
