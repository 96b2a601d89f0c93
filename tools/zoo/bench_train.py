#!/usr/bin/python3
"""Training throughput of the zoo's own trainer (train.py's `train_step`), the baseline of
`npm run bench -- train` (bench/train.ts, issue #25).

Times train.py's training step, unchanged, for one architecture and method on the MNIST train
split (uint8 batches in the epoch's permutation, converted with train.py's `to_float`, as the
trainer does): Adam 1e-3, L-inf eps 0.3, PGD-AT with k steps of 2.5*eps/k from a random start
(Madry et al. 2018), the recipe the lab's trainer defaults to. Warm-up steps are run first and
excluded. Prints one JSON object: images/s, seconds per step and the process's peak resident
memory (ru_maxrss: data, model, the step's autograd graph and PyTorch itself).

    /usr/bin/python3 tools/zoo/bench_train.py --arch mnist_small --method pgd --steps 3 \
        --warmup 1 --batch 128 --threads 1
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402
from train import load_mnist, to_float, train_step  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description='Time the zoo trainer\'s training step.')
    ap.add_argument('--arch', default='mnist_small', choices=list(models.ARCHS))
    ap.add_argument('--method', default='standard', choices=['standard', 'pgd'])
    ap.add_argument('--steps', type=int, default=5, help='timed steps (after the warm-up)')
    ap.add_argument('--warmup', type=int, default=1, help='untimed steps first')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--threads', type=int, default=1, help='torch.set_num_threads: the threads tfjs gets')
    ap.add_argument('--eps', type=float, default=0.3)
    ap.add_argument('--attack-steps', type=int, default=7)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = load_mnist('train')
    model = models.build(a.arch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # The fields train_step reads of train.py's parsed arguments.
    args = argparse.Namespace(method=a.method, norm='linf', steps=a.attack_steps, beta=6.0)
    step_size = 2.5 * a.eps / a.attack_steps
    order = np.random.default_rng([a.seed, 0]).permutation(len(y))
    times = []
    for b in range(a.warmup + a.steps):
        idx = np.sort(order[b * a.batch:(b + 1) * a.batch])
        t0 = time.perf_counter()
        xb, yb = to_float(x[idx]), torch.from_numpy(y[idx])
        train_step(model, opt, xb, yb, args, a.eps if a.method != 'standard' else 0.0, step_size)
        if b >= a.warmup:
            times.append(time.perf_counter() - t0)
    seconds = sum(times)
    print(json.dumps({
        'arch': a.arch, 'method': a.method, 'batch': a.batch, 'threads': torch.get_num_threads(),
        'warmup': a.warmup, 'steps': a.steps, 'stepSeconds': [round(t, 4) for t in times],
        'imagesPerSecond': a.batch * len(times) / seconds,
        'peakRssMb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        'torch': torch.__version__,
    }))


if __name__ == '__main__':
    main()
