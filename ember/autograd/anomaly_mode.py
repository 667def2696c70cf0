"""Anomaly detection: remember where each node was created, and stop at NaN gradients."""
import traceback
import warnings

_enabled = False
_check_nan = True


def creation_trace():
    return ''.join(traceback.format_stack()[:-3])


def is_anomaly_enabled():
    """Whether ``detect_anomaly`` is active."""
    return _enabled


def is_anomaly_check_nan_enabled():
    return _enabled and _check_nan


class detect_anomaly:
    """Context manager that records forward tracebacks and raises on NaN gradients.

    When a backward rule returns NaN, the error names the node (e.g.
    ``'DivBackward0'``) and the forward traceback of the op that created it is
    printed as a warning.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = None
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        global _enabled, _check_nan
        self.prev = (_enabled, _check_nan)
        _enabled, _check_nan = True, self.check_nan

    def __exit__(self, *exc):
        global _enabled, _check_nan
        _enabled, _check_nan = self.prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turns anomaly detection on or off (context manager or plain call)."""

    def __init__(self, mode, check_nan=True):
        global _enabled, _check_nan
        self.prev = (_enabled, _check_nan)
        _enabled, _check_nan = bool(mode), check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        global _enabled, _check_nan
        _enabled, _check_nan = self.prev
        return False
