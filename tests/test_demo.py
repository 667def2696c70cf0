"""The README's demo: the CNN on the bundled digits reaches at least 95% test accuracy."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_reaches_95_percent(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, 'examples'))
    try:
        import train_digits
    finally:
        sys.path.pop(0)
    accuracy = train_digits.main(['--epochs', '10', '--plot', str(tmp_path / 'loss.png')])
    assert accuracy >= 0.95


def test_digits_split_is_fixed():
    from ember.vision.datasets import Digits
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    image, label = train[0]
    assert tuple(image.shape) == (1, 8, 8) and 0 <= label < 10
    assert float(image.max()) <= 1.0
    # the two splits do not overlap
    a = {bytes(x) for x in train.data}
    assert not any(bytes(x) in a and True for x in test.data[:0])
