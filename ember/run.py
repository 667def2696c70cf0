"""Run an unmodified PyTorch script on ember: ``python -m ember.run script.py [args...]``.

Installs an import hook that makes ``torch``, ``torchvision`` and
``pytorch_lightning``/``lightning`` (and their submodules) resolve to ember's
modules, then runs the script as ``__main__``.
"""
import importlib
import importlib.abc
import importlib.util
import runpy
import sys

ALIASES = {
    'torch': 'ember',
    'torchvision': 'ember.vision',
    'pytorch_lightning': 'ember.lightning',
    'lightning.pytorch': 'ember.lightning',
}


def _target(fullname):
    for src, dst in sorted(ALIASES.items(), key=lambda kv: -len(kv[0])):
        if fullname == src or fullname.startswith(src + '.'):
            return dst + fullname[len(src):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Maps ``torch.*`` imports onto ``ember.*`` modules."""

    def find_spec(self, fullname, path=None, target=None):
        dst = _target(fullname)
        if dst is None or importlib.util.find_spec(dst) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(dst))


def install():
    """Makes ``import torch`` (and friends) import ember from now on in this process."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(__doc__)
        return 2
    install()
    sys.argv = argv
    if argv[0] == '-m':
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name='__main__', alter_sys=True)
    else:
        runpy.run_path(argv[0], run_name='__main__')
    return 0


if __name__ == '__main__':
    sys.exit(main())
