#!/usr/bin/python3
"""WRN-28-10 for tools/onnx/wrn28.test.ts: Zagoruyko & Komodakis 2016's CIFAR WideResNet at
RobustBench's size (36.5 M parameters, in-graph normalisation; make_fixtures.WideResNet), seeded
random weights and randomised BatchNorm statistics, exported by torch.onnx.export, and the same
model as an .onnx + .data pair (external_data.py). Writes PyTorch's logits and input gradient
(summed cross-entropy) of `n` images in the layout of make_fixtures.py.

    /usr/bin/python3 tools/onnx/make_wrn28.py <out_dir> [n] [--onnx-only]

--onnx-only writes wrn_28_10.onnx alone (e2e/onnx.spec.ts: the lab only needs the file).

Writes wrn_28_10.onnx, wrn_28_10_ext.onnx + wrn_28_10_ext.onnx.data, wrn_28_10.inputs.bin
(NHWC float32), .labels.bin (int32), .logits.bin, .grad.bin (NHWC float32), manifest.json.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures as fixtures  # noqa: E402
from external_data import move_out  # noqa: E402


def main(out, n, onnx_only=False):
    torch.set_num_threads(2)
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    torch.manual_seed(3100)
    model = fixtures.WideResNet(28, 10)
    g = torch.Generator().manual_seed(4100)
    fixtures.randomise_batchnorm(model, g)
    model.eval()
    onnx_path = os.path.join(out, 'wrn_28_10.onnx')
    fixtures.export(model, (3, 32, 32), n, {}, onnx_path)
    if onnx_only:
        return
    move_out(onnx_path, os.path.join(out, 'wrn_28_10_ext.onnx'), os.path.join(out, 'wrn_28_10_ext.onnx.data'))
    x = torch.rand(n, 3, 32, 32, generator=g, requires_grad=True)
    labels = torch.randint(0, 10, (n,), generator=g)
    logits = model(x)
    F.cross_entropy(logits, labels, reduction='sum').backward()
    nhwc = lambda t: t.permute(0, 2, 3, 1)  # noqa: E731
    fixtures.write(os.path.join(out, 'wrn_28_10.inputs.bin'), nhwc(x), 'float32')
    fixtures.write(os.path.join(out, 'wrn_28_10.labels.bin'), labels, 'int32')
    fixtures.write(os.path.join(out, 'wrn_28_10.logits.bin'), logits, 'float32')
    fixtures.write(os.path.join(out, 'wrn_28_10.grad.bin'), nhwc(x.grad), 'float32')
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump({'n': n, 'parameters': sum(p.numel() for p in model.parameters()), 'seconds': round(time.time() - t0, 1)}, f)


if __name__ == '__main__':
    rest = [a for a in sys.argv[2:] if a != '--onnx-only']
    main(sys.argv[1], int(rest[0]) if rest else 2, '--onnx-only' in sys.argv[2:])
