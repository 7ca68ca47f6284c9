#!/usr/bin/env python3
"""PyTorch CPU peer of the TensorFlow.js ViT CIFAR benchmark.

Same network as libs/models buildVit (bench:runtime passes buildVit's defaults as the
flags): the patch embedding as a Conv2d with stride = kernel = patch size (with bias), the
patches as tokens, an optional class token, a learned position embedding, pre-norm
encoder blocks (nn.TransformerEncoderLayer with norm_first=True: x + MHA(LN(x)), then
x + Linear(GELU(Linear(LN(x))))), exact (erf) GELU as tfjs' 'gelu', a final LayerNorm,
the class token or the mean of the tokens, and a dense classifier. Dropout is 0, as in
buildVit's default. The same layers have the same parameter shapes on both sides, so the
parameter counts agree (attention: q, k, v, output kernels and biases).

Usage: python3 vit_torch.py --patch 4 --d-model 128 --depth 6 --heads 4 --mlp-dim 256
  --pooling average --layer-norm-eps 1e-6 --threads 1 --batch 128 --iters 10
Timing, flags, --serve and the JSON line: see torch_peer.py.
"""
import torch_peer


def model_arguments(p):
    p.add_argument('--patch', type=int, required=True, help='side of the square patches')
    p.add_argument('--d-model', type=int, required=True, help='width of the residual stream')
    p.add_argument('--depth', type=int, required=True, help='encoder blocks')
    p.add_argument('--heads', type=int, required=True)
    p.add_argument('--mlp-dim', type=int, required=True, help="hidden width of each block's MLP")
    p.add_argument('--pooling', choices=['average', 'class-token'], required=True)
    p.add_argument('--layer-norm-eps', type=float, required=True)


ARGS = torch_peer.parse_args(__doc__.split('\n')[0], model_arguments)
import torch  # noqa: E402
from torch import nn  # noqa: E402


class Vit(nn.Module):
    def __init__(self, patch, d_model, depth, heads, mlp_dim, pooling, eps, num_classes=torch_peer.NUM_CLASSES):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, d_model, patch, stride=patch)
        tokens = (torch_peer.IMAGE_SIZE // patch) ** 2
        self.class_token = nn.Parameter(torch.zeros(1, 1, d_model)) if pooling == 'class-token' else None
        self.position = nn.Parameter(0.02 * torch.randn(1, tokens + (self.class_token is not None), d_model))
        block = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=mlp_dim, dropout=0.0, activation='gelu',
                                           layer_norm_eps=eps, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, depth, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(d_model, eps=eps)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # (batch, tokens, d_model)
        if self.class_token is not None:
            x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], 1)
        x = self.final_norm(self.blocks(x + self.position))
        x = x[:, 0] if self.class_token is not None else x.mean(1)
        return self.classifier(x)  # logits; softmax is folded into cross_entropy


if __name__ == '__main__':
    config = {'patch': ARGS.patch, 'd_model': ARGS.d_model, 'depth': ARGS.depth, 'heads': ARGS.heads,
              'mlp_dim': ARGS.mlp_dim, 'pooling': ARGS.pooling, 'layer_norm_eps': ARGS.layer_norm_eps}
    torch_peer.run(ARGS, 'vit', lambda: Vit(ARGS.patch, ARGS.d_model, ARGS.depth, ARGS.heads, ARGS.mlp_dim,
                                            ARGS.pooling, ARGS.layer_norm_eps), config)
