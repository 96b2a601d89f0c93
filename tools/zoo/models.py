"""Model zoo architectures for Layerwise.

Every model takes inputs in [0, 1] in NCHW layout and returns logits. There is no
input normalisation: attacks and the lab both work in pixel space, and an in-model
normalisation layer would be one more thing for users' exports to get wrong.

Module attribute names are chosen so that the exported tfjs layer names read like
the PyTorch module tree (``conv1``, ``stage2.block1.shortcut.conv``, ...): the
exporter (export.py) names each tfjs layer after the module path it came from.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MnistSmall(nn.Module):
    """Small CNN of Gowal et al. 2018 ("On the effectiveness of interval bound
    propagation", Table 1 "small").

    Padding choice (the paper leaves it open): both 4x4 convolutions use padding 1,
    so conv1 (stride 2) maps 28x28 -> 14x14 and conv2 (stride 1) maps 14x14 -> 13x13;
    fc1 therefore sees 32*13*13 = 5408 features. Even kernels with padding 1 export
    as an explicit ZeroPadding2D + 'valid' conv, which matches PyTorch exactly.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, size: int = 28):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 4, stride=1, padding=1)
        s = (size + 2 - 4) // 2 + 1  # after conv1
        s = s + 2 - 4 + 1  # after conv2
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * s * s, 100)
        self.fc2 = nn.Linear(100, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.flatten(x)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class Medium(nn.Module):
    """Medium CNN of Gowal et al. 2018: conv32 3x3, conv32 4x4/2, conv64 3x3,
    conv64 4x4/2, fc512, fc512, fc10, ReLU between. 3x3 convs use padding 1
    ('same'); 4x4 stride-2 convs use padding 1, halving the size (28->14->7,
    32->16->8)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10, size: int = 28):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(32, 32, 4, stride=2, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, stride=1, padding=1)
        self.conv4 = nn.Conv2d(64, 64, 4, stride=2, padding=1)
        s = size // 4
        self.fc1 = nn.Linear(64 * s * s, 512)
        self.fc2 = nn.Linear(512, 512)
        self.fc3 = nn.Linear(512, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    """ResNet basic block (He et al. 2016): two 3x3 conv+BN, identity shortcut, or a
    1x1 conv+BN projection when the stride or channel count changes ("option B")."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential()
            self.shortcut.add_module('conv', nn.Conv2d(cin, cout, 1, stride=stride, bias=False))
            self.shortcut.add_module('bn', nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class ResNet20(nn.Module):
    """ResNet-20 for CIFAR (He et al. 2016, section 4.2): a 3x3 stem with 16 channels,
    three stages of three basic blocks at 16/32/64 channels (stride 2 at the start of
    stages 2 and 3), global average pooling and a linear classifier."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for i, cout in enumerate((16, 32, 64), start=1):
            stage = nn.Sequential()
            for j in range(1, 4):
                stride = 2 if (j == 1 and i > 1) else 1
                stage.add_module(f'block{j}', BasicBlock(cin, cout, stride))
                cin = cout
            self.add_module(f'stage{i}', stage)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.stage3(self.stage2(self.stage1(x)))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


class PoolCnn(nn.Module):
    """A Keras-style pooling CNN, as users build them (issue #19): blocks of conv3x3
    (padding 1) -> ReLU -> BatchNorm(eps=1e-3, the Keras default) -> MaxPool(2), then
    flatten -> fc 128 -> ReLU -> fc. Not a zoo model: it is the test fixture for the
    max-pooling gradient (the zoo models have no max pooling), checked against PyTorch
    by torch-parity.test.ts. 32/64/64 channels: 32 -> 16 -> 8 -> 4, ~0.19 M weights."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, size: int = 32):
        super().__init__()
        cin = in_channels
        for i, cout in enumerate((32, 64, 64), start=1):
            block = nn.Sequential()
            block.add_module('conv', nn.Conv2d(cin, cout, 3, padding=1))
            block.add_module('relu', nn.ReLU())
            block.add_module('bn', nn.BatchNorm2d(cout, eps=1e-3))
            block.add_module('pool', nn.MaxPool2d(2))
            self.add_module(f'block{i}', block)
            cin = cout
        s = size // 8
        self.fc1 = nn.Linear(cin * s * s, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


# id -> (constructor, input shape CHW, dataset id used by the lab)
ARCHS = {
    'mnist_small': (lambda: MnistSmall(1, 10, 28), (1, 28, 28), 'mnist'),
    'mnist_medium': (lambda: Medium(1, 10, 28), (1, 28, 28), 'mnist'),
    'cifar_medium': (lambda: Medium(3, 10, 32), (3, 32, 32), 'cifar10'),
    'resnet20': (lambda: ResNet20(3, 10), (3, 32, 32), 'cifar10'),
    'pool_cnn': (lambda: PoolCnn(3, 10, 32), (3, 32, 32), 'cifar10'),
}


def build(arch: str) -> nn.Module:
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture '{arch}' (known: {', '.join(ARCHS)})")
    return ARCHS[arch][0]()


def input_shape(arch: str):
    return ARCHS[arch][1]


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
