#!/usr/bin/env python3
"""PyTorch CPU peer of the TensorFlow.js ResNet-20 CIFAR benchmark.

Same network as libs/models buildResNetCifar({depth: 20}): 3x3 convs without bias,
batch norm (momentum 0.9 in Keras terms = 0.1 in PyTorch, eps 1e-5), ReLU, basic
blocks with a 1x1 strided projection shortcut (+BN) where the shape changes,
global average pooling and a 10-way dense classifier; NHWC input 32x32x3 in tfjs,
NCHW here. Forward = inference (eval mode, no grad); train = one SGD step
(lr 0.01) on cross-entropy with batch norm in training mode.

Usage: python3 resnet20_torch.py --threads 1 --batch 128 --iters 10
Prints one JSON object with forward and train images/s (median over --iters).

With --serve it instead warms up, prints {"ready": ..., "torch": ...} and then runs one
step per line read from stdin ('forward' or 'train'), answering each with
{"ms": wall, "cpu_ms": process CPU time}; 'quit' or end of input stops it. The benchmark
uses this to alternate single steps with its tfjs peer, so both see the same machine load.
"""
import argparse
import json
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--threads', type=int, default=1, help='intra-op threads (torch.set_num_threads)')
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--iters', type=int, default=10, help='timed iterations per phase')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--depth', type=int, default=20, choices=[20, 32, 56])
    p.add_argument('--channels-last', action='store_true', help='use torch.channels_last memory format')
    p.add_argument('--serve', action='store_true', help='run one step per stdin line (see above)')
    return p.parse_args()


ARGS = parse_args()
# OpenMP reads its thread count at start-up; set it before importing torch.
os.environ.setdefault('OMP_NUM_THREADS', str(ARGS.threads))
import torch  # noqa: E402
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
    def __init__(self, depth=20, num_classes=10):
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


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(iters):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), min(times), statistics.median(cpu)


def report(batch, timing):
    med, best, cpu = timing
    # img_per_s (median wall) is the number; best_img_per_s and img_per_cpu_s help to read
    # runs on a shared machine (CPU time is all threads of the process).
    return {'median_s': round(med, 4), 'img_per_s': round(batch / med, 1),
            'best_img_per_s': round(batch / best, 1), 'cpu_s': round(cpu, 4),
            'img_per_cpu_s': round(batch / cpu, 1)}


def serve(steps):
    for _ in range(ARGS.warmup):
        for step in steps.values():
            step()
    print(json.dumps({'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'channels_last': ARGS.channels_last}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == 'quit':
            break
        if command not in steps:
            print(json.dumps({'error': f'unknown command {command!r}'}), flush=True)
            continue
        t, c = time.perf_counter(), time.process_time()
        steps[command]()
        print(json.dumps({'ms': (time.perf_counter() - t) * 1000, 'cpu_ms': (time.process_time() - c) * 1000}), flush=True)


def main():
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(0)
    model = ResNetCifar(ARGS.depth)
    images = torch.rand(ARGS.batch, 3, 32, 32)
    labels = torch.randint(0, 10, (ARGS.batch,))
    if ARGS.channels_last:
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def forward():
        model.eval()
        with torch.no_grad():
            model(images).softmax(1)

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        opt.step()
        return loss.item()

    if ARGS.serve:
        serve({'forward': forward, 'train': train_step})
        return
    fwd = timed(forward, ARGS.warmup, ARGS.iters)
    trn = timed(train_step, ARGS.warmup, ARGS.iters)
    print(json.dumps({
        'framework': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'batch': ARGS.batch, 'iters': ARGS.iters, 'depth': ARGS.depth, 'channels_last': ARGS.channels_last,
        'forward': report(ARGS.batch, fwd),
        'train': report(ARGS.batch, trn),
    }))


if __name__ == '__main__':
    main()
