#!/usr/bin/env python3
r"""Float64 oracle for AdamW (libs/models' AdamW and SgdTrainer with optimizer adamw).

AdamW as torch.optim.AdamW computes it (Loshchilov & Hutter, "Decoupled weight decay
regularization", 2019), at step t = 1, 2, ... with gradient g, the step's scheduled rate lr and
weight decay wd:

    m <- beta1 m + (1 - beta1) g            v <- beta2 v + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t)               v_hat = v / (1 - beta2^t)
    w <- w - lr (m_hat / (sqrt(v_hat) + eps) + wd w)      (the wd term on decayed weights only)

The rate follows a linear warm-up then a cosine decay, per 0-based step s:
    s < W: base (s + 1) / W;  else min + (base - min) (1 + cos(pi min(1, (s - W) / max(1, T - W)))) / 2.

Two cases, each under two settings (torch's defaults, and beta1 0.8, beta2 0.95, eps 1e-3 with
gradients small enough that the epsilon's place matters):

- `fixed-gradients`: six named parameter tensors (a kernel, a bias, a layer norm's gamma and beta,
  position embeddings, a class token) with fixed gradients per step; only the kernel is decayed.
- `softmax-classifier`: a softmax regression (Dense 3 -> 4, softmax, the mean categorical
  cross-entropy with label smoothing 0.1, Keras' t (1 - s) + s / K) trained on two alternating
  batches; the gradients are written out by hand, so the case checks the trainer's loss and
  gradients as well as the update. The kernel is decayed, the bias is not.

Before it writes anything the program checks itself: the update in torch's in-place order
(w *= 1 - lr wd; w -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)) agrees with
the paper's form above to 1e-12, and the hand-written gradients of the classifier agree with
central differences of its loss to 1e-7 relative.

Usage: python3 adamw_oracle.py [OUTPUT_JSON]
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, 'adamw-oracle.json')

SETTINGS = {
    'defaults': {'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-8},
    'custom': {'beta1': 0.8, 'beta2': 0.95, 'epsilon': 1e-3},
}
SCHEDULE = {'baseLr': 0.01, 'minLr': 0.001, 'warmupSteps': 2, 'totalSteps': 7}
WEIGHT_DECAY = 0.05
STEPS = 7
LABEL_SMOOTHING = 0.1
SELF_CHECK_TOLERANCE = 1e-12
GRADIENT_CHECK_TOLERANCE = 1e-7


def learning_rate(step):
    base, low = SCHEDULE['baseLr'], SCHEDULE['minLr']
    warmup, total = SCHEDULE['warmupSteps'], SCHEDULE['totalSteps']
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return low + (base - low) * (1 + math.cos(math.pi * progress)) / 2


def as_float32(values):
    """The nearest float32 values, so that the TypeScript side starts from exactly these numbers."""
    return np.asarray(values).astype(np.float32).astype(np.float64)


def rounded(rng, shape, scale, offset=0.0):
    return as_float32(np.round(rng.standard_normal(shape) * scale + offset, 4))


class AdamWPaper:
    """w <- w - lr (m_hat / (sqrt(v_hat) + eps) + wd w)."""

    def __init__(self, settings, shapes):
        self.s = settings
        self.m = [np.zeros(shape) for shape in shapes]
        self.v = [np.zeros(shape) for shape in shapes]
        self.t = 0

    def step(self, weights, gradients, decayed, lr):
        b1, b2, eps = self.s['beta1'], self.s['beta2'], self.s['epsilon']
        self.t += 1
        out = []
        for i, (w, g) in enumerate(zip(weights, gradients)):
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            m_hat = self.m[i] / (1 - b1 ** self.t)
            v_hat = self.v[i] / (1 - b2 ** self.t)
            decay = WEIGHT_DECAY * w if decayed[i] else 0.0
            out.append(w - lr * (m_hat / (np.sqrt(v_hat) + eps) + decay))
        return out


def torch_order_step(settings, weights, gradients, decayed, lr, m, v, t):
    """torch.optim.AdamW's single-tensor loop, in float64."""
    b1, b2, eps = settings['beta1'], settings['beta2'], settings['epsilon']
    out = []
    for i, (w, g) in enumerate(zip(weights, gradients)):
        w = w.copy()
        if decayed[i]:
            w *= 1 - lr * WEIGHT_DECAY
        m[i] = m[i] * b1 + g * (1 - b1)
        v[i] = v[i] * b2 + g * g * (1 - b2)
        step_size = lr / (1 - b1 ** t)
        denominator = np.sqrt(v[i]) / math.sqrt(1 - b2 ** t) + eps
        out.append(w - step_size * m[i] / denominator)
    return out


def run(settings, weights, gradient_of, decayed):
    """STEPS steps; gradient_of(step, weights) -> (loss or None, gradients). Returns the rate, weights
    (and loss, before the step) of every step, the moments after the last, and the self-check's error."""
    paper = AdamWPaper(settings, [w.shape for w in weights])
    m = [np.zeros(w.shape) for w in weights]
    v = [np.zeros(w.shape) for w in weights]
    records = []
    worst = 0.0
    for step in range(STEPS):
        lr = learning_rate(step)
        loss, gradients = gradient_of(step, weights)
        updated = paper.step(weights, gradients, decayed, lr)
        other = torch_order_step(settings, weights, gradients, decayed, lr, m, v, step + 1)
        for a, b in zip(updated, other):
            worst = max(worst, float(np.max(np.abs(a - b)) / np.max(np.abs(a))))
        weights = updated
        record = {'learningRate': lr, 'weights': [w.ravel().tolist() for w in weights]}
        if loss is not None:
            record['loss'] = loss
        records.append(record)
    final = {'momentum': [x.ravel().tolist() for x in paper.m], 'velocity': [x.ravel().tolist() for x in paper.v]}
    return {'afterStep': records, 'final': final}, worst


# ---- case 1: fixed gradients -------------------------------------------------------------------

def fixed_gradients_case(rng):
    parameters = [
        # name, shape, scale of the values, offset (gamma starts near 1), scale of the gradients, decayed
        ('dense/kernel', [3, 4], 0.5, 0.0, 1.0, True),
        ('dense/bias', [4], 0.1, 0.0, 1.0, False),
        ('norm/gamma', [4], 0.2, 1.0, 0.3, False),
        ('norm/beta', [4], 0.1, 0.0, 0.3, False),
        ('position_embedding/embeddings', [5, 4], 0.02, 0.0, 1e-3, False),
        ('class_token/token', [1, 1, 4], 0.02, 0.0, 1e-4, False),
    ]
    initial = [rounded(rng, shape, scale, offset) for (_, shape, scale, offset, _, _) in parameters]
    gradients = [[as_float32(rounded(rng, shape, 1.0) * grad_scale) for (_, shape, _, _, grad_scale, _) in parameters] for _ in range(STEPS)]
    gradients[0][0][0, 0] = 0.0  # a zero gradient: m and v stay 0 there for the first step
    decayed = [flag for (*_, flag) in parameters]
    return parameters, initial, gradients, decayed


# ---- case 2: a softmax classifier ----------------------------------------------------------------

def softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def smoothed(labels, classes):
    onehot = np.eye(classes)[labels]
    return onehot * (1 - LABEL_SMOOTHING) + LABEL_SMOOTHING / classes


def classifier_loss(kernel, bias, x, targets):
    p = softmax(x @ kernel + bias)
    return float(-np.mean(np.sum(targets * np.log(p), axis=1)))


def classifier_gradients(kernel, bias, x, targets):
    """d(mean cross-entropy)/d(kernel, bias): dz = (softmax(z) - targets) / n (the targets sum to 1)."""
    p = softmax(x @ kernel + bias)
    dz = (p - targets) / x.shape[0]
    return x.T @ dz, dz.sum(axis=0)


def central_difference_error(kernel, bias, x, targets):
    analytic = classifier_gradients(kernel, bias, x, targets)
    worst = 0.0
    h = 1e-6
    for which, tensor in enumerate([kernel, bias]):
        for index in np.ndindex(tensor.shape):
            plus = [kernel.copy(), bias.copy()]
            minus = [kernel.copy(), bias.copy()]
            plus[which][index] += h
            minus[which][index] -= h
            numeric = (classifier_loss(*plus, x, targets) - classifier_loss(*minus, x, targets)) / (2 * h)
            scale = max(abs(numeric), float(np.max(np.abs(analytic[which]))))
            worst = max(worst, abs(numeric - analytic[which][index]) / scale)
    return worst


def classifier_case(rng):
    classes, features = 4, 3
    kernel = rounded(rng, [features, classes], 0.5)
    bias = rounded(rng, [classes], 0.1)
    batches = []
    for size in (6, 5):
        x = rounded(rng, [size, features], 1.0)
        labels = rng.integers(0, classes, size)
        batches.append({'x': x, 'labels': labels})
    return kernel, bias, batches, classes


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUTPUT
    rng = np.random.default_rng(20240611)
    parameters, initial, gradients, decayed = fixed_gradients_case(rng)
    kernel, bias, batches, classes = classifier_case(rng)

    worst_order = 0.0
    fixed = {}
    for name, settings in SETTINGS.items():
        records, worst = run(settings, initial, lambda step, _w: (None, gradients[step]), decayed)
        worst_order = max(worst_order, worst)
        fixed[name] = records

    def classifier_step(step, weights):
        batch = batches[step % len(batches)]
        targets = smoothed(batch['labels'], classes)
        loss = classifier_loss(weights[0], weights[1], batch['x'], targets)
        return loss, list(classifier_gradients(weights[0], weights[1], batch['x'], targets))

    classifier = {}
    gradient_error = 0.0
    for name, settings in SETTINGS.items():
        records, worst = run(settings, [kernel, bias], classifier_step, [True, False])
        worst_order = max(worst_order, worst)
        classifier[name] = records
    for batch in batches:
        gradient_error = max(gradient_error, central_difference_error(kernel, bias, batch['x'], smoothed(batch['labels'], classes)))

    if worst_order > SELF_CHECK_TOLERANCE:
        sys.exit(f'self-check failed: torch order and paper form differ by {worst_order:.3g} relative')
    if gradient_error > GRADIENT_CHECK_TOLERANCE:
        sys.exit(f'self-check failed: the classifier gradients differ from central differences by {gradient_error:.3g}')

    oracle = {
        'computedBy': 'libs/models/oracle/adamw_oracle.py (numpy float64): weights after each step, m and v after the last',
        'settings': SETTINGS,
        'schedule': SCHEDULE,
        'weightDecay': WEIGHT_DECAY,
        'steps': STEPS,
        'fixedGradients': {
            'parameters': [{'name': n, 'shape': s, 'decayed': d} for (n, s, _, _, _, d) in parameters],
            'initial': [w.ravel().tolist() for w in initial],
            'gradients': [[g.ravel().tolist() for g in step] for step in gradients],
            'runs': fixed,
        },
        'softmaxClassifier': {
            'features': kernel.shape[0],
            'classes': classes,
            'labelSmoothing': LABEL_SMOOTHING,
            'initial': {'kernel': kernel.ravel().tolist(), 'bias': bias.tolist()},
            'batches': [{'x': b['x'].ravel().tolist(), 'labels': b['labels'].tolist()} for b in batches],
            'runs': classifier,
        },
        'selfCheck': {'torchOrderVersusPaperForm': worst_order, 'gradientVersusCentralDifferences': gradient_error},
    }
    with open(output, 'w') as handle:
        json.dump(oracle, handle, indent=1)
        handle.write('\n')
    print(f'wrote {output}: order check {worst_order:.2g}, gradient check {gradient_error:.2g}')


if __name__ == '__main__':
    main()
