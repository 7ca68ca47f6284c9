#!/usr/bin/env python3
r"""Float64 oracle for the criteria and PROscore readings of docs/ippro.md on the proscore-mlp fixture.

The forward and backward passes are written out by hand with numpy (no autodiff library):
  features -> dense1 -> bn1 -> relu1 -> dense2 -> bn2 --\
           \-> dense3 -> bn3 ------------------------- residual_add -> relu2 -> classifier (softmax)
BatchNormalization runs in inference mode (moving statistics, epsilon 0.001); the loss is the
categorical cross-entropy of the softmax output, mean over each batch of 8, file order.

The program checks itself first and stops if a check fails: it reproduces the fixture's own
expected.json (loss, probabilities, ||F||, G, r, dL/dD, PROscore, l1, l2, taylor, bn_scale) to
1e-9 relative; its gradients of every parameter and scale agree with central differences; one
trajectory step without decay equals the first batch's PROscore at lambda = lr. Then it writes
every number of the new criteria and readings to criteria-oracle.json.

Usage: python3 criteria_oracle.py [FIXTURE_DIR] [OUTPUT_JSON]
"""
import json
import os
import sys

import numpy as np

from tfjs_weights import read_weights

SELF_CHECK_TOLERANCE = 1e-9
PROBABILITY_EPSILON = 1e-7
LAMBDAS = ['0.1', '1.0']
WEIGHT_DECAY = 5e-4
TRAJECTORY = {'learningRate': 0.05, 'momentum': 0.9, 'weightDecay': 5e-4, 'steps': [2, 3]}

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURE = os.path.join(HERE, '..', '..', '..', '..', 'shared', 'fixtures', 'proscore-mlp')
DEFAULT_OUTPUT = os.path.join(HERE, 'criteria-oracle.json')

# Kernels are decayed by the training objective (libs/models' SgdTrainer); biases and batch-norm
# parameters are not.
KERNELS = ['dense1/kernel', 'dense2/kernel', 'dense3/kernel', 'classifier/kernel']


def load_fixture(directory):
    params = read_weights(directory)
    with open(os.path.join(directory, 'data.json')) as handle:
        data = json.load(handle)
    with open(os.path.join(directory, 'expected.json')) as handle:
        expected = json.load(handle)
    return params, data, expected


# ---- the model, forward and backward -------------------------------------------------------

def bn_forward(params, name, z):
    inv = 1.0 / np.sqrt(params[f'{name}/moving_variance'] + 0.001)
    normalized = (z - params[f'{name}/moving_mean']) * inv
    return params[f'{name}/gamma'] * normalized + params[f'{name}/beta'], normalized, inv


def forward_backward(params, scales, x, labels):
    """Mean loss over the batch, probabilities, dL/d(every parameter), dL/d(scale of every injection channel).

    scales: the multipliers of the injection tensors, {'bn1': [5], 'bn2': [4], 'bn3': [4]}.
    """
    n = x.shape[0]
    z1 = x @ params['dense1/kernel'] + params['dense1/bias']
    a1, n1, inv1 = bn_forward(params, 'bn1', z1)
    a1s = a1 * scales['bn1']
    h1 = np.maximum(a1s, 0)
    z2 = h1 @ params['dense2/kernel'] + params['dense2/bias']
    a2, n2, inv2 = bn_forward(params, 'bn2', z2)
    z3 = x @ params['dense3/kernel'] + params['dense3/bias']
    a3, n3, inv3 = bn_forward(params, 'bn3', z3)
    added = a2 * scales['bn2'] + a3 * scales['bn3']
    h2 = np.maximum(added, 0)
    logits = h2 @ params['classifier/kernel'] + params['classifier/bias']
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    picked = probs[np.arange(n), labels]
    if np.any(picked <= PROBABILITY_EPSILON) or np.any(picked >= 1 - PROBABILITY_EPSILON):
        raise SystemExit('a probability reaches the clipping bounds; the hand-written backward assumes it does not')
    loss = float(np.mean(-np.log(picked)))

    grads = {}
    d_logits = probs.copy()
    d_logits[np.arange(n), labels] -= 1
    d_logits /= n
    grads['classifier/kernel'] = h2.T @ d_logits
    grads['classifier/bias'] = d_logits.sum(axis=0)
    d_added = (d_logits @ params['classifier/kernel'].T) * (added > 0)
    d_scales = {'bn2': (d_added * a2).sum(axis=0), 'bn3': (d_added * a3).sum(axis=0)}

    def bn_backward(name, d_out, normalized, inv):
        grads[f'{name}/gamma'] = (d_out * normalized).sum(axis=0)
        grads[f'{name}/beta'] = d_out.sum(axis=0)
        return d_out * params[f'{name}/gamma'] * inv

    d_z2 = bn_backward('bn2', d_added * scales['bn2'], n2, inv2)
    d_z3 = bn_backward('bn3', d_added * scales['bn3'], n3, inv3)
    grads['dense2/kernel'] = h1.T @ d_z2
    grads['dense2/bias'] = d_z2.sum(axis=0)
    grads['dense3/kernel'] = x.T @ d_z3
    grads['dense3/bias'] = d_z3.sum(axis=0)
    d_a1s = (d_z2 @ params['dense2/kernel'].T) * (a1s > 0)
    d_scales['bn1'] = (d_a1s * a1).sum(axis=0)
    d_z1 = bn_backward('bn1', d_a1s * scales['bn1'], n1, inv1)
    grads['dense1/kernel'] = x.T @ d_z1
    grads['dense1/bias'] = d_z1.sum(axis=0)
    return loss, probs, grads, d_scales


# ---- groups -------------------------------------------------------------------------------

class Group:
    """A prunable group: its unit kernel columns (F, in member order), injection channels, batch-norm
    members and the consumers' input rows (what surgery removes with it)."""

    def __init__(self, gid, units, injection, batchnorms, consumer_rows, layer_set):
        self.id = gid
        self.units = units                  # [(kernel name, column)]
        self.injection = injection          # [(scale name, channel)]
        self.batchnorms = batchnorms        # [(bn name, channel)]
        self.consumer_rows = consumer_rows  # [(kernel name, row)]
        self.layer_set = layer_set          # groups with the same member layers

    def f(self, params):
        return np.concatenate([params[kernel][:, column] for kernel, column in self.units])

    def g(self, grads):
        return np.concatenate([grads[kernel][:, column] for kernel, column in self.units])

    def r(self, d_scales):
        return float(sum(d_scales[name][channel] for name, channel in self.injection))


def fixture_groups():
    groups = [Group(f'dense1:{u}', [('dense1/kernel', u)], [('bn1', u)], [('bn1', u)],
                    [('dense2/kernel', u)], 'dense1') for u in range(5)]
    groups += [Group(f'residual_add:{j}', [('dense2/kernel', j), ('dense3/kernel', j)], [('bn2', j), ('bn3', j)],
                     [('bn2', j), ('bn3', j)], [('classifier/kernel', j)], 'residual_add') for j in range(4)]
    return groups


def ones_scales():
    return {'bn1': np.ones(5), 'bn2': np.ones(4), 'bn3': np.ones(4)}


def batches(data):
    x = np.asarray(data['inputs'], dtype=np.float64)
    y = np.asarray(data['labels'], dtype=np.int64)
    size = data['batchSize']
    return [(x[start:start + size], y[start:start + size]) for start in range(0, len(x), size)]


# ---- PROscore and its readings ------------------------------------------------------------

def proscore(f_norm, moved_norm_squared, r, lam):
    """||F - lambda G|| / |D'| with D' = ||F|| + lambda r / ||F||; 0 for a dead group."""
    if f_norm == 0:
        return 0.0
    denominator = f_norm + lam * r / f_norm
    return float(np.sqrt(max(moved_norm_squared, 0.0)) / abs(denominator))


def decayed_gradient(group, params, g, weight_decay):
    """G of the loss plus weight_decay/2 * ||kernels||^2: F's entries are kernel entries, all decayed."""
    return g + weight_decay * group.f(params)


def trajectory_scores(params0, groups, batch_list, steps, settings):
    """T steps of SGD with momentum from the lifted point: every parameter and each D_g trainable,
    s_g = ||F_g(0)|| / D_g; score ||F_g(T)|| / |D_g(T)| (0 for a group dead at the start)."""
    params = {name: value.copy() for name, value in params0.items()}
    trainable = [name for name in params if 'moving_' not in name]
    f0 = {group.id: np.linalg.norm(group.f(params0)) for group in groups}
    live = [group for group in groups if f0[group.id] > 0]
    d = {group.id: f0[group.id] for group in live}
    velocity = {name: np.zeros_like(params[name]) for name in trainable}
    d_velocity = {group.id: 0.0 for group in live}
    lr, momentum, decay = settings['learningRate'], settings['momentum'], settings['weightDecay']
    for x, labels in batch_list[:steps]:
        scales = ones_scales()
        for group in live:
            for name, channel in group.injection:
                scales[name][channel] = f0[group.id] / d[group.id]
        _, _, grads, d_scales = forward_backward(params, scales, x, labels)
        for name in KERNELS:
            grads[name] = grads[name] + decay * params[name]
        d_grads = {group.id: group.r(d_scales) * (-f0[group.id] / d[group.id] ** 2) for group in live}
        for name in trainable:
            velocity[name] = momentum * velocity[name] + grads[name]
            params[name] = params[name] - lr * velocity[name]
        for group in live:
            d_velocity[group.id] = momentum * d_velocity[group.id] + d_grads[group.id]
            d[group.id] = d[group.id] - lr * d_velocity[group.id]
    result = {}
    for group in groups:
        f_norm = float(np.linalg.norm(group.f(params)))
        if group.id not in d:
            result[group.id] = {'score': 0.0, 'fNorm': f_norm, 'd': None}
        else:
            result[group.id] = {'score': f_norm / abs(d[group.id]), 'fNorm': f_norm, 'd': float(d[group.id])}
    return result


# ---- the magnitude criteria ---------------------------------------------------------------

def group_norm_sums(group, params):
    """Squared L2 over every coupled parameter: unit kernel columns, batch-norm gammas, consumer input rows."""
    producer = float(np.sum(group.f(params) ** 2))
    gammas = float(sum(params[f'{bn}/gamma'][channel] ** 2 for bn, channel in group.batchnorms))
    consumers = float(sum(np.sum(params[kernel][row, :] ** 2) for kernel, row in group.consumer_rows))
    return producer + gammas + consumers, consumers


def per_layer_set(groups, values, transform):
    out = {}
    for layer_set in dict.fromkeys(group.layer_set for group in groups):
        members = [group for group in groups if group.layer_set == layer_set]
        out.update(transform(members, [values[group.id] for group in members]))
    return out


def mean_normalized(members, sums):
    mean = sum(sums) / len(sums)
    return {group.id: (value / mean if mean > 0 else 0.0) for group, value in zip(members, sums)}


def lamp(members, sums):
    """Ascending (ties by graph order): score_i / sum_{j >= i} score_j."""
    order = sorted(range(len(members)), key=lambda i: (sums[i], i))
    out, remaining = {}, float(sum(sums))
    for i in order:
        out[members[i].id] = sums[i] / remaining if remaining > 0 else 0.0
        remaining -= sums[i]
    return out


def fpgm(members, fs):
    return {group.id: float(sum(np.linalg.norm(f - other) for other in fs)) for group, f in zip(members, fs)}


# ---- self check against expected.json -----------------------------------------------------

class Checker:
    def __init__(self):
        self.worst = 0.0

    def close(self, actual, expected, what, floor=0.0):
        scale = max(abs(expected), floor)
        error = abs(actual - expected) / scale if scale > 0 else abs(actual - expected)
        self.worst = max(self.worst, error)
        if error > SELF_CHECK_TOLERANCE:
            raise SystemExit(f'self-check failed: {what} = {actual!r}, expected.json says {expected!r}')


def self_check(expected, loss, probs, groups, params, pooled):
    check = Checker()
    check.close(loss, expected['loss'], 'loss')
    for index, value in enumerate(expected['probs']):
        check.close(float(probs.reshape(-1)[index]), value, f'probs[{index}]')
    if [group.id for group in groups] != [entry['id'] for entry in expected['groups']]:
        raise SystemExit('self-check failed: the group list differs from expected.json')
    for group, entry in zip(groups, expected['groups']):
        f = group.f(params)
        g, r = pooled[group.id]
        f_norm = float(np.linalg.norm(f))
        check.close(f_norm, entry['F_norm'], f'{group.id} F_norm')
        scale = max(abs(value) for value in entry['G'])
        for k, value in enumerate(entry['G']):
            check.close(float(g[k]), value, f'{group.id} G[{k}]', scale)
        check.close(r, entry['r'], f'{group.id} r')
        if entry['dL_dD'] is not None:
            check.close(-r / f_norm, entry['dL_dD'], f'{group.id} dL_dD')
        for lam in LAMBDAS:
            value = proscore(f_norm, float(np.sum((f - float(lam) * g) ** 2)), r, float(lam))
            check.close(value, entry['proscore'][lam], f'{group.id} proscore {lam}')
        check.close(float(np.sum(np.abs(f))), entry['l1'], f'{group.id} l1')
        check.close(f_norm, entry['l2'], f'{group.id} l2')
        check.close(abs(float(f @ g)), entry['taylor'], f'{group.id} taylor')
        gammas = sum(abs(params[f'{bn}/gamma'][channel]) for bn, channel in group.batchnorms)
        check.close(float(gammas), entry['bn_scale'], f'{group.id} bn_scale')
    return check.worst


def finite_difference_check(params, x, labels):
    """The hand-written gradients of every parameter and scale against central differences of the loss:
    expected.json covers the kernels and r only, the trajectory needs the rest too."""
    scales = {name: value + 0.1 * np.arange(len(value)) for name, value in ones_scales().items()}
    _, _, grads, d_scales = forward_backward(params, scales, x, labels)
    worst, step = 0.0, 1e-6
    for table, analytic in [(params, grads), (scales, d_scales)]:
        for name in analytic:
            for index in np.ndindex(table[name].shape):
                saved = table[name][index]
                table[name][index] = saved + step
                up = forward_backward(params, scales, x, labels)[0]
                table[name][index] = saved - step
                down = forward_backward(params, scales, x, labels)[0]
                table[name][index] = saved
                numeric = (up - down) / (2 * step)
                worst = max(worst, abs(numeric - analytic[name][index]))
    if worst > 1e-8:
        raise SystemExit(f'self-check failed: a hand-written gradient differs from central differences by {worst:.2e}')
    return worst


def one_step_check(params, groups, batch_list):
    """One trajectory step without momentum history or decay is the first batch's PROscore at lambda = lr."""
    lr = 0.3
    steps = trajectory_scores(params, groups, batch_list, 1, {'learningRate': lr, 'momentum': 0.9, 'weightDecay': 0.0})
    x, labels = batch_list[0]
    _, _, grads, d_scales = forward_backward(params, ones_scales(), x, labels)
    check = Checker()
    for group in groups:
        f = group.f(params)
        virtual = proscore(float(np.linalg.norm(f)), float(np.sum((f - lr * group.g(grads)) ** 2)), group.r(d_scales), lr)
        check.close(steps[group.id]['score'], virtual, f'{group.id} one trajectory step against PROscore', 1.0)
    return check.worst


# ---- main ---------------------------------------------------------------------------------

def main():
    fixture = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FIXTURE
    output = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUTPUT
    params, data, expected = load_fixture(fixture)
    groups = fixture_groups()
    batch_list = batches(data)
    sizes = [len(labels) for _, labels in batch_list]
    total = sum(sizes)

    per_batch = []  # per batch: {group id: (G_b, r_b)}
    losses, probs = [], []
    for x, labels in batch_list:
        loss, p, grads, d_scales = forward_backward(params, ones_scales(), x, labels)
        losses.append(loss)
        probs.append(p)
        per_batch.append({group.id: (group.g(grads), group.r(d_scales)) for group in groups})
    pooled = {
        group.id: (sum(n * entry[group.id][0] for n, entry in zip(sizes, per_batch)) / total,
                   sum(n * entry[group.id][1] for n, entry in zip(sizes, per_batch)) / total)
        for group in groups
    }
    pooled_loss = sum(n * value for n, value in zip(sizes, losses)) / total
    worst = self_check(expected, pooled_loss, np.concatenate(probs), groups, params, pooled)
    gradient_error = finite_difference_check({name: value.copy() for name, value in params.items()}, *batch_list[0])
    one_step_error = one_step_check(params, groups, batch_list)

    sums = {group.id: group_norm_sums(group, params) for group in groups}
    group_norm = per_layer_set(groups, {gid: value[0] for gid, value in sums.items()}, mean_normalized)
    lamp_scores = per_layer_set(groups, {gid: value[0] for gid, value in sums.items()}, lamp)
    fpgm_scores = per_layer_set(groups, {group.id: group.f(params) for group in groups}, fpgm)
    trajectories = {str(steps): trajectory_scores(params, groups, batch_list, steps, TRAJECTORY) for steps in TRAJECTORY['steps']}

    out_groups = []
    for group in groups:
        f = group.f(params)
        f_norm = float(np.linalg.norm(f))
        g, r = pooled[group.id]
        batch_g = [entry[group.id][0] for entry in per_batch]
        batch_r = [entry[group.id][1] for entry in per_batch]
        decayed = decayed_gradient(group, params, g, WEIGHT_DECAY)
        weighted_squares = sum(n * gb ** 2 for n, gb in zip(sizes, batch_g))

        def per_batch_proscore(lam, decay):
            values = []
            for gb, rb in zip(batch_g, batch_r):
                moved = f - lam * decayed_gradient(group, params, gb, decay)
                values.append(proscore(f_norm, float(np.sum(moved ** 2)), rb, lam))
            return sum(n * value for n, value in zip(sizes, values)) / total

        pooled_scores = {lam: proscore(f_norm, float(np.sum((f - float(lam) * g) ** 2)), r, float(lam)) for lam in LAMBDAS}
        out_groups.append({
            'id': group.id,
            'batch': {
                'fDotG': [float(f @ gb) for gb in batch_g],
                'gSquaredNorm': [float(gb @ gb) for gb in batch_g],
                'r': batch_r,
            },
            'sumSquaredG': [float(value) for value in weighted_squares],
            'consumerSquaredNorm': sums[group.id][1],
            'taylor-batch': sum(n * float(f @ gb) ** 2 for n, gb in zip(sizes, batch_g)) / total,
            'fisher': 0.5 * float(np.sum(f ** 2 * weighted_squares)) / total,
            'group-norm': group_norm[group.id],
            'lamp': lamp_scores[group.id],
            'fpgm': fpgm_scores[group.id],
            'proscore': {
                'pooled': pooled_scores,
                'per-batch': {lam: per_batch_proscore(float(lam), 0.0) for lam in LAMBDAS},
                'descending': {lam: -value for lam, value in pooled_scores.items()},
                'weight-decay': {
                    lam: proscore(f_norm, float(np.sum((f - float(lam) * decayed) ** 2)), r, float(lam)) for lam in LAMBDAS
                },
                'per-batch-weight-decay': {lam: per_batch_proscore(float(lam), WEIGHT_DECAY) for lam in LAMBDAS},
                'trajectory': {steps: trajectories[steps][group.id] for steps in trajectories},
            },
        })

    result = {
        'fixture': 'proscore-mlp',
        'computedBy': 'libs/importance/oracle/criteria_oracle.py (numpy float64, hand-written backward pass)',
        'selfCheck': {
            'expectedJson': {'tolerance': SELF_CHECK_TOLERANCE, 'maxRelativeError': worst},
            'gradientsAgainstCentralDifferences': {'tolerance': 1e-8, 'maxAbsoluteError': gradient_error},
            'oneTrajectoryStepAgainstProscore': {'tolerance': SELF_CHECK_TOLERANCE, 'maxRelativeError': one_step_error},
        },
        'settings': {'batchSize': data['batchSize'], 'lambdas': LAMBDAS, 'weightDecay': WEIGHT_DECAY, 'trajectory': TRAJECTORY},
        'batchSizes': sizes,
        'groups': out_groups,
    }
    with open(output, 'w') as handle:
        json.dump(result, handle, indent=1)
        handle.write('\n')
    print(f'self-check: expected.json to {worst:.2e} relative, gradients to {gradient_error:.2e} of central differences, '
          f'one trajectory step to {one_step_error:.2e} of PROscore; wrote {output}')


if __name__ == '__main__':
    main()
