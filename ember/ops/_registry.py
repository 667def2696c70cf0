"""The op table: one ``OpDef`` per op, the single source of truth.

An entry holds the forward kernel (backend arrays in, arrays out), the
derivative rule (written once against a namespace ``F`` so that it runs on raw
arrays or, under ``create_graph=True``, on Tensors), and the samples the
generic tests run it on.  Composite ops (built from other ops, no kernel of
their own) are entered too, with their samples, so that every public op is
checked by the same tests.

Declaring an op::

    @defop('mul', promote='common', save='inputs')
    def mul(xp, a, b):
        return xp.multiply(a, b)

    @mul.derivative
    def _(F, ctx, grad):
        a, b = ctx.inputs
        return F.mul(grad, F.conj(b)), F.mul(grad, F.conj(a))

    mul.samples = lambda make: [Sample(make((2, 3)), make((3,)))]
"""

TABLE = {}

SCALAR_NAMES = {
    'bool': 'Bool', 'uint8': 'Byte', 'int8': 'Char', 'int16': 'Short', 'int32': 'Int', 'int64': 'Long',
    'float16': 'Half', 'bfloat16': 'BFloat16', 'float32': 'Float', 'float64': 'Double',
    'complex64': 'ComplexFloat', 'complex128': 'ComplexDouble'}


class Sample:
    """One call of an op in the generic tests: positional and keyword arguments.

    NumPy arrays among the arguments become tensors (ember and torch alike);
    lists of arrays become lists of tensors.
    """

    __slots__ = ('args', 'kwargs', 'grad', 'name')

    def __init__(self, *args, grad=True, name='', **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.grad = grad      # False: check values only for this sample
        self.name = name

    def __repr__(self):
        def fmt(a):
            shape = getattr(a, 'shape', None)
            return f'array{tuple(shape)}:{a.dtype}' if shape is not None else repr(a)
        parts = [fmt(a) for a in self.args] + [f'{k}={fmt(v)}' for k, v in self.kwargs.items()]
        return f"Sample({', '.join(parts)})"


class ErrorSample:
    """A call that must raise ``error`` with a message matching ``match`` (a regex)."""

    __slots__ = ('args', 'kwargs', 'error', 'match')

    def __init__(self, *args, error=RuntimeError, match='', **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.error = error
        self.match = match


class OpDef:
    """An entry of the op table.

    Attributes:
        name: the table key, and the name of the namespace function ``F.<name>``.
        forward: ``forward(xp, *arrays, **params)``, or None for a composite.
        backward: ``backward(F, ctx, grad)`` returning one gradient per tensor input.
        promote: None, ``'common'`` (inputs cast to their PyTorch result type),
            ``'float'`` (the same, then integers to the default float dtype).
        promote_skip: leading inputs left out of promotion (``where``'s condition).
        save: ``'inputs'``, ``'output'``, ``'both'`` or None: what backward keeps.
        view: the output is a view of the first input (shares storage and version).
        multi_output: forward returns a tuple of arrays.
        once_differentiable: the rule uses raw arrays only; double backward raises.
        grad_name: ``grad_fn`` class name, e.g. ``MulBackward0``, or a function
            ``(params, input_meta) -> name`` where torch's name depends on the call.
        public: dotted name of the public function the samples call
            (``'mul'``, ``'nn.functional.relu'``, ``'Tensor.add_'``).
        samples / error_samples: ``fn(make) -> list`` for the generic tests.
        dtypes: the dtypes the op supports (for the dtype tests).
        gradcheck / gradgradcheck: whether the generic tests check these.
        atol / rtol: extra tolerance against torch for float32.
    """

    __slots__ = ('name', 'forward', 'backward', 'promote', 'promote_skip', 'save_inputs', 'save_output',
                 'view', 'multi_output', 'once_differentiable', 'grad_name', 'public', 'samples',
                 'error_samples', 'dtypes', 'gradcheck', 'gradgradcheck', 'atol', 'rtol', 'torch_public',
                 'nondiff_outputs', 'saved_for', 'watched_output', '__dict__')

    def __init__(self, name, forward=None, *, promote=None, promote_skip=0, save=None, view=False,
                 multi_output=False, once_differentiable=False, grad_name=None, public=None,
                 dtypes='float', gradcheck=True, gradgradcheck=True, atol=None, rtol=None,
                 torch_public=None, nondiff_outputs=()):
        self.name = name
        self.forward = forward
        self.backward = None
        self.promote = promote
        self.promote_skip = promote_skip
        self.save_inputs = save in ('inputs', 'both')
        self.save_output = save in ('output', 'both')
        self.view = view
        self.multi_output = multi_output
        self.once_differentiable = once_differentiable
        self.grad_name = grad_name or (''.join(p.capitalize() for p in name.split('_')) + 'Backward0')
        self.public = public if public is not None else name
        self.torch_public = torch_public
        self.samples = None
        self.error_samples = None
        self.dtypes = dtypes
        self.gradcheck = gradcheck
        self.gradgradcheck = gradgradcheck
        self.atol = atol
        self.rtol = rtol
        self.nondiff_outputs = nondiff_outputs
        # {input index: indices of the inputs whose gradients read it}; None keeps every input
        self.saved_for = None
        # the output whose in-place edit invalidates a rule that saves outputs (0 unless the rule reads another)
        self.watched_output = 0

    def derivative(self, rule):
        """Decorator: sets the derivative rule ``rule(F, ctx, grad)``."""
        self.backward = rule
        return rule

    def __repr__(self):
        return f'<op {self.name}>'

    def __call__(self, *args, **params):
        from ember.ops._dispatch import apply
        return apply(self, args, params)


def defop(name, **options):
    """Decorator that enters a forward kernel into the table under ``name``."""
    def register(forward):
        if name in TABLE:
            raise ValueError(f'op {name!r} is already in the table')
        op = OpDef(name, forward, **options)
        TABLE[name] = op
        return op
    return register


def composite(name, samples=None, **options):
    """Enters a composite op (no kernel: built from other ops) for the generic tests."""
    op = OpDef(name, None, **options)
    op.samples = samples
    if name in TABLE:
        raise ValueError(f'op {name!r} is already in the table')
    TABLE[name] = op
    return op
