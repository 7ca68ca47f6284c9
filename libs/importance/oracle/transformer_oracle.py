#!/usr/bin/env python3
r"""Float64 oracle for gradient statistics, PROscore and baselines of a tiny Vision Transformer.

The model (../test-data/tiny-transformer, written by write-transformer-fixture.mjs) is @ippro/models'
ViT with 4x4x2 images, 2x2 patches (4 tokens and a class token), width 8, one pre-norm block with
2 heads of key size 4 and an MLP of 16, and 3 classes:

  image -> patch_embed (Conv2D 2x2, stride 2) -> patch_tokens (Reshape [4, 8]) -> class_token
        -> position_embedding -> x0
  x0 -> block1_norm1 -> block1_attention -> (+ x0) block1_add1 = x1
  x1 -> block1_norm2 -> block1_mlp1 (gelu) -> block1_mlp2 -> (+ x1) block1_add2 = x2
  x2 -> final_norm -> class_output (token 0) -> classifier (softmax)

The forward and backward passes are written out by hand with numpy (no autodiff library).
LayerNormalization: (x - mean) / sqrt(variance + 1e-6) * gamma + beta over the channels, biased
variance; gelu: x * Phi(x) with the exact erf; attention: softmax(q k^T / sqrt(4)) over the
keys. The loss is the categorical cross-entropy of the softmax output, the mean over all samples
(inference mode: every sample's loss depends on that sample alone, so batching does not matter).

Injected scales (docs/ippro.md section 2), all equal to 1:
  - a head: its attention output [tokens, key size], before the output projection;
  - an MLP neuron: block1_mlp1's output after its gelu;
  - an embedding channel: the residual stream's writes, i.e. the outputs of position_embedding
    (the patch embedding's injection point: it carries the class token and the positions too),
    block1_attention and block1_mlp2.
Groups, in the graph's order: block1_add1:c (c < 8; F = patch_embed kernel[..., c],
attention_output kernel[:, :, c], block1_mlp2 kernel[:, c]), block1_attention/heads:h (h < 2;
F = query, key, value kernels [:, h, :]), block1_mlp1:u (u < 16; F = block1_mlp1 kernel[:, u]).

The program checks its gradients of every parameter and every scale against central differences
of the loss first (and stops if they disagree), then writes transformer-oracle.json: the loss,
the probabilities, and per group ||F||, G, r, dL/dD, PROscore at lambda 0.1 and 1.0, l1, l2,
taylor, the consumers' squared norm and group-norm.

Usage: python3 transformer_oracle.py [FIXTURE_DIR] [OUTPUT_JSON]
"""
import json
import math
import os
import sys

import numpy as np

from tfjs_weights import read_weights

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURE = os.path.join(HERE, '..', 'test-data', 'tiny-transformer')
DEFAULT_OUTPUT = os.path.join(HERE, 'transformer-oracle.json')

LN_EPSILON = 1e-6
PROBABILITY_EPSILON = 1e-7
LAMBDAS = ['0.1', '1.0']
SELF_CHECK_TOLERANCE = 1e-8
PATCH = 2
KEY_DIM = 4

erf = np.vectorize(math.erf)


def load_fixture(directory):
    params = read_weights(directory)
    with open(os.path.join(directory, 'data.json')) as handle:
        data = json.load(handle)
    images = np.array(data['inputs'], dtype=np.float64)
    return params, images, np.array(data['labels'])


def patches_of(images):
    """[n, 4, 4, 2] -> [n, 4 tokens, 8]: token i*2+j holds pixels (2i+a, 2j+b, channel) in (a, b, channel) order."""
    n, height, width, channels = images.shape
    rows, cols = height // PATCH, width // PATCH
    blocks = images.reshape(n, rows, PATCH, cols, PATCH, channels).transpose(0, 1, 3, 2, 4, 5)
    return blocks.reshape(n, rows * cols, PATCH * PATCH * channels)


def layer_norm_forward(x, gamma, beta):
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    inv = 1.0 / np.sqrt((centred ** 2).mean(axis=-1, keepdims=True) + LN_EPSILON)
    normalized = centred * inv
    return normalized * gamma + beta, (normalized, inv)


def layer_norm_backward(dy, gamma, cache):
    normalized, inv = cache
    width = normalized.shape[-1]
    dnorm = dy * gamma
    dx = inv / width * (width * dnorm - dnorm.sum(axis=-1, keepdims=True) - normalized * (dnorm * normalized).sum(axis=-1, keepdims=True))
    sum_axes = tuple(range(dy.ndim - 1))
    return dx, (dy * normalized).sum(axis=sum_axes), dy.sum(axis=sum_axes)


def gelu(z):
    return z * 0.5 * (1.0 + erf(z / math.sqrt(2.0)))


def gelu_derivative(z):
    return 0.5 * (1.0 + erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def forward_backward(p, scales, images, labels):
    """Mean loss, probabilities, dL/d(every parameter), dL/d(every scale)."""
    n = images.shape[0]
    A = 'block1_attention/'
    # ---- forward
    patches = patches_of(images)
    kernel_p = p['patch_embed/kernel'].reshape(-1, p['patch_embed/kernel'].shape[-1])
    tokens = patches @ kernel_p + p['patch_embed/bias']
    cls = np.broadcast_to(p['class_token/token'], (n, 1, tokens.shape[-1]))
    x0 = np.concatenate([cls, tokens], axis=1) + p['position_embedding/embeddings']
    x0s = x0 * scales['position_embedding']
    h1, ln1 = layer_norm_forward(x0s, p['block1_norm1/gamma'], p['block1_norm1/beta'])
    q = np.einsum('ntc,chk->nthk', h1, p[A + 'query/kernel']) + p[A + 'query/bias']
    k = np.einsum('ntc,chk->nthk', h1, p[A + 'key/kernel']) + p[A + 'key/bias']
    v = np.einsum('ntc,chk->nthk', h1, p[A + 'value/kernel']) + p[A + 'value/bias']
    scores = np.einsum('nthk,nshk->nhts', q, k) / math.sqrt(KEY_DIM)
    scores_shifted = scores - scores.max(axis=-1, keepdims=True)
    probs_att = np.exp(scores_shifted) / np.exp(scores_shifted).sum(axis=-1, keepdims=True)
    o = np.einsum('nhts,nshk->nthk', probs_att, v)
    os_ = o * scales['heads'][None, None, :, None]
    a = np.einsum('nthk,hkc->ntc', os_, p[A + 'attention_output/kernel']) + p[A + 'attention_output/bias']
    as_ = a * scales['block1_attention']
    x1 = x0s + as_
    h2, ln2 = layer_norm_forward(x1, p['block1_norm2/gamma'], p['block1_norm2/beta'])
    z = h2 @ p['block1_mlp1/kernel'] + p['block1_mlp1/bias']
    u = gelu(z)
    us = u * scales['block1_mlp1']
    m = us @ p['block1_mlp2/kernel'] + p['block1_mlp2/bias']
    ms = m * scales['block1_mlp2']
    x2 = x1 + ms
    f, ln3 = layer_norm_forward(x2, p['final_norm/gamma'], p['final_norm/beta'])
    pooled = f[:, 0, :]
    logits = pooled @ p['classifier/kernel'] + p['classifier/bias']
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    onehot = np.eye(probs.shape[1])[labels]
    picked = probs[np.arange(n), labels]
    assert np.all((picked > PROBABILITY_EPSILON) & (picked < 1 - PROBABILITY_EPSILON)), 'a probability is clipped'
    loss = float(-np.log(picked).mean())

    # ---- backward
    g = {}
    dlogits = (probs - onehot) / n
    g['classifier/kernel'] = pooled.T @ dlogits
    g['classifier/bias'] = dlogits.sum(axis=0)
    df = np.zeros_like(f)
    df[:, 0, :] = dlogits @ p['classifier/kernel'].T
    dx2, g['final_norm/gamma'], g['final_norm/beta'] = layer_norm_backward(df, p['final_norm/gamma'], ln3)
    dms = dx2
    ds = {'block1_mlp2': (dms * m).sum(axis=(0, 1))}
    dm = dms * scales['block1_mlp2']
    g['block1_mlp2/kernel'] = np.einsum('ntu,ntc->uc', us, dm)
    g['block1_mlp2/bias'] = dm.sum(axis=(0, 1))
    dus = dm @ p['block1_mlp2/kernel'].T
    ds['block1_mlp1'] = (dus * u).sum(axis=(0, 1))
    dz = dus * scales['block1_mlp1'] * gelu_derivative(z)
    g['block1_mlp1/kernel'] = np.einsum('ntc,ntu->cu', h2, dz)
    g['block1_mlp1/bias'] = dz.sum(axis=(0, 1))
    dh2 = dz @ p['block1_mlp1/kernel'].T
    dx1_norm, g['block1_norm2/gamma'], g['block1_norm2/beta'] = layer_norm_backward(dh2, p['block1_norm2/gamma'], ln2)
    dx1 = dx2 + dx1_norm
    das = dx1
    ds['block1_attention'] = (das * a).sum(axis=(0, 1))
    da = das * scales['block1_attention']
    g[A + 'attention_output/kernel'] = np.einsum('nthk,ntc->hkc', os_, da)
    g[A + 'attention_output/bias'] = da.sum(axis=(0, 1))
    dos = np.einsum('ntc,hkc->nthk', da, p[A + 'attention_output/kernel'])
    ds['heads'] = (dos * o).sum(axis=(0, 1, 3))
    do = dos * scales['heads'][None, None, :, None]
    dprobs = np.einsum('nthk,nshk->nhts', do, v)
    dv = np.einsum('nhts,nthk->nshk', probs_att, do)
    dscores = probs_att * (dprobs - (dprobs * probs_att).sum(axis=-1, keepdims=True)) / math.sqrt(KEY_DIM)
    dq = np.einsum('nhts,nshk->nthk', dscores, k)
    dk = np.einsum('nhts,nthk->nshk', dscores, q)
    dh1 = 0
    for name, grad in (('query', dq), ('key', dk), ('value', dv)):
        g[A + name + '/kernel'] = np.einsum('ntc,nthk->chk', h1, grad)
        g[A + name + '/bias'] = grad.sum(axis=(0, 1))
        dh1 = dh1 + np.einsum('nthk,chk->ntc', grad, p[A + name + '/kernel'])
    dx0s_norm, g['block1_norm1/gamma'], g['block1_norm1/beta'] = layer_norm_backward(dh1, p['block1_norm1/gamma'], ln1)
    dx0s = dx1 + dx0s_norm
    ds['position_embedding'] = (dx0s * x0).sum(axis=(0, 1))
    dx0 = dx0s * scales['position_embedding']
    g['position_embedding/embeddings'] = dx0.sum(axis=0)
    g['class_token/token'] = dx0[:, 0, :].sum(axis=0)
    dtokens = dx0[:, 1:, :]
    g['patch_embed/kernel'] = np.einsum('ntf,ntc->fc', patches, dtokens).reshape(p['patch_embed/kernel'].shape)
    g['patch_embed/bias'] = dtokens.sum(axis=(0, 1))
    return loss, probs, g, ds


def unit_scales(p):
    width = p['patch_embed/bias'].shape[0]
    return {
        'position_embedding': np.ones(width),
        'block1_attention': np.ones(width),
        'block1_mlp2': np.ones(width),
        'block1_mlp1': np.ones(p['block1_mlp1/bias'].shape[0]),
        'heads': np.ones(p['block1_attention/query/kernel'].shape[1]),
    }


def self_check(params, images, labels):
    """Every hand-written gradient against a central difference of the loss: the largest difference
    relative to the largest gradient (the key bias's gradient is exactly 0: it cannot move the scores)."""
    scales = unit_scales(params)
    _, _, grads, scale_grads = forward_backward(params, scales, images, labels)
    step, largest_difference = 1e-6, 0.0
    largest_gradient = max(np.abs(values).max() for table in (grads, scale_grads) for values in table.values())
    for table, analytic in ((params, grads), (scales, scale_grads)):
        for name, values in table.items():
            flat = values.reshape(-1)
            for index in range(flat.size):
                original = flat[index]
                flat[index] = original + step
                up = forward_backward(params, scales, images, labels)[0]
                flat[index] = original - step
                down = forward_backward(params, scales, images, labels)[0]
                flat[index] = original
                numeric = (up - down) / (2 * step)
                largest_difference = max(largest_difference, abs(numeric - analytic[name].reshape(-1)[index]))
    return largest_difference / largest_gradient


def groups(params):
    """(id, F slices as (weight, index expression)) in the graph's order."""
    width = params['patch_embed/bias'].shape[0]
    heads = params['block1_attention/query/kernel'].shape[1]
    hidden = params['block1_mlp1/bias'].shape[0]
    result = []
    for c in range(width):
        result.append((f'block1_add1:{c}', 'embedding', [
            ('patch_embed/kernel', (Ellipsis, c)),
            ('block1_attention/attention_output/kernel', (Ellipsis, c)),
            ('block1_mlp2/kernel', (Ellipsis, c)),
        ], [('position_embedding', c), ('block1_attention', c), ('block1_mlp2', c)], [
            ('block1_attention/query/kernel', (c,)), ('block1_attention/key/kernel', (c,)), ('block1_attention/value/kernel', (c,)),
            ('block1_mlp1/kernel', (c,)), ('classifier/kernel', (c,)),
        ]))
    for h in range(heads):
        result.append((f'block1_attention/heads:{h}', 'head', [
            (f'block1_attention/{name}/kernel', (slice(None), h)) for name in ('query', 'key', 'value')
        ], [('heads', h)], [('block1_attention/attention_output/kernel', (h,))]))
    for u in range(hidden):
        result.append((f'block1_mlp1:{u}', 'mlp', [('block1_mlp1/kernel', (Ellipsis, u))], [('block1_mlp1', u)], [('block1_mlp2/kernel', (u,))]))
    return result


def main():
    fixture = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FIXTURE
    output = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUTPUT
    params, images, labels = load_fixture(fixture)
    worst = self_check(params, images, labels)
    if worst > SELF_CHECK_TOLERANCE:
        sys.exit(f'self-check failed: a gradient differs from its central difference by {worst}')
    loss, probs, grads, scale_grads = forward_backward(params, unit_scales(params), images, labels)
    entries = []
    for group_id, kind, f_slices, injections, consumers in groups(params):
        f = np.concatenate([params[name][index].reshape(-1) for name, index in f_slices])
        grad = np.concatenate([grads[name][index].reshape(-1) for name, index in f_slices])
        r = float(sum(scale_grads[name][index] for name, index in injections))
        norm = float(np.linalg.norm(f))
        consumer_squares = float(sum((params[name][index] ** 2).sum() for name, index in consumers))
        entries.append({
            'id': group_id,
            'kind': kind,
            'F_norm': norm,
            'G': grad.tolist(),
            'r': r,
            'dL_dD': -r / norm,
            'proscore': {lam: float(np.linalg.norm(f - float(lam) * grad) / abs(norm + float(lam) * r / norm)) for lam in LAMBDAS},
            'l1': float(np.abs(f).sum()),
            'l2': norm,
            'taylor': float(abs((grad * f).sum())),
            'consumerSquaredNorm': consumer_squares,
            'coupledSquaredNorm': float((f ** 2).sum()) + consumer_squares,
        })
    # group-norm: the coupled squared norm over its mean within the layer set (each kind is one set here).
    for kind in ('embedding', 'head', 'mlp'):
        members = [entry for entry in entries if entry['kind'] == kind]
        mean = sum(entry['coupledSquaredNorm'] for entry in members) / len(members)
        for entry in members:
            entry['group-norm'] = entry['coupledSquaredNorm'] / mean
    result = {
        'fixture': 'libs/importance/test-data/tiny-transformer',
        'selfCheck': {'gradientsAgainstCentralDifferences': worst},
        'loss': loss,
        'probs': probs.reshape(-1).tolist(),
        'groups': entries,
    }
    with open(output, 'w') as handle:
        json.dump(result, handle, indent=1)
        handle.write('\n')
    print(f'wrote {output}: {len(entries)} groups, loss {loss:.6f}, self-check {worst:.2e}')


if __name__ == '__main__':
    main()
