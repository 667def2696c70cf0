"""``parameters_to_vector`` and ``vector_to_parameters``."""
import ember

__all__ = ['parameters_to_vector', 'vector_to_parameters']


def _check_param_device(param, old_device):
    """The device all parameters share; raises if ``param`` is on another one."""
    if old_device is None:
        return param.device
    if param.device != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return old_device


def parameters_to_vector(parameters):
    """All ``parameters`` flattened and concatenated into one 1-D tensor (a copy that keeps the graph)."""
    device = None
    flat = []
    for param in parameters:
        device = _check_param_device(param, device)
        flat.append(param.view(-1))
    return ember.cat(flat)


def vector_to_parameters(vec, parameters):
    """Makes each parameter's data the matching slice of the 1-D ``vec`` (shared, not copied)."""
    if not isinstance(vec, ember.Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__module__}.{type(vec).__name__}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_param_device(param, device)
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
