"""Small argument helpers shared by the op families."""
from ember._tensor import Tensor, _wrap_dim

wrap_dim = _wrap_dim


def wrap_dims(dim, ndim, name='dim'):
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative dims; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int) or isinstance(dim, Tensor):
        return (wrap_dim(int(dim), ndim),)
    dims = tuple(wrap_dim(int(d), ndim) for d in dim)
    if len(set(dims)) != len(dims):
        dup = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return tuple(sorted(dims))


def as_shape(args, name='size'):
    """Accepts ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(torch.Size)`` and returns a tuple of ints."""
    if len(args) == 1 and not isinstance(args[0], int) and not (isinstance(args[0], Tensor) and args[0].ndim == 0):
        args = args[0]
    try:
        shape = tuple(int(n) for n in args)
    except TypeError:
        raise TypeError(f"{name} must be tuple of ints, but got {type(args).__name__}") from None
    return shape


def check_tensor(x, op, arg='input'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")
    return x
