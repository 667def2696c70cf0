"""``ember.device``: where a tensor's data lives (``cpu``, ``cuda:N`` or ``meta``)."""


_INTERNED = {}


class device:
    """A device, parsed from a string like ``"cpu"`` or ``"cuda:1"``, or a type and index."""

    __slots__ = ('type', 'index')

    def __new__(cls, type_or_str, index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int):  # torch.device(0) means cuda:0
            type_or_str, index = 'cuda', type_or_str
        self = object.__new__(cls)
        kind = type_or_str
        if ':' in kind:
            kind, _, idx = kind.partition(':')
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_str}'")
            index = int(idx)
        if kind not in ('cpu', 'cuda', 'meta'):
            raise RuntimeError(
                "Expected one of cpu, cuda, meta device type at start of device string: " + str(type_or_str))
        # one object per (type, index), so the dispatcher can compare devices with `is`
        interned = _INTERNED.get((kind, index))
        if interned is not None:
            return interned
        self.type = kind
        self.index = index
        _INTERNED[(kind, index)] = self
        return self

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f'{self.type}:{self.index}'

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


CPU = device('cpu')


def as_device(d):
    """Normalises ``d`` (str, int, device or None) to a device; None means cpu."""
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    if d == 'cpu':
        return CPU
    return device(d)
