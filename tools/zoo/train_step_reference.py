"""PyTorch reference for the lab's trainer (src/core/train/torch-parity.test.ts).

Reads JSON cases by name from argv[1], each: the lab's initial ResNet-8 weights (tfjs layouts: conv kernels
[kh, kw, cin, cout], dense kernels [in, out]), one NHWC batch, labels, the optimiser and the
number of steps. Builds ResNet-8 with its own module code (basic blocks as in
tools/zoo/models.py, one per stage), runs that many standard training steps on the batch in
train mode (BatchNorm momentum 0.1, PyTorch's running-statistics update), and writes every
weight and running statistic back in tfjs layout, by case name, as JSON to argv[2].
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = stride != 1 or cin != cout
        if self.proj:
            self.sc_conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            self.sc_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.sc_bn(self.sc_conv(x)) if self.proj else x))


class ResNet8(nn.Module):
    def __init__(self, cin, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.blocks = nn.ModuleList([Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2)])
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for b in self.blocks:
            x = b(x)
        return self.fc(x.mean(dim=(2, 3)))


def mapping(model):
    """tfjs weight name -> (torch tensor, kind)."""
    m = {'conv1/kernel': (model.conv1.weight, 'conv'), 'fc/kernel': (model.fc.weight, 'dense'), 'fc/bias': (model.fc.bias, 'vec')}

    def bn(prefix, mod):
        m[f'{prefix}/gamma'] = (mod.weight, 'vec')
        m[f'{prefix}/beta'] = (mod.bias, 'vec')
        m[f'{prefix}/moving_mean'] = (mod.running_mean, 'vec')
        m[f'{prefix}/moving_variance'] = (mod.running_var, 'vec')

    bn('bn1', model.bn1)
    for i, b in enumerate(model.blocks, start=1):
        p = f'stage{i}.block1'
        m[f'{p}.conv1/kernel'] = (b.conv1.weight, 'conv')
        m[f'{p}.conv2/kernel'] = (b.conv2.weight, 'conv')
        bn(f'{p}.bn1', b.bn1)
        bn(f'{p}.bn2', b.bn2)
        if b.proj:
            m[f'{p}.shortcut.conv/kernel'] = (b.sc_conv.weight, 'conv')
            bn(f'{p}.shortcut.bn', b.sc_bn)
    return m


def to_torch(values, shape, kind):
    t = torch.tensor(values, dtype=torch.float32).reshape(shape)
    if kind == 'conv':
        return t.permute(3, 2, 0, 1).contiguous()
    if kind == 'dense':
        return t.t().contiguous()
    return t


def to_tfjs(t, kind):
    t = t.detach()
    if kind == 'conv':
        t = t.permute(2, 3, 1, 0)
    elif kind == 'dense':
        t = t.t()
    return t.contiguous().reshape(-1).tolist()


def run(case):
    torch.manual_seed(0)
    n, h, w, c = case['shape']
    model = ResNet8(c, case['classes'])
    names = mapping(model)
    with torch.no_grad():
        for name, (tensor, kind) in names.items():
            src = case['weights'][name]
            tensor.copy_(to_torch(src['data'], src['shape'], kind))
    x = torch.tensor(case['images'], dtype=torch.float32).reshape(n, h, w, c).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor(case['labels'], dtype=torch.long)
    if case['optimizer'] == 'sgd':
        opt = torch.optim.SGD(model.parameters(), lr=case['lr'], momentum=case['momentum'], nesterov=case['nesterov'], weight_decay=case['weightDecay'])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=case['lr'], weight_decay=case['weightDecay'])
    model.train()
    for _ in range(case['steps']):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return {name: to_tfjs(tensor, kind) for name, (tensor, kind) in names.items()}


def main():
    cases = json.load(open(sys.argv[1]))
    json.dump({key: run(case) for key, case in cases.items()}, open(sys.argv[2], 'w'))


if __name__ == '__main__':
    main()
