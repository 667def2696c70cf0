"""Runs every benchmark file and writes the tables to ``docs/benchmarks.md``.

    python benchmarks/run_all.py

Each file runs in its own process, one after another, so that nothing else
competes for the cores.  Only ratios measured in the same run mean anything.
"""
import datetime
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ['bench_engine.py', 'bench_training.py', 'bench_optim.py', 'bench_conv.py', 'bench_dataloader.py',
         'bench_sequence.py', 'bench_vision.py', 'bench_serialization.py']


def main():
    sections = []
    for name in FILES:
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            continue
        print(f'== {name}', flush=True)
        proc = subprocess.run([sys.executable, path], capture_output=True, text=True)
        out = proc.stdout.strip() or proc.stderr.strip()[-2000:]
        print(out, flush=True)
        sections.append((name, out))
    import numpy
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = 'not installed'
    lines = ['# Benchmarks', '',
             'ember vs PyTorch (and hand-written NumPy where a row has one), same workload, same run, medians of',
             'alternating rounds. Ratios < 1 mean ember is faster. Regenerate with `python benchmarks/run_all.py`.',
             '',
             f'Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, '
             f'NumPy {numpy.__version__}, PyTorch {torch_version}; {datetime.date.today()}.', '']
    for name, out in sections:
        lines += [f'## {name}', '', '```' if not out.lstrip().startswith('|') else '', out,
                  '```' if not out.lstrip().startswith('|') else '', '']
    with open(os.path.join(HERE, '..', 'docs', 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(line for line in lines) + '\n')


if __name__ == '__main__':
    main()
