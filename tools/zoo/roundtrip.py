#!/usr/bin/python3
"""Fixtures for roundtrip.test.ts: for every architecture in models.py (and ExporterFeatures,
which covers the exporter paths the zoo does not use), build a seeded
random model (BatchNorm gets random running statistics and affine parameters, so the
export of all four BN tensors is actually checked), export it to <out>/<arch>/, and
write 64 random inputs (NHWC float32 LE, inputs.bin) and PyTorch's logits
(float32 LE, logits.bin). <out>/manifest.json lists the architectures and shapes.

    /usr/bin/python3 tools/zoo/roundtrip.py <out_dir>
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
from export import export_module  # noqa: E402

N = 64
LOGIT_SCALE = 10.0


class ExporterFeatures(nn.Module):
    """Not a zoo model: exercises the exporter paths the zoo does not use (user models):
    max/avg pooling (avg with count_include_pad padding), dilation, an even kernel
    without padding, `+=` and torch.add residuals, x.view(x.size(0), -1), Dropout,
    BatchNorm1d on a flattened map (needs the C,H,W -> H,W,C reorder), x.relu()."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(2))
        self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.dilated = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.even = nn.Conv2d(8, 6, 2)
        self.drop = nn.Dropout(0.5)
        self.bn = nn.BatchNorm1d(6 * 4 * 4)
        self.fc1 = nn.Linear(96, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.features(x)
        y = self.down(x)
        z = F.relu(self.dilated(y))
        z += y
        z = torch.add(self.pool(z), z)
        z = self.even(z)
        z = z.view(z.size(0), -1)
        z = self.bn(self.drop(z))
        return self.fc2(self.fc1(z).relu())


FIXTURES = {arch: (lambda arch=arch: models.build(arch), models.input_shape(arch)) for arch in models.ARCHS}
FIXTURES['exporter_features'] = (ExporterFeatures, (3, 20, 20))
# The wide zoo models ship with float16 weights: exported that way, tfjs must reproduce
# PyTorch run on the same half-rounded weights (both compute in float32).
FLOAT16 = {'mnist_medium_float16': 'mnist_medium'}
FIXTURES.update({name: FIXTURES[arch] for name, arch in FLOAT16.items()})


def randomise_batchnorm(model: nn.Module, g: torch.Generator):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(0.2 * torch.randn(c, generator=g))
            m.running_var.copy_(0.5 + torch.rand(c, generator=g))
            if m.affine:
                m.weight.data.copy_(0.5 + torch.rand(c, generator=g))
                m.bias.data.copy_(0.1 * torch.randn(c, generator=g))


def main(out: str):
    torch.set_num_threads(1)
    manifest = []
    for i, (arch, (make, shape)) in enumerate(FIXTURES.items()):
        torch.manual_seed(1000 + i)
        g = torch.Generator().manual_seed(2000 + i)
        model = make()
        with torch.no_grad():
            randomise_batchnorm(model, g)
        model.eval()
        c, h, w = shape
        d = os.path.join(out, arch)
        x = torch.rand(N, c, h, w, generator=g)
        with torch.no_grad():
            # Fresh models give logits of ~0.05, against which an absolute tolerance says
            # little; scale the classifier so the largest logit is LOGIT_SCALE.
            last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
            k = LOGIT_SCALE / model(x).abs().max().item()
            last.weight.mul_(k)
            last.bias.mul_(k)
            dtype = 'float16' if arch in FLOAT16 else 'float32'
            if dtype == 'float16':
                for p in model.parameters():
                    p.copy_(p.half().float())
            logits = model(x)
        export_module(model, (c, h, w), d, arch, dtype)
        x.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tofile(os.path.join(d, 'inputs.bin'))
        logits.numpy().astype('<f4').tofile(os.path.join(d, 'logits.bin'))
        manifest.append({'arch': arch, 'n': N, 'inputShape': [h, w, c], 'numClasses': int(logits.shape[1]),
                         'maxAbsLogit': float(logits.abs().max())})
    with open(os.path.join(out, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh)


if __name__ == '__main__':
    if len(sys.argv) != 2:
        print('usage: roundtrip.py <out_dir>', file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
