#!/usr/bin/python3
"""Fixtures for src/core/onnx/onnx-torch.test.ts: seeded random PyTorch models built from their
papers' definitions, exported with torch.onnx.export, with inputs, PyTorch's logits and input
gradients for the importer to match. Nothing is downloaded.

    /usr/bin/python3 tools/onnx/make_fixtures.py <out_dir> [fixture name ...]   (default: all)

For every fixture <name> it writes <out>/<name>.onnx, <name>.inputs.bin (NHWC float32 LE, the
lab's layout), <name>.labels.bin (int32), <name>.logits.bin (float32), <name>.grad.bin (the
input gradient of the summed cross-entropy, NHWC float32) and <name>.grad64.bin (the same in
float64, for the FGSM sign-tie rule). <out>/manifest.json lists them; <out>/bad/ holds models
the importer must refuse with a clear message.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'zoo'))
import models  # noqa: E402


class PreActBlock(nn.Module):
    """Pre-activation basic block (He et al. 2016, "Identity mappings in deep residual
    networks", fig. 4e): BN-ReLU-conv3x3-BN-ReLU-conv3x3, a 1x1 projection of the
    pre-activated input when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        out = F.relu(self.bn1(x))
        sc = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + sc


class PreActResNet18(nn.Module):
    """PreActResNet-18 for CIFAR (as in Rice et al. 2020 and RobustBench): 3x3 stem, four
    stages of two pre-activation blocks (64/128/256/512), BN-ReLU, 4x4 average pool, linear."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        layers, cin = [], 64
        for i, cout in enumerate((64, 128, 256, 512)):
            blocks = []
            for j in range(2):
                blocks.append(PreActBlock(cin, cout, 2 if (j == 0 and i > 0) else 1))
                cin = cout
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.bn = nn.BatchNorm2d(512)
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.conv1(x)))))
        out = F.avg_pool2d(F.relu(self.bn(out)), 4)
        return self.linear(out.view(out.size(0), -1))


class ResNet18(nn.Module):
    """ResNet-18 (He et al. 2016) with the CIFAR stem (3x3 conv, no max pool), basic blocks
    [2, 2, 2, 2] at 64/128/256/512, global average pooling, linear."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, cout in enumerate((64, 128, 256, 512), start=1):
            stage = nn.Sequential(*[models.BasicBlock(cin if j == 0 else cout, cout, 2 if (j == 0 and i > 1) else 1) for j in range(2)])
            self.add_module(f'layer{i}', stage)
            cin = cout
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


# Zagoruyko & Komodakis 2016's wide block is the pre-activation basic block (no dropout here),
# only wider: the same module, so the two families export the same node names.
WideBlock = PreActBlock


class WideResNet(nn.Module):
    """WRN-depth-k for CIFAR (Zagoruyko & Komodakis 2016): (depth - 4) / 6 blocks per stage,
    widths 16k/32k/64k, with RobustBench's in-model normalisation ((x - mean) / std)."""

    def __init__(self, depth=16, k=4, num_classes=10):
        super().__init__()
        n = (depth - 4) // 6
        self.register_buffer('mean', torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor([0.2471, 0.2435, 0.2616]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        cin = 16
        for i, (cout, stride) in enumerate(((16 * k, 1), (32 * k, 2), (64 * k, 2)), start=1):
            self.add_module(f'block{i}', nn.Sequential(*[WideBlock(cin if j == 0 else cout, cout, stride if j == 0 else 1) for j in range(n)]))
            cin = cout
        self.bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = self.block3(self.block2(self.block1(self.conv1(x))))
        x = F.adaptive_avg_pool2d(F.relu(self.bn(x)), 1)
        return self.fc(x.view(x.size(0), -1))


class Exotic(nn.Module):
    """Not a paper model: one small CNN with the operators the zoo lacks: in-model
    normalisation, grouped, depthwise and dilated convolutions, LeakyReLU, SiLU, Mish, GELU
    (erf), ELU, Tanh, Sigmoid, Softplus, average pooling with padding both ways of counting it,
    max pooling with ceil_mode, explicit padding, concatenation, dropout, x.view(N, -1)."""

    def __init__(self):
        super().__init__()
        self.register_buffer('mean', torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor([0.25, 0.2, 0.3]).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.grouped = nn.Conv2d(8, 12, 3, padding=1, groups=2)
        self.depthwise = nn.Conv2d(12, 24, 3, padding=2, dilation=2, groups=12, bias=False)
        self.pool_in = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True)
        self.pool_ex = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.mp = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = nn.Conv2d(48, 16, 2, stride=1)
        self.drop = nn.Dropout(0.3)
        self.fc1 = nn.Linear(16 * 3 * 3, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = (x - self.mean) / self.std
        x = F.leaky_relu(self.bn1(self.conv1(x)), 0.1)
        x = F.silu(self.grouped(x))
        x = F.mish(self.depthwise(x))
        x = torch.cat([self.pool_in(x), self.pool_ex(F.elu(x, 0.7))], 1)
        x = F.pad(x, (1, 0, 0, 1))
        x = self.mp(F.gelu(x))
        y = self.conv2(x)
        x = torch.tanh(y) + torch.sigmoid(y) * F.softplus(y)
        x = self.drop(x)
        return self.fc2(F.gelu(self.fc1(x.view(x.size(0), -1))))


class FlatMlp(nn.Module):
    """An MLP on flat inputs (x.view(N, -1) of an NCHW image done by the caller), with
    BatchNorm1d, ELU and a softmax at the end (the lab reads the logits before it)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3 * 8 * 8, 64)
        self.bn = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        return F.softmax(self.fc2(F.elu(self.bn(self.fc1(x)))), dim=1)


def randomise_batchnorm(model, g):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(0.2 * torch.randn(c, generator=g))
            m.running_var.copy_(0.5 + torch.rand(c, generator=g))
            m.weight.data.copy_(0.5 + torch.rand(c, generator=g))
            m.bias.data.copy_(0.1 * torch.randn(c, generator=g))


# name -> (constructor, CHW input shape, batch, export options)
FIXTURES = {
    **{f'zoo_{a}': (lambda a=a: models.build(a), models.input_shape(a), 8, {}) for a in models.ARCHS},
    'preact_resnet18': (PreActResNet18, (3, 32, 32), 4, {}),
    'resnet18': (ResNet18, (3, 32, 32), 4, {'opset': 11, 'static_batch': True}),
    'wrn_16_4': (lambda: WideResNet(16, 4), (3, 32, 32), 4, {}),
    'exotic_opset11': (Exotic, (3, 16, 16), 6, {'opset': 11}),
    'exotic_opset17': (Exotic, (3, 16, 16), 6, {'opset': 17, 'keep_bn': True}),
    'flat_mlp': (FlatMlp, (3, 8, 8), 6, {'flat': True}),
}


def export(model, shape, batch, opts, path):
    flat = opts.get('flat', False)
    dummy = torch.rand(2 if opts.get('static_batch') else 1, *shape)
    if flat:
        dummy = dummy.reshape(dummy.shape[0], -1)
    kwargs = dict(opset_version=opts.get('opset', 17), input_names=['input'], output_names=['logits'])
    if not opts.get('static_batch'):
        kwargs['dynamic_axes'] = {'input': {0: 'N'}, 'logits': {0: 'N'}}
    if opts.get('keep_bn'):
        # No Conv+BN fusion: the BatchNormalization operator itself is exported.
        kwargs['do_constant_folding'] = False
        kwargs['training'] = torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, dummy, path, **kwargs)


def write(path, t, dtype):
    t.detach().contiguous().numpy().astype(dtype).tofile(path)


def main(out, only=()):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    manifest = []
    for i, (name, (ctor, shape, batch, opts)) in enumerate(FIXTURES.items()):
        if only and name not in only:
            continue  # the seeds stay tied to each fixture's place in FIXTURES
        torch.manual_seed(1000 + i)
        g = torch.Generator().manual_seed(2000 + i)
        model = ctor()
        randomise_batchnorm(model, g)
        model.eval()
        export(model, shape, batch, opts, os.path.join(out, f'{name}.onnx'))
        x = torch.rand(batch, *shape, generator=g)
        labels = torch.randint(0, 10, (batch,), generator=g)

        def logits_and_grad(m, xin):
            xin = xin.clone().requires_grad_(True)
            feed = xin.reshape(xin.shape[0], -1) if opts.get('flat') else xin
            out_ = m(feed)
            # A softmax at the end: the lab attacks the logits before it.
            logits = m.fc2(F.elu(m.bn(m.fc1(feed)))) if isinstance(m, FlatMlp) else out_
            F.cross_entropy(logits, labels, reduction='sum').backward()
            return logits.detach(), xin.grad.detach()

        logits, grad = logits_and_grad(model, x)
        _, grad64 = logits_and_grad(model.double(), x.double())
        nhwc = lambda t: t.permute(0, 2, 3, 1)  # noqa: E731
        write(os.path.join(out, f'{name}.inputs.bin'), nhwc(x), 'float32')
        write(os.path.join(out, f'{name}.labels.bin'), labels, 'int32')
        write(os.path.join(out, f'{name}.logits.bin'), logits, 'float32')
        write(os.path.join(out, f'{name}.grad.bin'), nhwc(grad), 'float32')
        write(os.path.join(out, f'{name}.grad64.bin'), nhwc(grad64), 'float64')
        manifest.append({'name': name, 'n': batch, 'inputShape': [shape[1], shape[2], shape[0]], 'numClasses': 10,
                         'parameters': sum(p.numel() for p in model.parameters()), 'opset': opts.get('opset', 17)})
    make_bad(os.path.join(out, 'bad'))
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, a, b):
        return self.fc(a + b)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x = torch.cumsum(self.conv(x), dim=2)
        return self.fc(x.mean((2, 3)))


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.conv(x), 1).flatten(1))


def make_bad(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.onnx.export(TwoInputs(), (torch.rand(1, 4), torch.rand(1, 4)), os.path.join(out, 'two_inputs.onnx'),
                      input_names=['a', 'b'], opset_version=13)
    torch.onnx.export(Unsupported(), torch.rand(1, 3, 8, 8), os.path.join(out, 'unsupported.onnx'), opset_version=13)
    torch.onnx.export(Small(), torch.rand(1, 3, 8, 8), os.path.join(out, 'dynamic_hw.onnx'), opset_version=13,
                      input_names=['input'], dynamic_axes={'input': {0: 'N', 2: 'H', 3: 'W'}})
    torch.onnx.export(Small(), torch.rand(1, 3, 8, 8), os.path.join(out, 'small.onnx'), opset_version=13,
                      input_names=['input'], dynamic_axes={'input': {0: 'N'}})


if __name__ == '__main__':
    main(sys.argv[1], tuple(sys.argv[2:]))
