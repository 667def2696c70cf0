"""Whole-sequence recurrent layers as single ops: one LSTM/GRU/RNN layer in one direction.

Recording a handful of graph nodes per time step costs more than the arithmetic
at the sizes recurrent nets use, so a layer is one table entry:

- forward: the input projection of every step is one GEMM up front; the loop
  over time does one GEMM with the recurrent weight and the fused gate
  arithmetic per step, and keeps the gates it computed (outputs ``gates`` and ``aux``);
- backward: a loop back over time computes every gate gradient of a step with
  a few array operations and one GEMM; the weight gradients are then one GEMM
  each over all the steps together.

Packed sequences are run on their padded, time-major layout: ``batch_sizes``
(non-increasing) says how many leading rows of the batch are active at each
step; the other rows keep their state, so the final state of every sequence is
the one after its own last step, in either direction.

Under ``create_graph=True`` the rule recomputes the layer from the saved inputs
with ordinary ember ops (``_composite_layer``) and differentiates that, so
gradients of any order are right; only first-order backward takes the fast path.
"""

from ember.ops._registry import defop

GATES = {'LSTM': 4, 'GRU': 3, 'RNN_TANH': 1, 'RNN_RELU': 1}


def _sigmoid_(xp, a):
    """In-place logistic function on a (possibly strided) view; tanh form never overflows."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _cache_layout(mode, hidden, out_size, proj):
    """Column ranges of the per-step ``aux`` cache (all but the gates): name -> (start, stop)."""
    if mode == 'LSTM':
        widths = [('cprev', hidden), ('tanhc', hidden)]
        if proj:
            widths.append(('hraw', hidden))
    elif mode == 'GRU':
        widths = [('hwn', hidden)]
    else:
        widths = []
    widths.append(('hprev', out_size))
    layout, start = {}, 0
    for name, w in widths:
        layout[name] = (start, start + w)
        start += w
    return layout, start


def _split(cache, layout):
    return {k: cache[..., a:b] for k, (a, b) in layout.items()}


def _steps(T, reverse):
    return range(T - 1, -1, -1) if reverse else range(T)


def _unpack_inputs(mode, arrays, has_bias, proj):
    """(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr) from the op's positional inputs (absent ones None)."""
    arrays = list(arrays)
    x, h0 = arrays[0], arrays[1]
    i = 2
    c0 = None
    if mode == 'LSTM':
        c0 = arrays[2]
        i = 3
    w_ih, w_hh = arrays[i], arrays[i + 1]
    i += 2
    b_ih = b_hh = w_hr = None
    if has_bias:
        b_ih, b_hh = arrays[i], arrays[i + 1]
        i += 2
    if proj:
        w_hr = arrays[i]
    return x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr


@defop('_rnn_layer', save='both', multi_output=True, grad_name='RnnLayerBackward0', nondiff_outputs=(3, 4))
def _rnn_layer(xp, *arrays, mode, reverse, batch_sizes, has_bias, proj):
    """One layer, one direction, x (T, B, I) time-major: returns (output, h_n, c_n, gates, aux).

    ``c_n`` is empty except for LSTM; ``gates`` (the activated gates, or h_t for
    the plain RNN) and ``aux`` (other per-step values) are kept for backward only.
    """
    x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr = _unpack_inputs(mode, arrays, has_bias, proj)
    T, B = x.shape[0], x.shape[1]
    G = GATES[mode]
    H = w_hh.shape[0] // G
    out_size = h.shape[-1]
    layout, width = _cache_layout(mode, H, out_size, proj)
    dt = x.dtype
    # packed: rows past a sequence's end are never written, and must read as zeros in backward's GEMMs
    alloc = xp.zeros if batch_sizes is not None else xp.empty
    gates = alloc((T, B, G * H), dt)
    aux = alloc((T, B, width), dt)
    parts = _split(aux, layout)
    hprev = parts['hprev']
    out = alloc((T, B, out_size), dt)
    h = h.copy()
    # input projection of all steps at once (GRU keeps b_hh apart: it sits inside r * (W_hn h + b_hn))
    xw = xp.matmul(x.reshape(T * B, -1), w_ih.T)
    if has_bias:
        xw += b_ih if mode == 'GRU' else b_ih + b_hh
    xw = xw.reshape(T, B, -1)
    if mode == 'LSTM':
        c = c.copy()
        cprev, tanhc, hraw = parts['cprev'], parts['tanhc'], parts.get('hraw')
        for t in _steps(T, reverse):
            n = B if batch_sizes is None else batch_sizes[t]
            g = gates[t, :n]
            hprev[t, :n] = h[:n]
            cprev[t, :n] = c[:n]
            xp.matmul(h[:n], w_hh.T, out=g)
            g += xw[t, :n]
            _sigmoid_(xp, g[:, :2 * H])
            xp.tanh(g[:, 2 * H:3 * H], out=g[:, 2 * H:3 * H])
            _sigmoid_(xp, g[:, 3 * H:])
            cn = c[:n]
            cn *= g[:, H:2 * H]
            cn += g[:, :H] * g[:, 2 * H:3 * H]
            tc = tanhc[t, :n]
            xp.tanh(cn, out=tc)
            if proj:
                hr = hraw[t, :n]
                xp.multiply(g[:, 3 * H:], tc, out=hr)
                xp.matmul(hr, w_hr.T, out=h[:n])
            else:
                xp.multiply(g[:, 3 * H:], tc, out=h[:n])
            out[t, :n] = h[:n]
        return out, h, c, gates, aux
    if mode == 'GRU':
        hwn = parts['hwn']
        for t in _steps(T, reverse):
            n = B if batch_sizes is None else batch_sizes[t]
            hn = h[:n]
            hprev[t, :n] = hn
            hw = hn @ w_hh.T
            if has_bias:
                hw += b_hh
            g = gates[t, :n]
            xp.add(xw[t, :n, :2 * H], hw[:, :2 * H], out=g[:, :2 * H])
            _sigmoid_(xp, g[:, :2 * H])
            hwn[t, :n] = hw[:, 2 * H:]
            nn_ = g[:, 2 * H:]
            xp.multiply(g[:, :H], hw[:, 2 * H:], out=nn_)
            nn_ += xw[t, :n, 2 * H:]
            xp.tanh(nn_, out=nn_)
            # h' = n + z * (h - n)
            hn -= nn_
            hn *= g[:, H:2 * H]
            hn += nn_
            out[t, :n] = hn
        return out, h, xp.empty((0,), dt), gates, aux
    for t in _steps(T, reverse):
        n = B if batch_sizes is None else batch_sizes[t]
        hprev[t, :n] = h[:n]
        pre = gates[t, :n]
        xp.matmul(h[:n], w_hh.T, out=pre)
        pre += xw[t, :n]
        if mode == 'RNN_TANH':
            xp.tanh(pre, out=pre)
        else:
            xp.maximum(pre, 0, out=pre)
        h[:n] = pre
        out[t, :n] = pre
    return out, h, xp.empty((0,), dt), gates, aux


@_rnn_layer.derivative
def _(F, ctx, grads):
    if F.is_tensor_mode():
        return _composite_grads(ctx, grads)
    xp = F.xp
    p = ctx.params
    mode, reverse, bs, has_bias, proj = p['mode'], p['reverse'], p['batch_sizes'], p['has_bias'], p['proj']
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = _unpack_inputs(mode, ctx.inputs, has_bias, proj)
    gates, aux = ctx.output[3], ctx.output[4]
    T, B = x.shape[0], x.shape[1]
    dt = x.dtype
    out_size = h0.shape[-1]
    G = GATES[mode]
    H = w_hh.shape[0] // G
    layout, _ = _cache_layout(mode, H, out_size, proj)
    parts = _split(aux, layout)
    gout = grads[0]
    dh = xp.array(grads[1], dtype=dt, copy=True) if grads[1] is not None else xp.zeros((B, out_size), dt)
    zero_init = xp.zeros if bs is not None else xp.empty
    dG = zero_init((T, B, G * H), dt)      # gradient of the gate pre-activations (input side)
    dHW = None                              # GRU: gradient of W_hh h + b_hh differs from dG in its n block
    dHp = None
    hprev = parts['hprev']
    if mode == 'LSTM':
        dc = xp.array(grads[2], dtype=dt, copy=True) if grads[2] is not None else xp.zeros((B, H), dt)
        cprev, tanhc = parts['cprev'], parts['tanhc']
        if proj:
            dHp = zero_init((T, B, out_size), dt)
        # The activation derivatives do not depend on the recursion: compute them for all steps at once,
        # so that each step is a few array operations (dc' = dc * f; gate grads = dc or dh times a factor).
        gi, gf, gg, go = (gates[..., k * H:(k + 1) * H] for k in range(4))
        factors = xp.empty((T, B, 3, H), dt)          # multiply dc: i, f and g blocks
        xp.multiply(gi, 1 - gi, out=factors[:, :, 0])
        factors[:, :, 0] *= gg
        xp.multiply(gf, 1 - gf, out=factors[:, :, 1])
        factors[:, :, 1] *= cprev
        xp.multiply(gg, gg, out=factors[:, :, 2])
        xp.subtract(1, factors[:, :, 2], out=factors[:, :, 2])
        factors[:, :, 2] *= gi
        to_c = tanhc * tanhc                            # dh_raw -> dc: o * (1 - tanh(c)^2)
        xp.subtract(1, to_c, out=to_c)
        to_c *= go
        to_o = go * (1 - go)                            # dh_raw -> o block: tanh(c) * o * (1 - o)
        to_o *= tanhc
        dG4 = dG.reshape(T, B, 4, H)
        for t in _steps(T, not reverse):
            n = B if bs is None else bs[t]
            dhn = dh[:n]
            if gout is not None:
                dhn += gout[t, :n]
            if proj:
                dHp[t, :n] = dhn
                dhr = dhn @ w_hr
            else:
                dhr = dhn
            dct = dc[:n]
            dct += dhr * to_c[t, :n]
            xp.multiply(dct[:, None, :], factors[t, :n], out=dG4[t, :n, :3])
            xp.multiply(dhr, to_o[t, :n], out=dG4[t, :n, 3])
            dct *= gf[t, :n]
            xp.matmul(dG[t, :n], w_hh, out=dhn)
        dstate = (dh, dc)
    elif mode == 'GRU':
        hwn = parts['hwn']
        dHW = zero_init((T, B, G * H), dt)
        for t in _steps(T, not reverse):
            n = B if bs is None else bs[t]
            dhn = dh[:n]
            if gout is not None:
                dhn += gout[t, :n]
            g = gates[t, :n]
            r, z, nn_ = g[:, :H], g[:, H:2 * H], g[:, 2 * H:]
            d = dG[t, :n]
            dw = dHW[t, :n]
            dn = d[:, 2 * H:]
            xp.subtract(1, z, out=dn)
            dn *= dhn
            dn *= 1 - nn_ * nn_                          # through tanh
            xp.multiply(dn, r, out=dw[:, 2 * H:])        # into W_hn h + b_hn
            xp.multiply(dn, hwn[t, :n], out=d[:, :H])    # into r
            d[:, :H] *= r * (1 - r)
            xp.subtract(hprev[t, :n], nn_, out=d[:, H:2 * H])
            d[:, H:2 * H] *= dhn
            d[:, H:2 * H] *= z * (1 - z)
            dw[:, :2 * H] = d[:, :2 * H]
            dhn *= z
            dhn += dw @ w_hh
        dstate = (dh,)
    else:
        for t in _steps(T, not reverse):
            n = B if bs is None else bs[t]
            dhn = dh[:n]
            if gout is not None:
                dhn += gout[t, :n]
            d = dG[t, :n]
            if mode == 'RNN_TANH':
                ht = gates[t, :n]
                xp.multiply(ht, ht, out=d)
                xp.subtract(1, d, out=d)
                d *= dhn
            else:
                xp.multiply(dhn, gates[t, :n] > 0, out=d)
            xp.matmul(d, w_hh, out=dhn)
        dstate = (dh,)

    need = ctx.needs_input_grad
    dG2 = dG.reshape(T * B, -1)
    dHW2 = dG2 if dHW is None else dHW.reshape(T * B, -1)
    k = 2 if mode != 'LSTM' else 3
    dx = (dG2 @ w_ih).reshape(x.shape) if need[0] else None
    result = [dx] + list(dstate)
    result.append(dG2.T @ x.reshape(T * B, -1) if need[k] else None)
    result.append(dHW2.T @ hprev.reshape(T * B, -1) if need[k + 1] else None)
    if has_bias:
        result.append(dG2.sum(0) if need[k + 2] else None)
        result.append(dHW2.sum(0) if need[k + 3] else None)
    if proj:
        hraw = parts['hraw']
        result.append(dHp.reshape(T * B, -1).T @ hraw.reshape(T * B, -1) if need[-1] else None)
    return tuple(result)


def _run_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, reverse=False, batch_sizes=None):
    """Runs one layer in one direction on time-major ``x``; returns (output, h_n, c_n or None).

    ``batch_sizes``: None, or a tuple of non-increasing active-row counts per step (packed input).
    """
    from ember.ops._dispatch import apply
    args = [x, h0] + ([c0] if mode == 'LSTM' else []) + [w_ih, w_hh]
    has_bias = b_ih is not None
    if has_bias:
        args += [b_ih, b_hh]
    if w_hr is not None:
        args.append(w_hr)
    out, h, c, _, _ = apply(_rnn_layer, tuple(args), {'mode': mode, 'reverse': bool(reverse),
                                                     'batch_sizes': batch_sizes, 'has_bias': has_bias,
                                                     'proj': w_hr is not None})
    return out, h, (c if mode == 'LSTM' else None)


def _composite_grads(ctx, grads):
    """create_graph=True: differentiates the layer rebuilt from ordinary ops (any order)."""
    from ember.autograd import grad as autograd_grad
    p = ctx.params
    inputs = ctx.inputs
    outs = _composite_layer(inputs, **p)
    pairs = [(o, g) for o, g in zip(outs, grads[:3]) if o is not None and g is not None]
    wanted = [i for i, t in enumerate(inputs) if ctx.needs_input_grad[i] and t is not None and t.requires_grad]
    result = [None] * len(inputs)
    if not wanted or not pairs:
        return tuple(result)
    got = autograd_grad([o for o, _ in pairs], [inputs[i] for i in wanted], [g for _, g in pairs],
                        create_graph=True, allow_unused=True)
    for i, g in zip(wanted, got):
        result[i] = g
    return tuple(result)


def _composite_layer(inputs, *, mode, reverse, batch_sizes, has_bias, proj):
    """The layer written with ordinary differentiable ops: (output, h_n[, c_n])."""
    import ember
    x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr = _unpack_inputs(mode, inputs, has_bias, proj)
    T, B = x.shape[0], x.shape[1]
    outs = [None] * T
    for t in _steps(T, reverse):
        n = B if batch_sizes is None else batch_sizes[t]
        xt = x[t, :n]
        hn = h[:n]
        if mode == 'LSTM':
            h_new, c_new = _lstm_cell_step(xt, hn, c[:n], w_ih, w_hh, b_ih, b_hh, w_hr)
            c = c_new if n == B else ember.cat([c_new, c[n:]], 0)
        elif mode == 'GRU':
            h_new = _gru_cell_step(xt, hn, w_ih, w_hh, b_ih, b_hh)
        else:
            h_new = _rnn_cell_step(xt, hn, w_ih, w_hh, b_ih, b_hh, mode == 'RNN_TANH')
        h = h_new if n == B else ember.cat([h_new, h[n:]], 0)
        outs[t] = h_new if n == B else ember.cat([h_new, ember.zeros((B - n, h.shape[1]), dtype=h.dtype)], 0)
    output = ember.stack(outs, 0)
    return output, h, c


def _affine(x, w, b):
    y = x.matmul(w.t())
    return y if b is None else y + b


def _lstm_cell_step(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """One LSTM step with ordinary ops (gate order i, f, g, o): returns (h', c')."""
    gates = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, 1)
    c_new = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h_new = o.sigmoid() * c_new.tanh()
    if w_hr is not None:
        h_new = h_new.matmul(w_hr.t())
    return h_new, c_new


def _gru_cell_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step with ordinary ops (gate order r, z, n): returns h'."""
    xi = _affine(x, w_ih, b_ih)
    hh = _affine(h, w_hh, b_hh)
    xr, xz, xn = xi.chunk(3, 1)
    hr, hz, hn = hh.chunk(3, 1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (h - n)


def _rnn_cell_step(x, h, w_ih, w_hh, b_ih, b_hh, use_tanh=True):
    """One Elman RNN step with ordinary ops: returns h'."""
    pre = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    return pre.tanh() if use_tanh else pre.relu()
