"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``.

Both are compositions of batched matmuls and a softmax (a handful of graph
nodes per call, each a large array operation), written to follow torch's
reference semantics, including its mask conventions:

- ``scaled_dot_product_attention``: a boolean ``attn_mask`` is True where a
  query MAY attend; a float mask is added to the scores.  A query row that may
  attend nowhere gives zeros (as torch's CPU kernel does), not NaN.
- ``multi_head_attention_forward`` (and ``nn.MultiheadAttention``): a boolean
  ``attn_mask``/``key_padding_mask`` is True where attention is NOT allowed.
"""
import math

import numpy as np

import ember

__all__ = ['scaled_dot_product_attention', 'multi_head_attention_forward']


def _softmax(x, dim):
    from ember.nn.functional import softmax
    return softmax(x, dim=dim)


def _dropout(x, p, training=True):
    from ember.nn.functional import dropout
    return dropout(x, p=p, training=training)


def _linear(x, w, b=None):
    from ember.nn.functional import linear
    return linear(x, w, b)


def _rows_with_no_key(mask_bool_allowed):
    """NumPy bool array (..., L, 1): query rows whose mask allows no key at all (or None if there are none)."""
    allowed = mask_bool_allowed.any(-1, keepdims=True)
    return None if allowed.all() else ~allowed


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``softmax(Q K^T * scale + mask) V`` over the last two dims (``(..., L, E)``, ``(..., S, E)``, ``(..., S, Ev)``).

    Args:
        attn_mask: bool (True = may attend) or float (added), broadcastable to ``(..., L, S)``.
        dropout_p: dropout on the attention weights (always applied when > 0, as torch).
        is_causal: a lower-triangular mask; cannot be combined with ``attn_mask``.
        scale: defaults to ``1 / sqrt(E)``.
        enable_gqa: let ``key``/``value`` have fewer heads (dim -3) than ``query``, repeated to match.
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                           "is_causal=True")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must have at least 2 dimensions")
    if query.dtype != key.dtype or query.dtype != value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    L, S = query.shape[-2], key.shape[-2]
    E = query.shape[-1]
    scale_factor = 1.0 / math.sqrt(E) if scale is None else scale
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        if query.shape[-3] % key.shape[-3]:
            raise RuntimeError("number of heads in key/value must divide the number of heads in query")
        key = key.repeat_interleave(query.shape[-3] // key.shape[-3], -3)
        value = value.repeat_interleave(query.shape[-3] // value.shape[-3], -3)
    scores = query.matmul(key.transpose(-2, -1))
    scores = scores * scale_factor
    no_key = None
    if is_causal:
        allowed = np.tril(np.ones((L, S), dtype=bool))
        scores = scores.masked_fill(ember.tensor(~allowed).to(scores.device), float('-inf'))
        no_key = _rows_with_no_key(allowed)
    elif attn_mask is not None:
        if attn_mask.dtype == ember.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), float('-inf'))
            no_key = _rows_with_no_key(attn_mask.detach().cpu().numpy())
        else:
            scores = scores + attn_mask
            no_key = _rows_with_no_key(~np.isneginf(attn_mask.detach().cpu().numpy()))
    if no_key is not None:
        # rows that may attend nowhere: softmax of all -inf would be NaN; torch's kernel gives zeros
        no_key = ember.tensor(no_key).to(scores.device)
        scores = scores.masked_fill(no_key, 0.0)
    weights = _softmax(scores, -1)
    if no_key is not None:
        weights = weights.masked_fill(no_key, 0.0)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p, training=True)
    return weights.matmul(value)


# ----------------------------------------------------------------------------- multi-head attention

def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked) becomes a float mask with -inf; a float mask stays."""
    if mask is None:
        return None
    if mask.dtype == ember.bool:
        return ember.zeros(mask.shape, dtype=target_type, device=mask.device).masked_fill(mask, float('-inf'))
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    return mask


def _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                                 f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _in_projection_packed(q, k, v, w, b):
    """q, k, v projections from the packed ``(3E, E)`` weight; one GEMM for self-attention."""
    E = q.shape[-1]
    if k is v:
        if q is k:
            return tuple(_linear(q, w, b).chunk(3, -1))
        w_q, w_kv = w.split([E, 2 * E])
        b_q, b_kv = (None, None) if b is None else b.split([E, 2 * E])
        return (_linear(q, w_q, b_q),) + tuple(_linear(k, w_kv, b_kv).chunk(2, -1))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _pad_last(mask):
    from ember.nn.functional import pad
    return None if mask is None else pad(mask, (0, 1))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on sequence-first inputs ``(L, N, E)`` (or unbatched ``(L, E)``).

    Returns ``(attn_output, attn_weights)``; the weights are None unless ``need_weights``, averaged over
    heads when ``average_attn_weights``.  Boolean masks are True where attention is NOT allowed.
    """
    is_batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, 'key_padding_mask', None, 'attn_mask', query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None   # the hint lets scaled_dot_product_attention build the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, 'attn_mask', None, '', query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")

    if not use_separate_proj_weight:
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _linear(query, q_proj_weight, b_q), _linear(key, k_proj_weight, b_k), \
            _linear(value, v_proj_weight, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                               f"{(bsz * num_heads, tgt_len, src_len)}.")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key/value.")
        k = ember.cat([k, bias_k.repeat(1, bsz, 1)])
        v = ember.cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v)

    if add_zero_attn:
        k = ember.cat([k, ember.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)], 1)
        v = ember.cat([v, ember.zeros((bsz * num_heads, 1, head_dim), dtype=v.dtype, device=v.device)], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1) \
            .reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / head_dim)
        if attn_mask is not None:
            scores = ember.baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            scores = ember.bmm(q_scaled, k.transpose(-2, -1))
        weights = _softmax(scores, -1)
        if dropout_p > 0.0:
            weights = _dropout(weights, dropout_p)
        out = ember.bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not is_batched:
        out = out.squeeze(1)
    return out, None

