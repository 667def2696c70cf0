"""Unpickling checkpoints: a restricted unpickler (``weights_only=True``) and the full one.

The restricted unpickler is its own small interpreter of the pickle opcodes that
checkpoints use.  It resolves a GLOBAL only through the table of torch names ember
stands in for (plus what the user allowlisted), calls only those, and refuses every
other opcode, so nothing a file names is imported or run.  Anything malformed surfaces
as ``pickle.UnpicklingError`` naming what was wrong.

The full unpickler (``weights_only=False``) is Python's, with torch's names mapped to
ember's objects; any other class is imported as usual, so it must only see trusted files.
"""
import _compat_pickle
import codecs
import collections
import importlib
import io
import pickle
import struct

from ember._tensor import Tensor
from ember.serialization import _rebuild

_user_globals = {}      # 'module.name' -> object, from add_safe_globals


def global_name(obj):
    """``'module.qualname'`` of a class or function, as a pickle names it."""
    return f'{getattr(obj, "__module__", "")}.{getattr(obj, "__qualname__", getattr(obj, "__name__", ""))}'


def add_user_globals(entries):
    for entry in entries:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not isinstance(entry[1], str):
                raise ValueError(f"expected (object, 'module.name') in safe globals, got {entry!r}")
            obj, name = entry
        else:
            obj, name = entry, global_name(entry)
        _user_globals[name] = obj


class _Mark:
    __slots__ = ()


_MARK = _Mark()


def _unsupported_global_message(full_path):
    shown = full_path[len('builtins.'):] if full_path.startswith('builtins.') else full_path
    return (f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
            f"`ember.serialization.add_safe_globals([{shown}])` or the `ember.serialization.safe_globals([{shown}])` "
            "context manager to allowlist this global if you trust this class/function.")


class WeightsUnpickler:
    """Loads a pickle admitting only tensors, containers, primitives and allowlisted globals."""

    def __init__(self, file, persistent_load, encoding='utf-8', size_limit=None):
        self._size_limit = size_limit     # no length in the pickle can exceed the file it comes from
        self._file_read = file.read
        self._file_readline = file.readline
        self._persistent_load = persistent_load
        self._encoding = encoding
        self._allowed = _rebuild.torch_globals()
        self._callables = set(map(id, self._allowed.values())) | set(map(id, _user_globals.values()))

    # ------------------------------------------------------------------ reading
    def _read(self, n):
        if n < 0 or (self._size_limit is not None and n > self._size_limit):
            raise pickle.UnpicklingError("pickle data was truncated (a length runs past the end of the file)")
        chunk = self._file_read(n)
        if len(chunk) != n:
            raise pickle.UnpicklingError("pickle data was truncated")
        return chunk

    def _readline(self):
        line = self._file_readline()
        if not line.endswith(b'\n'):
            raise pickle.UnpicklingError("pickle data was truncated")
        return line[:-1]

    def load(self):
        """The unpickled object."""
        self.stack = []
        self.memo = {}
        handlers = self._HANDLERS
        read = self._file_read
        while True:
            op = read(1)
            if not op:
                raise pickle.UnpicklingError("pickle data was truncated (no STOP opcode)")
            handler = handlers.get(op[0])
            if handler is None:
                raise pickle.UnpicklingError(f"Unsupported operand {op[0]} ({op!r}) in a weights-only load")
            if handler(self) is _STOP:
                if len(self.stack) != 1:
                    raise pickle.UnpicklingError("pickle data is malformed: the stack does not end with one object")
                return self.stack.pop()

    # ------------------------------------------------------------------ stack helpers
    def _pop(self):
        if not self.stack or self.stack[-1] is _MARK:
            raise pickle.UnpicklingError("pickle data is malformed: stack underflow")
        return self.stack.pop()

    def _top(self):
        if not self.stack or self.stack[-1] is _MARK:
            raise pickle.UnpicklingError("pickle data is malformed: stack underflow")
        return self.stack[-1]

    def _pop_mark(self):
        stack = self.stack
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is _MARK:
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise pickle.UnpicklingError("pickle data is malformed: could not find MARK")

    # ------------------------------------------------------------------ opcodes
    def _proto(self):
        if self._read(1)[0] > pickle.HIGHEST_PROTOCOL:
            raise pickle.UnpicklingError("unsupported pickle protocol")

    def _frame(self):
        self._read(8)

    def _stop(self):
        return _STOP

    def _mark(self):
        self.stack.append(_MARK)

    def _pop_op(self):
        if self.stack:
            self.stack.pop()
        else:
            raise pickle.UnpicklingError("pickle data is malformed: stack underflow")

    def _pop_mark_op(self):
        self._pop_mark()

    def _dup(self):
        self.stack.append(self._top())

    def _push(value):
        return lambda self: self.stack.append(value)

    def _int(fmt, size):
        def handler(self):
            self.stack.append(struct.unpack(fmt, self._read(size))[0])
        return handler

    def _long1(self):
        n = self._read(1)[0]
        self.stack.append(int.from_bytes(self._read(n), 'little', signed=True))

    def _long4(self):
        n = struct.unpack('<i', self._read(4))[0]
        if n < 0:
            raise pickle.UnpicklingError("LONG pickle has negative byte count")
        self.stack.append(int.from_bytes(self._read(n), 'little', signed=True))

    def _binfloat(self):
        self.stack.append(struct.unpack('>d', self._read(8))[0])

    def _unicode(fmt, size):
        def handler(self):
            n = struct.unpack(fmt, self._read(size))[0]
            try:
                self.stack.append(str(self._read(n), 'utf-8', 'surrogatepass'))
            except UnicodeDecodeError as e:
                raise pickle.UnpicklingError(f"pickle data has an invalid string: {e}") from None
        return handler

    def _bytes(fmt, size, kind):
        def handler(self):
            data = self._read(struct.unpack(fmt, self._read(size))[0])
            self.stack.append(bytearray(data) if kind == 'bytearray' else data)
        return handler

    def _py2_string(fmt, size):
        def handler(self):
            data = self._read(struct.unpack(fmt, self._read(size))[0])
            if self._encoding == 'bytes':
                self.stack.append(data)
            else:
                try:
                    self.stack.append(data.decode(self._encoding))
                except (UnicodeDecodeError, LookupError) as e:
                    raise pickle.UnpicklingError(f"pickle data has an invalid string: {e}") from None
        return handler

    def _tuple(self):
        self.stack.append(tuple(self._pop_mark()))

    def _tuple_n(n):
        def handler(self):
            if len(self.stack) < n or _MARK in self.stack[-n:]:
                raise pickle.UnpicklingError("pickle data is malformed: stack underflow")
            items = tuple(self.stack[-n:])
            del self.stack[-n:]
            self.stack.append(items)
        return handler

    def _list(self):
        self.stack.append(self._pop_mark())

    def _dict(self):
        items = self._pop_mark()
        if len(items) % 2:
            raise pickle.UnpicklingError("pickle data is malformed: odd number of dict items")
        self.stack.append(self._fill_dict({}, items))

    def _append(self):
        item = self._pop()
        target = self._top()
        if type(target) is not list:
            raise pickle.UnpicklingError(f"Can only append to lists, but got {type(target).__name__}")
        target.append(item)

    def _appends(self):
        items = self._pop_mark()
        target = self._top()
        if type(target) is not list:
            raise pickle.UnpicklingError(f"Can only extend lists, but got {type(target).__name__}")
        target.extend(items)

    def _fill_dict(self, target, items):
        if type(target) not in (dict, collections.OrderedDict, collections.Counter):
            raise pickle.UnpicklingError(f"Can only set items of dicts, but got {type(target).__name__}")
        try:
            for i in range(0, len(items), 2):
                target[items[i]] = items[i + 1]
        except TypeError as e:
            raise pickle.UnpicklingError(f"pickle data is malformed: {e}") from None
        return target

    def _setitem(self):
        value = self._pop()
        key = self._pop()
        self._fill_dict(self._top(), [key, value])

    def _setitems(self):
        items = self._pop_mark()
        if len(items) % 2:
            raise pickle.UnpicklingError("pickle data is malformed: odd number of dict items")
        self._fill_dict(self._top(), items)

    def _additems(self):
        items = self._pop_mark()
        target = self._top()
        if type(target) is not set:
            raise pickle.UnpicklingError(f"Can only add items to sets, but got {type(target).__name__}")
        try:
            target.update(items)
        except TypeError as e:
            raise pickle.UnpicklingError(f"pickle data is malformed: {e}") from None

    def _frozenset(self):
        try:
            self.stack.append(frozenset(self._pop_mark()))
        except TypeError as e:
            raise pickle.UnpicklingError(f"pickle data is malformed: {e}") from None

    def _resolve(self, module, name):
        # protocol 2 pickles use Python 2 names for some builtins (__builtin__.set); map them as pickle does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full_path = f'{module}.{name}'
        obj = self._allowed.get(full_path)
        if obj is None:
            obj = _user_globals.get(full_path)
        if obj is None:
            raise pickle.UnpicklingError(_unsupported_global_message(full_path))
        return obj

    def _global(self):
        try:
            module = self._readline().decode('utf-8')
            name = self._readline().decode('utf-8')
        except UnicodeDecodeError:
            raise pickle.UnpicklingError("pickle data has an invalid GLOBAL name") from None
        self.stack.append(self._resolve(module, name))

    def _stack_global(self):
        name = self._pop()
        module = self._pop()
        if type(module) is not str or type(name) is not str:
            raise pickle.UnpicklingError("STACK_GLOBAL requires str module and name")
        self.stack.append(self._resolve(module, name))

    def _check_callable(self, func):
        if id(func) not in self._callables or not callable(func):
            raise pickle.UnpicklingError(f"Trying to call reduce for unrecognized function {func!r:.100}")

    def _reduce(self):
        args = self._pop()
        func = self._pop()
        self._check_callable(func)
        if type(args) is not tuple:
            raise pickle.UnpicklingError("pickle data is malformed: REDUCE arguments are not a tuple")
        # NOTE: these are allowed as values (types a tensor is rebuilt as, containers), but called with a
        # count they would allocate whatever the file asks for
        if func is Tensor or (func in (bytearray, codecs.encode) and not all(isinstance(a, (str, bytes, list))
                                                                          for a in args)):
            raise pickle.UnpicklingError(f"Trying to call {global_name(func)} with arguments a checkpoint never "
                                         "uses")
        self.stack.append(func(*args))

    def _newobj(self):
        args = self._pop()
        cls = self._pop()
        self._check_callable(cls)
        if type(args) is not tuple or not isinstance(cls, type) or cls is Tensor:
            raise pickle.UnpicklingError("pickle data is malformed: bad NEWOBJ arguments")
        if cls is _rebuild.torch_globals()['torch.nn.parameter.Parameter']:
            self.stack.append(cls(*args))
        else:
            self.stack.append(cls.__new__(cls, *args))

    def _build(self):
        state = self._pop()
        inst = self._top()
        if isinstance(inst, Tensor):
            _rebuild.set_python_state(inst, state)
        elif type(inst) is collections.OrderedDict:
            if not isinstance(state, dict):
                raise pickle.UnpicklingError("pickle data is malformed: bad OrderedDict state")
            inst.__dict__.update(state)
        elif id(type(inst)) in self._callables and type(inst) not in (set, bytearray, complex, collections.Counter):
            setstate = getattr(inst, '__setstate__', None)
            if setstate is not None and getattr(type(inst), '__setstate__', None) is not None:
                setstate(state)
            else:
                slots = None
                if isinstance(state, tuple) and len(state) == 2:
                    state, slots = state
                if state:
                    inst.__dict__.update(state)
                for k, v in (slots or {}).items():
                    setattr(inst, k, v)
        else:
            raise pickle.UnpicklingError(f"Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                                         f"`add_safe_globals`, but got {type(inst).__name__}")

    def _binpersid(self):
        pid = self._pop()
        if type(pid) is not tuple or not pid or pid[0] not in ('storage', b'storage'):
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got {pid!r:.80}")
        self.stack.append(self._persistent_load(pid))

    def _get(fmt, size):
        def handler(self):
            index = struct.unpack(fmt, self._read(size))[0]
            try:
                self.stack.append(self.memo[index])
            except KeyError:
                raise pickle.UnpicklingError(f"Memo value not found at index {index}") from None
        return handler

    def _put(fmt, size):
        def handler(self):
            self.memo[struct.unpack(fmt, self._read(size))[0]] = self._top()
        return handler

    def _memoize(self):
        self.memo[len(self.memo)] = self._top()

    P = pickle
    _HANDLERS = {
        P.PROTO[0]: _proto, P.FRAME[0]: _frame, P.STOP[0]: _stop, P.MARK[0]: _mark, P.POP[0]: _pop_op,
        P.POP_MARK[0]: _pop_mark_op, P.DUP[0]: _dup,
        P.NONE[0]: _push(None), P.NEWTRUE[0]: _push(True), P.NEWFALSE[0]: _push(False),
        P.BININT[0]: _int('<i', 4), P.BININT1[0]: _int('<B', 1), P.BININT2[0]: _int('<H', 2),
        P.LONG1[0]: _long1, P.LONG4[0]: _long4, P.BINFLOAT[0]: _binfloat,
        P.BINUNICODE[0]: _unicode('<I', 4), P.SHORT_BINUNICODE[0]: _unicode('<B', 1),
        P.BINUNICODE8[0]: _unicode('<Q', 8),
        P.BINBYTES[0]: _bytes('<I', 4, 'bytes'), P.SHORT_BINBYTES[0]: _bytes('<B', 1, 'bytes'),
        P.BINBYTES8[0]: _bytes('<Q', 8, 'bytes'), P.BYTEARRAY8[0]: _bytes('<Q', 8, 'bytearray'),
        P.BINSTRING[0]: _py2_string('<i', 4), P.SHORT_BINSTRING[0]: _py2_string('<B', 1),
        P.EMPTY_TUPLE[0]: lambda self: self.stack.append(()), P.TUPLE[0]: _tuple, P.TUPLE1[0]: _tuple_n(1),
        P.TUPLE2[0]: _tuple_n(2), P.TUPLE3[0]: _tuple_n(3),
        P.EMPTY_LIST[0]: lambda self: self.stack.append([]), P.LIST[0]: _list, P.APPEND[0]: _append,
        P.APPENDS[0]: _appends,
        P.EMPTY_DICT[0]: lambda self: self.stack.append({}), P.DICT[0]: _dict, P.SETITEM[0]: _setitem,
        P.SETITEMS[0]: _setitems,
        P.EMPTY_SET[0]: lambda self: self.stack.append(set()), P.ADDITEMS[0]: _additems,
        P.FROZENSET[0]: _frozenset,
        P.GLOBAL[0]: _global, P.STACK_GLOBAL[0]: _stack_global, P.REDUCE[0]: _reduce, P.NEWOBJ[0]: _newobj,
        P.BUILD[0]: _build, P.BINPERSID[0]: _binpersid,
        P.BINGET[0]: _get('<B', 1), P.LONG_BINGET[0]: _get('<I', 4),
        P.BINPUT[0]: _put('<B', 1), P.LONG_BINPUT[0]: _put('<I', 4), P.MEMOIZE[0]: _memoize,
    }
    del P, _push, _int, _unicode, _bytes, _py2_string, _tuple_n, _get, _put


_STOP = object()


def unsafe_globals_in(data):
    """The ``module.name`` of every GLOBAL in pickle ``data`` that a weights-only load would refuse."""
    import pickletools
    allowed = _rebuild.torch_globals()
    found = []
    try:
        for opcode, arg, _ in pickletools.genops(io.BytesIO(data)):
            if opcode.name == 'GLOBAL':
                full = arg.replace(' ', '.', 1)
                if full not in allowed and full not in _user_globals and full not in found:
                    found.append(full)
    except Exception as e:
        raise pickle.UnpicklingError(f"pickle data is malformed: {e}") from None
    return found


def _torch_to_ember_module(module):
    """``torch.nn.modules.linear`` -> ``ember.nn.modules.linear`` (and torchvision -> ember.vision)."""
    if module == 'torch' or module.startswith('torch.'):
        return 'ember' + module[len('torch'):]
    if module == 'torchvision' or module.startswith('torchvision.'):
        return 'ember.vision' + module[len('torchvision'):]
    return None


class FullUnpickler(pickle.Unpickler):
    """Python's unpickler with torch's names mapped to ember's objects (``weights_only=False``)."""

    def __init__(self, file, persistent_load, **kwargs):
        super().__init__(file, **kwargs)
        self._load_storage = persistent_load

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and pid and pid[0] in ('storage', b'storage'):
            return self._load_storage(pid)
        raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")

    def find_class(self, module, name):
        obj = _rebuild.torch_globals().get(f'{module}.{name}')
        if obj is not None:
            return obj
        mapped = _torch_to_ember_module(module)
        if mapped is not None:
            return _find_ember(mapped, name, f'{module}.{name}')
        return super().find_class(module, name)


def _find_ember(module, name, torch_path):
    candidates = [module]
    parts = module.split('.')
    candidates += ['.'.join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]
    for candidate in candidates:
        try:
            mod = importlib.import_module(candidate)
        except ImportError:
            continue
        obj = mod
        try:
            for attr in name.split('.'):
                obj = getattr(obj, attr)
            return obj
        except AttributeError:
            continue
    raise pickle.UnpicklingError(f"the checkpoint needs {torch_path}, which ember does not provide")

