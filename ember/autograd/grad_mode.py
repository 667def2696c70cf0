"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each works as a context manager and as a decorator.  The flag lives in a
one-element list so that the dispatcher reads it without a function call.
"""
import functools
import inspect

_state = {'enabled': True, 'inference': False}


def is_grad_enabled():
    """Returns True if gradient recording is currently enabled."""
    return _state['enabled']


def is_inference_mode_enabled():
    """Returns True inside ``inference_mode``."""
    return _state['inference']


class _Mode:
    """Base of the grad-mode context managers; also usable as decorators."""

    def __call__(self, fn):
        if inspect.isclass(fn):
            raise TypeError(f"{type(self).__name__} can only decorate functions")
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, fn):
        """The mode holds while the generator runs, not while its caller runs between items."""
        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            gen.close()
                        raise
                    except BaseException as exc:
                        with self.clone():
                            response = gen.throw(exc)
                    else:
                        with self.clone():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value
        return gen_wrapper

    def clone(self):
        return type(self)()


class _NoParamMode(_Mode):
    """A mode that may also decorate without parentheses: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Context manager (and decorator) that disables gradient recording."""

    def __init__(self):
        self.prev = None

    def __enter__(self):
        self.prev = _state['enabled']
        _state['enabled'] = False

    def __exit__(self, *exc):
        _state['enabled'] = self.prev
        return False


class enable_grad(_NoParamMode):
    """Context manager (and decorator) that enables gradient recording."""

    def __init__(self):
        self.prev = None

    def __enter__(self):
        self.prev = _state['enabled']
        _state['enabled'] = True

    def __exit__(self, *exc):
        _state['enabled'] = self.prev
        return False


class set_grad_enabled(_Mode):
    """Sets gradient recording on or off; acts at once, and as a context manager restores it."""

    def __init__(self, mode):
        self.prev = _state['enabled']
        self.mode = bool(mode)
        _state['enabled'] = self.mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state['enabled'] = self.prev
        return False

    def clone(self):
        return set_grad_enabled(self.mode)

    def __call__(self, fn):
        _state['enabled'] = self.prev
        return super().__call__(fn)


class inference_mode(_Mode):
    """Like ``no_grad``; tensors made inside are inference tensors (``is_inference()``)."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode=True):
        self.mode = mode
        self.prev = None

    def __enter__(self):
        self.prev = (_state['enabled'], _state['inference'])
        # inference_mode(False) turns inference off and grad recording back on, as torch's does
        _state['enabled'] = not self.mode
        _state['inference'] = bool(self.mode)

    def __exit__(self, *exc):
        _state['enabled'], _state['inference'] = self.prev
        return False

    def clone(self):
        return inference_mode(self.mode)
