"""Side-by-side timing of ember and PyTorch (and hand-written NumPy) on the same workloads.

Each workload is a function ``setup(lib) -> callable``; the runner warms each
side up, then alternates the sides in rounds and reports the median time of
each and the ratio ember/torch (and ember/numpy where a NumPy version exists).
Machines are noisy: only ratios measured in the same run mean anything.
"""
import statistics
import time


def _time_once(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _calibrate(fn, target=0.05):
    number = 1
    while True:
        t = _time_once(fn, number)
        if t * number >= target or number >= 1 << 16:
            return number
        number *= 2


def compare(sides, rounds=7, warmup=2):
    """Times each ``name -> callable`` in alternating rounds; returns ``name -> median seconds``."""
    for fn in sides.values():
        for _ in range(warmup):
            fn()
    numbers = {name: _calibrate(fn) for name, fn in sides.items()}
    samples = {name: [] for name in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            samples[name].append(_time_once(fn, numbers[name]))
    return {name: statistics.median(v) for name, v in samples.items()}


def fmt_time(seconds):
    if seconds < 1e-3:
        return f'{seconds * 1e6:8.1f} us'
    if seconds < 1:
        return f'{seconds * 1e3:8.2f} ms'
    return f'{seconds:8.2f} s '


def print_table(rows):
    """rows: list of (workload, {'ember': t, 'torch': t, 'numpy': t or None})."""
    head = f"| {'workload':<44} | {'ember':>11} | {'torch':>11} | {'numpy':>11} | {'ember/torch':>11} | {'ember/numpy':>11} |"
    print(head)
    print('|' + '|'.join('-' * (len(c)) for c in head.split('|')[1:-1]) + '|')
    for name, t in rows:
        e, tt, n = t.get('ember'), t.get('torch'), t.get('numpy')
        print(f"| {name:<44} | {fmt_time(e) if e else '-':>11} | {fmt_time(tt) if tt else '-':>11} | "
              f"{fmt_time(n) if n else '-':>11} | {(f'{e / tt:.2f}x' if e and tt else '-'):>11} | "
              f"{(f'{e / n:.2f}x' if e and n else '-'):>11} |")


def run_workloads(workloads, libs, selected=None, rounds=7):
    """Times each ``(name, make, make_numpy)`` workload on every lib and prints one table.

    ``make(lib)`` returns the callable to time; ``make_numpy()`` (or None) the hand-written NumPy
    version.  ``libs`` maps side names ('ember', 'torch') to modules (None: side skipped);
    ``selected`` keeps only workloads whose name contains one of its strings.
    """
    rows = []
    for name, make, *rest in workloads:
        make_np = rest[0] if rest else None
        if selected and not any(s in name for s in selected):
            continue
        sides = {}
        try:
            for side, lib in libs.items():
                if lib is not None:
                    sides[side] = make(lib)
        except (AttributeError, ImportError) as e:
            print(f'skip {name}: {e}')
            continue
        if make_np is not None:
            sides['numpy'] = make_np()
        rows.append((name, compare(sides, rounds=rounds)))
    print_table(rows)
