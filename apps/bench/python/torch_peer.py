"""What every PyTorch CPU peer of bench:runtime shares: flags, timing, the step server and
the JSON line. A peer script (resnet20_torch.py, vit_torch.py) declares its model's own
flags, calls parse_args before it imports torch, and hands its model to run().

Every peer trains on one seeded random batch of CIFAR-10's shape (NCHW 3x32x32 here, NHWC
in tfjs) with 10 classes. Forward = inference (eval mode, no grad, softmax as the tfjs
models end in); train = one plain SGD step (lr 0.01, as tfjs' tf.train.sgd(0.01)) on
cross-entropy with the model in training mode.

Common flags: --threads 1 --batch 128 --iters 10 --warmup 3 [--channels-last] [--serve].
Prints one JSON object with forward and train images/s (median over --iters) and the
model's trainable parameter count, which bench:runtime checks against the tfjs model's.

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

NUM_CLASSES = 10
IMAGE_SIZE = 32
LEARNING_RATE = 0.01


def parse_args(description, add_model_arguments=None):
    """Parses the common flags and the model's own; sets OMP_NUM_THREADS, so call it before importing torch."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--threads', type=int, default=1, help='intra-op threads (torch.set_num_threads)')
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--iters', type=int, default=10, help='timed iterations per phase')
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--channels-last', action='store_true', help='use torch.channels_last memory format')
    p.add_argument('--serve', action='store_true', help='run one step per stdin line (see torch_peer.py)')
    if add_model_arguments is not None:
        add_model_arguments(p)
    args = p.parse_args()
    # OpenMP reads its thread count at start-up; set it before torch is imported.
    os.environ.setdefault('OMP_NUM_THREADS', str(args.threads))
    return args


def blas_library():
    """The BLAS library this process loaded (Debian's torch takes whichever libblas.so.3 is installed)."""
    try:
        with open('/proc/self/maps') as maps:
            paths = {line.split()[-1] for line in maps if '/' in line}
    except OSError:
        return 'unknown'
    # libblas.so.3 is the generic interface torch links when built without MKL (numpy's own
    # OpenBLAS, if numpy was imported, is not torch's and is left out).
    loaded = sorted(p for p in paths if os.path.basename(p).startswith(('libblas', 'libmkl')))
    return ', '.join(os.path.realpath(p) for p in loaded) if loaded else 'none shared (MKL or BLAS built into torch)'


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


def serve(args, steps):
    import torch
    for _ in range(args.warmup):
        for step in steps.values():
            step()
    print(json.dumps({'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'channels_last': args.channels_last}), flush=True)
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


def run(args, name, build_model, config):
    """Times (or serves) forward and training steps of build_model(); config is echoed into the JSON."""
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model()
    images = torch.rand(args.batch, 3, IMAGE_SIZE, IMAGE_SIZE)
    labels = torch.randint(0, NUM_CLASSES, (args.batch,))
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

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

    if args.serve:
        serve(args, {'forward': forward, 'train': train_step})
        return
    fwd = timed(forward, args.warmup, args.iters)
    trn = timed(train_step, args.warmup, args.iters)
    print(json.dumps({
        'framework': 'pytorch', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'model': name, 'config': config,
        'parameters': sum(p.numel() for p in model.parameters() if p.requires_grad), 'blas': blas_library(),
        'batch': args.batch, 'iters': args.iters, 'channels_last': args.channels_last,
        'forward': report(args.batch, fwd),
        'train': report(args.batch, trn),
    }))
