"""Self-attention written by hand with matmul and softmax, checked against ``nn.MultiheadAttention``.

The hand-written layer keeps separate q/k/v/output projections; its weights are
copied from a ``nn.MultiheadAttention`` (whose q/k/v projections are packed in
``in_proj_weight``), then both run on the same batch, with a causal mask and
with a key padding mask, and the outputs, attention maps and gradients are
compared.  It then trains the hand-written layer for a few steps to copy a
sequence in reverse order.

    python examples/attention.py
"""
import math

import ember as torch
import ember.nn as nn
import ember.nn.functional as F


class SelfAttention(nn.Module):
    """Multi-head self-attention: softmax(Q K^T / sqrt(d) + mask) V, heads concatenated, projected."""

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.q = nn.Linear(embed_dim, embed_dim)
        self.k = nn.Linear(embed_dim, embed_dim)
        self.v = nn.Linear(embed_dim, embed_dim)
        self.out = nn.Linear(embed_dim, embed_dim)

    def forward(self, x, mask=None):             # x: (N, L, E); mask: (L, L) or (N, 1, 1, L) additive
        N, L, E = x.shape

        def heads(t):                             # (N, L, E) -> (N, H, L, D)
            return t.reshape(N, L, self.num_heads, self.head_dim).transpose(1, 2)
        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if mask is not None:
            scores = scores + mask
        weights = scores.softmax(dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(N, L, E)
        return self.out(out), weights.mean(dim=1)

    @torch.no_grad()
    def load_from(self, mha):
        wq, wk, wv = mha.in_proj_weight.chunk(3)
        bq, bk, bv = mha.in_proj_bias.chunk(3)
        for lin, w, b in [(self.q, wq, bq), (self.k, wk, bk), (self.v, wv, bv),
                          (self.out, mha.out_proj.weight, mha.out_proj.bias)]:
            lin.weight.copy_(w)
            lin.bias.copy_(b)


def compare(name, a, b):
    err = (a - b).abs().max().item()
    print(f"  {name:<28} max |difference| = {err:.2e}")
    return err


def main():
    torch.manual_seed(0)
    E, H, N, L = 32, 4, 3, 6
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    mine = SelfAttention(E, H)
    mine.load_from(mha)
    x = torch.randn(N, L, E, requires_grad=True)

    causal = nn.Transformer.generate_square_subsequent_mask(L)
    padding = torch.zeros(N, L, dtype=torch.bool)
    padding[1, 4:] = True                         # the second sequence has 4 real tokens
    pad_add = torch.zeros(N, L).masked_fill(padding, float('-inf')).reshape(N, 1, 1, L)

    worst = 0.0
    for label, kwargs, mask in [('no mask', {}, None), ('causal mask', {'attn_mask': causal}, causal),
                                ('key padding mask', {'key_padding_mask': padding}, pad_add)]:
        print(label)
        ref_out, ref_w = mha(x, x, x, **kwargs)
        out, w = mine(x, mask)
        worst = max(worst, compare('output', out, ref_out), compare('attention weights', w, ref_w))
        g_ref = torch.autograd.grad(ref_out.sum(), x)[0]
        g = torch.autograd.grad(out.sum(), x)[0]
        worst = max(worst, compare('gradient wrt input', g, g_ref))
    print(f"largest difference: {worst:.2e} -> {'OK' if worst < 1e-5 else 'MISMATCH'}")

    # a tiny task: reverse a sequence of random vectors (needs attention to the mirrored position)
    pos = nn.Parameter(torch.randn(1, L, E) * 0.1)
    opt = torch.optim.Adam(list(mine.parameters()) + [pos], lr=3e-3)
    for step in range(1, 301):
        seq = torch.randn(32, L, E)
        out, _ = mine(seq + pos)
        loss = F.mse_loss(out, seq.flip(1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"reverse-copy step {step}: loss {loss.item():.4f}")


if __name__ == '__main__':
    main()
