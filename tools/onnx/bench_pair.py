#!/usr/bin/python3
"""Models for `npm run bench -- onnx` (bench/onnx.ts): the same seeded PyTorch model written
twice, as ONNX by torch.onnx.export and as a tfjs LayersModel by tools/zoo/export.py, so the
bench times the lab's two ways of opening a PyTorch model on identical arithmetic.

    /usr/bin/python3 tools/onnx/bench_pair.py <out_dir> [--wrn28]

Writes <out>/<name>.onnx and <out>/<name>/model.json + shards for ResNet-18 (CIFAR stem) and
WRN-16-4, and with --wrn28 also <out>/wrn_28_10.onnx (ONNX only: it is there for load time and
peak memory). <out>/manifest.json lists them.
"""
import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'zoo'))
import make_fixtures as fixtures  # noqa: E402
from export import export_module  # noqa: E402


class PlainWideResNet(fixtures.WideResNet):
    """WRN-depth-k without the in-graph normalisation and with the pooling as a module:
    export.py's LayersModel has no Sub/Div layers, and both files must hold the same
    computation for the timing to compare the importers rather than the models."""

    def __init__(self, depth, k):
        super().__init__(depth, k)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(self.conv1(x))))
        x = self.pool(torch.relu(self.bn(x)))
        return self.fc(torch.flatten(x, 1))


PAIRS = {
    'resnet18': lambda: fixtures.ResNet18(),
    'wrn_16_4': lambda: PlainWideResNet(16, 4),
}


def main(out, wrn28):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    manifest = []
    for i, (name, ctor) in enumerate(PAIRS.items()):
        torch.manual_seed(3000 + i)
        model = ctor()
        fixtures.randomise_batchnorm(model, torch.Generator().manual_seed(4000 + i))
        model.eval()
        fixtures.export(model, (3, 32, 32), 1, {}, os.path.join(out, f'{name}.onnx'))
        export_module(model, (3, 32, 32), os.path.join(out, name), name)
        params = sum(p.numel() for p in model.parameters())
        manifest.append({'name': name, 'onnx': f'{name}.onnx', 'layers': f'{name}/model.json', 'parameters': params})
    if wrn28:
        torch.manual_seed(3100)
        model = fixtures.WideResNet(28, 10)  # RobustBench's shape, with its in-graph normalisation
        fixtures.randomise_batchnorm(model, torch.Generator().manual_seed(4100))
        model.eval()
        fixtures.export(model, (3, 32, 32), 1, {}, os.path.join(out, 'wrn_28_10.onnx'))
        manifest.append({'name': 'wrn_28_10', 'onnx': 'wrn_28_10.onnx', 'layers': None,
                         'parameters': sum(p.numel() for p in model.parameters())})
    with open(os.path.join(out, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh)


if __name__ == '__main__':
    main(sys.argv[1], '--wrn28' in sys.argv[2:])
