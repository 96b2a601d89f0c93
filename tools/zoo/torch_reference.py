#!/usr/bin/python3
"""An independent PyTorch reference for the lab's attack path (torch-parity.test.ts).

Reads a tfjs LayersModel (model.json + weight shards, float32 or float16-quantized) and
runs it with plain torch ops in NCHW. It deliberately shares no code with export.py:
it checks the tfjs side (loader, executor, kernels and their gradients), not the
exporter against itself. Then it runs, with the lab's rules (src/core/attacks):

  FGSM (Goodfellow et al. 2015), L-inf: x' = clip01(x0 + eps·sign(∇x CE)), one step.
  BIM  (Kurakin et al. 2017; PGD of Madry et al. 2018 without random start), L-inf:
       x ← clip01(clip_[x0−eps, x0+eps](x + α·sign(∇x CE))), S steps from x0.

Lab rules mirrored (runner.ts, fgsm.ts, pgd.ts, common.ts):
  - CE on logits, summed over the batch (each sample's gradient is its own); a model
    ending in softmax is read before it, as the lab does;
  - only clean-correct samples are attacked, the others keep x0;
  - BIM keeps per sample the first iterate 0..S−1 that misclassifies (seen on the logits
    of that iterate's gradient pass), otherwise returns the final iterate S;
  - the L-inf projection is one box [max(x0−eps, 0), min(x0+eps, 1)], all in float32;
  - robust = clean-correct and the returned image still classified correctly.

    /usr/bin/python3 tools/zoo/torch_reference.py --model dir/model.json --inputs x.f32 \\
        --labels y.i32 --out outdir --fgsm-eps 0.1 --bim-eps 0.1 --steps 10 --step-size 0.025

Inputs: NHWC float32 LE in [0, 1] (shape from the model's input layer), int32 LE labels.
Writes to --out (LE, images NHWC): logits.f32 [N,K], grad.f32 (∇x of the summed CE at x0),
grad64.f64 (the same in float64: how far float32 rounding moves the gradient, which decides
where FGSM's sign is a tie), fgsm.f32, bim.f32, fgsm_pred.i32, bim_pred.i32, and
summary.json (counts).
Unsupported layers stop it with one line on stderr and exit code 2.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


class RefError(Exception):
    """One-line message for the user."""


# ----------------------------------------------------------------------------- weights


def read_weights(model_dir: str, manifest: list, dtype=torch.float32) -> dict:
    """name -> tensor of `dtype`, decoding tfjs float16 quantization."""
    out = {}
    for group in manifest:
        data = b''.join(open(os.path.join(model_dir, p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            n = int(np.prod(w['shape'])) if w['shape'] else 1
            q = w.get('quantization')
            if q is None:
                if w.get('dtype', 'float32') != 'float32':
                    raise RefError(f"weight '{w['name']}' has dtype {w['dtype']} (only float32 is supported)")
                arr, size = np.frombuffer(data, '<f4', n, off), 4 * n
            elif q.get('dtype') == 'float16':
                arr, size = np.frombuffer(data, '<f2', n, off).astype(np.float32), 2 * n
            else:
                raise RefError(f"weight '{w['name']}' uses {q.get('dtype')} quantization (only float16 is supported)")
            out[w['name']] = torch.from_numpy(arr.astype(np.float32).reshape(w['shape'])).to(dtype)
            off += size
        if off != len(data):
            raise RefError(f'weight shards hold {len(data)} bytes, the manifest describes {off}')
    return out


# ----------------------------------------------------------------------------- layers


def _pair(v):
    return (int(v[0]), int(v[1] if len(v) > 1 else v[0])) if isinstance(v, (list, tuple)) else (int(v), int(v))


def _same_pad(size, k, s, d=1):
    """TF 'same': out = ceil(size/s), the extra padding pixel goes after (bottom/right)."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _act(name, where):
    if name in (None, 'linear'):
        return lambda x: x
    if name == 'relu':
        return F.relu
    raise RefError(f"layer '{where}': activation '{name}' is not supported")


def _check_channels_last(cfg, name):
    if cfg.get('data_format', 'channels_last') != 'channels_last':
        raise RefError(f"layer '{name}': data_format {cfg['data_format']} is not supported")


def make_layer(cls, cfg, name, get, final):
    """A function of the input tensors (4D maps NCHW, vectors 2D). `final`: the output
    layer, whose softmax activation is dropped (the lab reads pre-softmax logits)."""
    act_name = cfg.get('activation')
    if final and act_name == 'softmax':
        act_name = 'linear'
    if cls in ('InputLayer', 'Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout'):
        return lambda xs: xs[0]  # identities at inference
    if cls == 'Conv2D':
        _check_channels_last(cfg, name)
        if cfg.get('groups', 1) != 1:
            raise RefError(f"layer '{name}': grouped Conv2D is not supported")
        w = get('kernel').permute(3, 2, 0, 1).contiguous()  # HWIO -> OIHW
        b = get('bias') if cfg.get('use_bias', True) else None
        (kh, kw), s, d = w.shape[2:], _pair(cfg.get('strides', 1)), _pair(cfg.get('dilation_rate', 1))
        act, same = _act(act_name, name), cfg.get('padding', 'valid') == 'same'

        def conv(xs):
            x = xs[0]
            if same:
                t, bt = _same_pad(x.shape[2], kh, s[0], d[0])
                lf, r = _same_pad(x.shape[3], kw, s[1], d[1])
                x = F.pad(x, (lf, r, t, bt))
            return act(F.conv2d(x, w, b, stride=s, dilation=d))
        return conv
    if cls == 'Dense':
        w = get('kernel')
        b = get('bias') if cfg.get('use_bias', True) else None
        act = _act(act_name, name)

        def dense(xs):
            if xs[0].dim() != 2:
                raise RefError(f"layer '{name}': Dense on a {xs[0].dim()}D tensor is not supported")
            y = xs[0] @ w
            return act(y + b if b is not None else y)
        return dense
    if cls == 'Activation':
        return lambda xs, f=_act(act_name, name): f(xs[0])
    if cls == 'Softmax' and final:
        return lambda xs: xs[0]
    if cls == 'ReLU':
        if cfg.get('max_value') is not None or cfg.get('negative_slope', 0) or cfg.get('threshold', 0):
            raise RefError(f"layer '{name}': ReLU with max_value/negative_slope/threshold is not supported")
        return lambda xs: F.relu(xs[0])
    if cls == 'Flatten':
        _check_channels_last(cfg, name)
        # tfjs flattens NHWC: H, W, C order
        return lambda xs: (xs[0].permute(0, 2, 3, 1) if xs[0].dim() == 4 else xs[0]).reshape(xs[0].shape[0], -1)
    if cls == 'ZeroPadding2D':
        _check_channels_last(cfg, name)
        p = cfg.get('padding', 1)
        if isinstance(p, int):
            (t, bt), (lf, r) = (p, p), (p, p)
        elif all(isinstance(v, int) for v in p):
            (t, bt), (lf, r) = (p[0], p[0]), (p[1], p[1])
        else:
            (t, bt), (lf, r) = p
        return lambda xs: F.pad(xs[0], (lf, r, t, bt))
    if cls in ('MaxPooling2D', 'AveragePooling2D'):
        _check_channels_last(cfg, name)
        k = _pair(cfg.get('pool_size', 2))
        s = _pair(cfg.get('strides') or k)
        same, is_max = cfg.get('padding', 'valid') == 'same', cls == 'MaxPooling2D'

        def pool(xs):
            x = xs[0]
            if not same:
                return F.max_pool2d(x, k, s) if is_max else F.avg_pool2d(x, k, s)
            t, bt = _same_pad(x.shape[2], k[0], s[0])
            lf, r = _same_pad(x.shape[3], k[1], s[1])
            if is_max:  # padding never wins the max
                return F.max_pool2d(F.pad(x, (lf, r, t, bt), value=-float('inf')), k, s)
            # TF 'same' average pooling divides by the number of real pixels in the window
            total = F.avg_pool2d(F.pad(x, (lf, r, t, bt)), k, s, divisor_override=1)
            count = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), (lf, r, t, bt)), k, s, divisor_override=1)
            return total / count
        return pool
    if cls == 'GlobalAveragePooling2D':
        _check_channels_last(cfg, name)
        if cfg.get('keepdims'):
            raise RefError(f"layer '{name}': GlobalAveragePooling2D with keepdims is not supported")
        return lambda xs: xs[0].mean(dim=(2, 3))
    if cls == 'BatchNormalization':
        axis = cfg.get('axis', -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, 3):
            raise RefError(f"layer '{name}': BatchNormalization over axis {axis} is not supported")
        mean, var = get('moving_mean'), get('moving_variance')
        gamma = get('gamma') if cfg.get('scale', True) else None
        beta = get('beta') if cfg.get('center', True) else None
        eps = float(cfg.get('epsilon', 1e-3))
        # channels_last axis -1 is the channel axis of NCHW maps and the feature axis of vectors
        return lambda xs: F.batch_norm(xs[0], mean, var, gamma, beta, False, 0.0, eps)
    if cls == 'Add':
        def add(xs):
            y = xs[0]
            for x in xs[1:]:
                y = y + x
            return y
        return add
    raise RefError(f"layer '{name}' of class {cls} is not supported")


# ----------------------------------------------------------------------------- model


class TfjsModel:
    """Callable NHWC images -> logits, built from a layers-model topology. dtype float64
    runs the same weights in double precision (the float32 rounding reference)."""

    def __init__(self, model_json_path: str, dtype=torch.float32):
        with open(model_json_path) as fh:
            mj = json.load(fh)
        if mj.get('format', 'layers-model') != 'layers-model':
            raise RefError(f"{model_json_path}: format '{mj.get('format')}' is not a layers model")
        topo = mj['modelTopology']
        topo = topo.get('model_config', topo)
        self.weights = read_weights(os.path.dirname(os.path.abspath(model_json_path)), mj['weightsManifest'], dtype)
        cls, config = topo['class_name'], topo['config']
        if cls == 'Sequential':
            layers = config if isinstance(config, list) else config['layers']
            prev, self.nodes = None, []
            for layer in layers:
                self.nodes.append((layer, [prev] if prev else []))
                prev = layer['config']['name']
            self.input_name, self.output_name = (layers[0]['config']['name'] if layers[0]['class_name'] == 'InputLayer'
                                                 else None), prev
            first_cfg = layers[0]['config']
        elif cls in ('Model', 'Functional'):
            layers = config['layers']
            self.nodes = []
            for layer in layers:
                inbound = layer.get('inbound_nodes', [])
                if len(inbound) > 1:
                    raise RefError(f"layer '{layer['config']['name']}' is called more than once (shared layers are not supported)")
                srcs = []
                for ref in (inbound[0] if inbound else []):
                    if not isinstance(ref, list):
                        raise RefError('inbound_nodes in the Keras 3 format are not supported')
                    srcs.append(ref[0])
                self.nodes.append((layer, srcs))
            if len(config['input_layers']) != 1 or len(config['output_layers']) != 1:
                raise RefError('the model must have one input and one output')
            self.input_name, self.output_name = config['input_layers'][0][0], config['output_layers'][0][0]
            first_cfg = next(layer['config'] for layer in layers if layer['config']['name'] == self.input_name)
        else:
            raise RefError(f"model class {cls} is not supported")
        shape = first_cfg.get('batch_input_shape') or first_cfg.get('batch_shape')
        if not shape or len(shape) != 4:
            raise RefError(f'input shape {shape} is not [null, H, W, C]')
        self.input_shape = tuple(shape[1:])
        self.fns = []
        for layer, srcs in self.nodes:
            name = layer['config'].get('name', layer.get('name'))
            self.fns.append((name, srcs, make_layer(layer['class_name'], layer['config'], name,
                                                    self._getter(name), name == self.output_name)))

    def _getter(self, layer_name):
        def get(param):
            key = f'{layer_name}/{param}'
            if key in self.weights:
                return self.weights[key]
            hits = [k for k in self.weights if k.endswith('/' + key)]
            if len(hits) != 1:
                raise RefError(f"no unique weight '{key}' in the manifest")
            return self.weights[hits[0]]
        return get

    def __call__(self, x_nhwc: torch.Tensor) -> torch.Tensor:
        vals = {}
        for name, srcs, fn in self.fns:
            ins = [vals[s] for s in srcs] if srcs else [x_nhwc.permute(0, 3, 1, 2)]
            vals[name] = fn(ins)
        out = vals[self.output_name]
        if out.dim() != 2:
            raise RefError(f'model output has shape {tuple(out.shape)}, not [batch, classes]')
        return out


# ----------------------------------------------------------------------------- attacks


def loss_grad_logits(model, x, y):
    """∇x of the summed CE on logits (sum: per-sample gradients, as the lab) and the logits."""
    x = x.detach().requires_grad_(True)
    z = model(x)
    g, = torch.autograd.grad(F.cross_entropy(z, y, reduction='sum'), x)
    return g, z.detach()


def fgsm(g, x0, active, eps):
    """g: the gradient at x0. sign(0) = 0: a zero gradient coordinate takes no step (fgsm.ts)."""
    adv = torch.clamp(x0 + torch.sign(g) * torch.tensor(eps, dtype=torch.float32), 0, 1)
    return torch.where(active[:, None, None, None], adv, x0)


def bim(model, x0, y, active, eps, steps, alpha):
    e = torch.tensor(eps, dtype=torch.float32)
    lo, hi = torch.clamp(x0 - e, min=0), torch.clamp(x0 + e, max=1)
    a = torch.full_like(x0, alpha)  # float32 α, as pgd.ts's full-size step tensor
    x, first_adv = x0.clone(), x0.clone()
    first_step = torch.full((x0.shape[0],), -1, dtype=torch.int64)
    for step in range(steps):
        g, z = loss_grad_logits(model, x, y)
        newly = active & (first_step < 0) & (z.argmax(1) != y)
        first_adv = torch.where(newly[:, None, None, None], x, first_adv)
        first_step = torch.where(newly, torch.full_like(first_step, step), first_step)
        x = torch.minimum(torch.maximum(x + torch.sign(g) * a, lo), hi)
    out = torch.where(active[:, None, None, None], x, x0)
    return torch.where((first_step >= 0)[:, None, None, None], first_adv, out), first_step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', required=True, help='model.json of a tfjs layers model')
    ap.add_argument('--inputs', required=True, help='NHWC float32 LE images in [0, 1]')
    ap.add_argument('--labels', required=True, help='int32 LE labels')
    ap.add_argument('--out', required=True)
    ap.add_argument('--fgsm-eps', type=float, required=True)
    ap.add_argument('--bim-eps', type=float, required=True)
    ap.add_argument('--steps', type=int, required=True)
    ap.add_argument('--step-size', type=float, required=True)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model = TfjsModel(args.model)
        y = torch.from_numpy(np.fromfile(args.labels, '<i4').astype(np.int64))
        flat = np.fromfile(args.inputs, '<f4')
        if flat.size != len(y) * int(np.prod(model.input_shape)):
            raise RefError(f'{args.inputs}: {flat.size} floats, expected {len(y)} x {model.input_shape}')
        x0 = torch.from_numpy(flat.reshape(len(y), *model.input_shape).copy())
        with torch.no_grad():
            logits = model(x0)
        g, _ = loss_grad_logits(model, x0, y)
        g64, _ = loss_grad_logits(TfjsModel(args.model, torch.float64), x0.double(), y)
        active = logits.argmax(1) == y
        x_fgsm = fgsm(g, x0, active, args.fgsm_eps)
        x_bim, first = bim(model, x0, y, active, args.bim_eps, args.steps, args.step_size)
        with torch.no_grad():
            fgsm_pred, bim_pred = model(x_fgsm).argmax(1), model(x_bim).argmax(1)
    except RefError as e:
        print(f'torch_reference.py: error: {e}', file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    for name, t, dt in (('logits.f32', logits, '<f4'), ('grad.f32', g, '<f4'), ('fgsm.f32', x_fgsm, '<f4'),
                        ('bim.f32', x_bim, '<f4'), ('bim_pred.i32', bim_pred, '<i4'), ('fgsm_pred.i32', fgsm_pred, '<i4'),
                        ('grad64.f64', g64, '<f8')):
        t.numpy().astype(dt).tofile(os.path.join(args.out, name))
    summary = {'n': len(y), 'clean': int(active.sum()),
               'fgsmRobust': int((active & (fgsm_pred == y)).sum()),
               'bimRobust': int((active & (bim_pred == y)).sum()),
               'bimFirstStep': first.tolist()}
    with open(os.path.join(args.out, 'summary.json'), 'w') as fh:
        json.dump(summary, fh)
    return 0


if __name__ == '__main__':
    sys.exit(main())
