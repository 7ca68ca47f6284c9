#!/usr/bin/env python3
"""PyTorch CPU peer of the TensorFlow.js ResNet-20 CIFAR benchmark.

Same network as libs/models buildResNetCifar({depth: 20}): 3x3 convs without bias,
batch norm (momentum 0.9 in Keras terms = 0.1 in PyTorch, eps 1e-5), ReLU, basic
blocks with a 1x1 strided projection shortcut (+BN) where the shape changes,
global average pooling and a 10-way dense classifier. Batch norm is in training mode
during the training step.

Usage: python3 resnet20_torch.py --threads 1 --batch 128 --iters 10 [--depth 20]
Timing, flags, --serve and the JSON line: see torch_peer.py.
"""
import torch_peer

ARGS = torch_peer.parse_args(
    __doc__.split('\n')[0],
    lambda p: p.add_argument('--depth', type=int, default=20, choices=[20, 32, 56]),
)
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.first = conv_bn(cin, cout, 3, stride)
        self.second = conv_bn(cout, cout, 3, 1)
        self.shortcut = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        y = F.relu(self.first(x))
        y = self.second(y)
        return F.relu(y + self.shortcut(x))


class ResNetCifar(nn.Module):
    def __init__(self, depth=20, num_classes=torch_peer.NUM_CLASSES):
        super().__init__()
        blocks = (depth - 2) // 6
        self.stem = conv_bn(3, 16, 3, 1)
        layers, cin = [], 16
        for stage, width in enumerate((16, 32, 64)):
            for b in range(blocks):
                stride = 2 if stage > 0 and b == 0 else 1
                layers.append(BasicBlock(cin, width, stride))
                cin = width
        self.blocks = nn.Sequential(*layers)
        self.classifier = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.blocks(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)  # logits; softmax is folded into cross_entropy


if __name__ == '__main__':
    torch_peer.run(ARGS, f'resnet{ARGS.depth}', lambda: ResNetCifar(ARGS.depth), {'depth': ARGS.depth})
