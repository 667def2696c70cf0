"""Fuzzing ember.load with damaged checkpoints: every outcome is a load or a documented error, never anything else."""
import collections
import io
import pickle
import sys

import pytest

hypothesis = pytest.importorskip('hypothesis')
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import ember  # noqa: E402

DOCUMENTED = (RuntimeError, pickle.UnpicklingError, ValueError)


def _sample():
    base = ember.arange(12, dtype=ember.float32)
    return collections.OrderedDict(
        w=base, v=base[3:9].view(2, 3), i=ember.tensor([1, 2, 3]), h=ember.ones(2, dtype=ember.float16),
        p=ember.nn.Parameter(ember.ones(2)), meta={'step': 3, 'lr': 0.1, 'name': 'x', 'shape': ember.Size([2])},
        dtype=ember.int8, flags=[True, None, (1, 2)])


def _saved(legacy):
    buffer = io.BytesIO()
    ember.save(_sample(), buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


ZIP_FILE = _saved(False)
LEGACY_FILE = _saved(True)


@st.composite
def _mutated(draw):
    data = bytearray(draw(st.sampled_from([ZIP_FILE, LEGACY_FILE])))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(['flip', 'truncate', 'insert', 'delete', 'overwrite']))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == 'flip':
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == 'truncate':
            del data[at:]
        elif kind == 'insert':
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == 'delete':
            del data[at:at + draw(st.integers(1, 16))]
        else:
            patch = draw(st.binary(min_size=1, max_size=8))
            data[at:at + len(patch)] = patch
    return bytes(data)


def _load_safely(data):
    modules_before = set(sys.modules)
    try:
        ember.load(io.BytesIO(data))
    except DOCUMENTED:
        pass
    # zipfile may pull in a text codec or a decompressor for a damaged header; nothing else may be imported
    imported = {m for m in set(sys.modules) - modules_before
                if not m.startswith('encodings.') and m not in ('bz2', '_bz2', 'lzma', '_lzma', '_compression')}
    assert not imported, f"a weights-only load imported {imported}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutated_checkpoints_load_or_fail_cleanly(data):
    _load_safely(data)


@pytest.mark.parametrize('source', [ZIP_FILE, LEGACY_FILE], ids=['zip', 'legacy'])
def test_every_truncation_fails_cleanly(source):
    for cut in range(0, len(source), max(1, len(source) // 150)):
        _load_safely(source[:cut])


def test_unmodified_samples_load():
    for source in (ZIP_FILE, LEGACY_FILE):
        out = ember.load(io.BytesIO(source))
        assert out['v'].tolist() == [[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]
