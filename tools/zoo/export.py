#!/usr/bin/python3
"""Export a PyTorch image classifier to a tfjs layers model (model.json + shards).

Zoo models:
    /usr/bin/python3 tools/zoo/export.py --arch mnist_small --checkpoint ck.pt --out public/models/x
Your own model:
    /usr/bin/python3 tools/zoo/export.py --module my_file.py:ClassName --state-dict weights.pt \
        --input-shape 3,32,32 --out dir
(ClassName may be any callable taking no arguments and returning an nn.Module.)

How it works: the module is traced with torch.fx (a custom tracer records which
module each function call happens in, so layer names follow the module tree), the
tensor shapes are found by running one dummy input through the traced graph, and
each graph node becomes one Keras/tfjs layer in a functional model.

Layout: PyTorch is NCHW, tfjs is NHWC. Feature maps stay NHWC in tfjs, so kernels
are transposed (conv OIHW -> HWIO, linear (out,in) -> (in,out)) and the first
Linear after flattening a feature map gets its input columns reordered from
C,H,W order to H,W,C order, which is the order tfjs' Flatten produces. The
tfjs model's input is NHWC [null, H, W, C] and is named "input".

Supported: Conv2d (groups=1, zero padding), BatchNorm2d/1d (running stats), ReLU
(module, F.relu, torch.relu, x.relu()), MaxPool2d (no padding), AvgPool2d,
AdaptiveAvgPool2d(1), Flatten (nn.Flatten, torch.flatten(x, 1), x.view(x.size(0), -1),
x.reshape, x.flatten(1)), Linear, Dropout, Identity, residual additions.
Anything else stops the export with one line naming the module and type, exit code 2.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import math
import operator
import os
import sys

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from torch.fx.passes.shape_prop import ShapeProp

SHARD_BYTES = 4 * 1024 * 1024  # tfjs converter default; keeps each fetch small and cacheable
KERAS_VERSION = 'tfjs-layers 4.22.0'


class ExportError(Exception):
    """A model the exporter cannot represent; the message is one line for the user."""


# ---------------------------------------------------------------------------------
# Tracing


class _ScopedTracer(fx.Tracer):
    """fx tracer that tags each node with the qualified name of the module whose
    forward() created it, so F.relu inside ``stage2.block1`` becomes layer
    ``stage2.block1.relu`` instead of a flat ``relu_7``."""

    def __init__(self):
        super().__init__()
        self._scope = ['']

    def call_module(self, m, forward, args, kwargs):
        self._scope.append(self.path_of_module(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self._scope.pop()

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        node.meta['scope'] = self._scope[-1]
        return node


def trace(module: nn.Module) -> fx.GraphModule:
    tracer = _ScopedTracer()
    try:
        graph = tracer.trace(module)
    except Exception as e:  # data-dependent control flow, unsupported Python, ...
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ExportError(f'cannot trace the model with torch.fx: {msg}')
    return fx.GraphModule(tracer.root, graph)


# ---------------------------------------------------------------------------------
# Node classification

RELU_FUNCS = {F.relu, torch.relu}
ADD_FUNCS = {operator.add, operator.iadd, torch.add}
FLATTEN_FUNCS = {torch.flatten}
LEAF_MODULES = (nn.Conv2d, nn.BatchNorm2d, nn.BatchNorm1d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d,
                nn.AdaptiveAvgPool2d, nn.Flatten, nn.Linear, nn.Dropout, nn.Identity)
META_METHODS = {'size', 'dim'}  # return Python values used by view(); no layer
FLATTEN_METHODS = {'view', 'reshape', 'flatten'}


def _func_name(f) -> str:
    mod = getattr(f, '__module__', None) or ''
    name = getattr(f, '__name__', repr(f))
    return f'{mod}.{name}' if mod else name


def check_supported(gm: fx.GraphModule):
    """Reject unsupported nodes before running anything (an LSTM fed a feature map
    would otherwise fail inside shape propagation with an unrelated error)."""
    mods = dict(gm.named_modules())
    placeholders = [n for n in gm.graph.nodes if n.op == 'placeholder']
    if len(placeholders) != 1:
        raise ExportError(f'the model must take exactly one input tensor (forward has {len(placeholders)})')
    for n in gm.graph.nodes:
        where = f" (in '{n.meta.get('scope')}')" if n.meta.get('scope') else ''
        if n.op == 'call_module':
            m = mods[n.target]
            if type(m) not in LEAF_MODULES:
                raise ExportError(f"unsupported module '{n.target}' of type {type(m).__name__}")
        elif n.op == 'call_function':
            f = n.target
            if f in RELU_FUNCS or f in ADD_FUNCS or f in FLATTEN_FUNCS or f is getattr:
                continue
            if f is F.dropout:
                continue
            raise ExportError(f"unsupported function '{_func_name(f)}' at node '{n.name}'{where}")
        elif n.op == 'call_method':
            if n.target in META_METHODS or n.target in FLATTEN_METHODS or n.target in ('relu', 'add', '__add__'):
                continue
            raise ExportError(f"unsupported tensor method '.{n.target}()' at node '{n.name}'{where}")
        elif n.op == 'get_attr':
            raise ExportError(f"unsupported use of parameter/buffer '{n.target}' directly in forward(){where}")


# ---------------------------------------------------------------------------------
# Conversion


class _Val:
    """What a graph value is on the tfjs side.
    kind: 'map'    4D feature map (torch NCHW, tfjs NHWC)
          'pooled' torch (N,C,1,1) after AdaptiveAvgPool2d(1); tfjs (N,C)
          'vec'    2D (N,F), same order on both sides
          'flat'   2D, flattened feature map: torch order C,H,W; tfjs order H,W,C
          'meta'   a Python value (x.size(0)), no tfjs counterpart"""

    def __init__(self, layer, kind, chw=None):
        self.layer, self.kind, self.chw = layer, kind, chw


def _chw_to_hwc_perm(c, h, w):
    """perm[i] = index in C,H,W flattening of the element at H,W,C flattening index i."""
    return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).reshape(-1)


def _f32(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().astype('<f4'))


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class _Builder:
    def __init__(self, gm: fx.GraphModule, input_shape):
        self.gm = gm
        self.mods = dict(gm.named_modules())
        self.input_shape = tuple(input_shape)
        self.layers = []
        self.weights = []  # (name, np.ndarray)
        self.used_names = set()
        self.vals = {}

    # -- helpers
    def unique(self, base: str) -> str:
        base = base.replace('::', '.').strip('.') or 'layer'
        name, k = base, 1
        while name in self.used_names:
            name = f'{base}_{k}'
            k += 1
        self.used_names.add(name)
        return name

    def node_name(self, n: fx.Node) -> str:
        if n.op == 'call_module':
            return self.unique(n.target)
        base = n.name
        scope = n.meta.get('scope') or ''
        # fx appends _<k> to repeated names; strip it, unique() re-numbers within the scope
        stem = base.rsplit('_', 1)[0] if base.rsplit('_', 1)[-1].isdigit() else base
        return self.unique(f'{scope}.{stem}' if scope else stem)

    def add_layer(self, class_name, name, config, inbound):
        cfg = {'name': name, 'trainable': True, **config}
        self.layers.append({
            'class_name': class_name,
            'config': cfg,
            'name': name,
            'inbound_nodes': [[[src, 0, 0, {}] for src in inbound]] if inbound else [],
        })

    def shape_of(self, n: fx.Node):
        tm = n.meta.get('tensor_meta')
        return tuple(tm.shape) if tm is not None and hasattr(tm, 'shape') else None

    def tensor_arg(self, n: fx.Node, what: str) -> _Val:
        args = [a for a in n.args if isinstance(a, fx.Node)]
        if not args:
            raise ExportError(f"node '{n.name}' ({what}) has no tensor input")
        v = self.vals[args[0]]
        if v.kind == 'meta':
            raise ExportError(f"node '{n.name}' ({what}) is applied to a non-tensor value")
        return v

    def require(self, v: _Val, kinds, n: fx.Node, what: str):
        if v.kind not in kinds:
            desc = {'map': 'a 4D feature map', 'vec': 'a 2D tensor', 'flat': 'a flattened feature map',
                    'pooled': 'a globally pooled (N,C,1,1) tensor'}[v.kind]
            raise ExportError(f"{what} at '{n.target if n.op == 'call_module' else n.name}' "
                              f"cannot be applied to {desc}")

    # -- node handlers
    def convert(self):
        for n in self.gm.graph.nodes:
            if n.op == 'placeholder':
                self.placeholder(n)
            elif n.op == 'output':
                self.output(n)
            elif n.op == 'call_module':
                self.module(n, self.mods[n.target])
            elif n.op == 'call_function':
                self.function(n)
            elif n.op == 'call_method':
                self.method(n)

    def placeholder(self, n):
        s = self.input_shape
        if len(s) == 3:
            shape, kind = [None, s[1], s[2], s[0]], 'map'
        elif len(s) == 1:
            shape, kind = [None, s[0]], 'vec'
        else:
            raise ExportError(f'input shape must be C,H,W or F, got {",".join(map(str, s))}')
        self.used_names.add('input')
        self.layers.append({'class_name': 'InputLayer', 'name': 'input', 'inbound_nodes': [],
                            'config': {'batch_input_shape': shape, 'dtype': 'float32',
                                       'sparse': False, 'name': 'input'}})
        self.vals[n] = _Val('input', kind)

    def output(self, n):
        out = n.args[0]
        if not isinstance(out, fx.Node):
            raise ExportError('the model must return a single tensor (got a tuple/list/dict)')
        v = self.vals[out]
        if v.kind == 'meta':
            raise ExportError('the model output is not a tensor')
        self.output_layer = v.layer

    def alias(self, n, v: _Val):
        self.vals[n] = v

    def relu(self, n, v):
        name = self.node_name(n)
        self.add_layer('Activation', name, {'activation': 'relu'}, [v.layer])
        self.vals[n] = _Val(name, v.kind, v.chw)

    def flatten(self, n, v):
        if v.kind in ('vec', 'flat'):
            return self.alias(n, v)
        if v.kind == 'pooled':
            return self.alias(n, _Val(v.layer, 'vec'))
        name = self.node_name(n)
        self.add_layer('Flatten', name, {'data_format': 'channels_last'}, [v.layer])
        src = self.shape_of(n.args[0]) if isinstance(n.args[0], fx.Node) else None
        c, h, w = src[1:] if src and len(src) == 4 else (None, None, None)
        self.vals[n] = _Val(name, 'flat', (c, h, w))

    def add(self, n):
        ins = [self.vals[a] for a in n.args if isinstance(a, fx.Node)]
        if len(ins) != 2 or len(n.args) != 2 or n.kwargs.get('alpha', 1) != 1:
            raise ExportError(f"unsupported addition at node '{n.name}': only tensor + tensor is supported")
        a, b = ins
        if a.kind != b.kind or a.chw != b.chw or a.kind == 'meta':
            raise ExportError(f"unsupported addition at node '{n.name}': operands have different layouts")
        sa, sb = self.shape_of(n.args[0]), self.shape_of(n.args[1])
        if sa != sb:
            raise ExportError(f"unsupported addition at node '{n.name}': broadcasting {sa} + {sb}")
        name = self.node_name(n)
        self.add_layer('Add', name, {}, [a.layer, b.layer])
        self.vals[n] = _Val(name, a.kind, a.chw)

    def function(self, n):
        f = n.target
        if f is getattr:
            self.vals[n] = _Val(None, 'meta')
        elif f in RELU_FUNCS:
            self.relu(n, self.tensor_arg(n, 'relu'))
        elif f in ADD_FUNCS:
            self.add(n)
        elif f is F.dropout:
            self.alias(n, self.tensor_arg(n, 'dropout'))
        elif f in FLATTEN_FUNCS:
            self.flatten_call(n, self.tensor_arg(n, 'flatten'))

    def method(self, n):
        if n.target in META_METHODS:
            self.vals[n] = _Val(None, 'meta')
        elif n.target == 'relu':
            self.relu(n, self.tensor_arg(n, 'relu'))
        elif n.target in ('add', '__add__'):
            self.add(n)
        else:
            self.flatten_call(n, self.tensor_arg(n, n.target))

    def flatten_call(self, n, v):
        """torch.flatten / view / reshape: only 'keep the batch, flatten the rest'."""
        src, dst = self.shape_of(n.args[0]), self.shape_of(n)
        if src is None or dst is None or len(dst) != 2 or dst[0] != src[0] or \
                dst[1] != int(np.prod(src[1:])):
            raise ExportError(f"unsupported reshape at node '{n.name}': {tuple(src or ())} -> {tuple(dst or ())} "
                              '(only flattening all but the batch dimension is supported)')
        self.flatten(n, v)

    def module(self, n, m):
        v = self.tensor_arg(n, type(m).__name__)
        if isinstance(m, nn.ReLU):
            return self.relu(n, v)
        if isinstance(m, (nn.Dropout, nn.Identity)):
            return self.alias(n, v)
        if isinstance(m, nn.Flatten):
            return self.flatten_call(n, v)
        if isinstance(m, nn.Conv2d):
            return self.conv(n, m, v)
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            return self.batchnorm(n, m, v)
        if isinstance(m, nn.Linear):
            return self.linear(n, m, v)
        if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            return self.pool(n, m, v)
        if isinstance(m, nn.AdaptiveAvgPool2d):
            if _pair(m.output_size) != (1, 1):
                raise ExportError(f"unsupported module '{n.target}': AdaptiveAvgPool2d with output size "
                                  f'{m.output_size} (only 1 is supported)')
            self.require(v, ('map',), n, 'AdaptiveAvgPool2d')
            name = self.unique(n.target)
            self.add_layer('GlobalAveragePooling2D', name, {'data_format': 'channels_last'}, [v.layer])
            self.vals[n] = _Val(name, 'pooled')
            return
        raise ExportError(f"unsupported module '{n.target}' of type {type(m).__name__}")

    def pad_layer(self, n, base, v, ph, pw):
        name = self.unique(f'{base}.pad')
        self.add_layer('ZeroPadding2D', name, {'padding': [[ph, ph], [pw, pw]], 'data_format': 'channels_last'},
                       [v.layer])
        return name

    def conv(self, n, m: nn.Conv2d, v):
        self.require(v, ('map',), n, 'Conv2d')
        if m.groups != 1:
            raise ExportError(f"unsupported module '{n.target}': Conv2d with groups={m.groups}")
        if m.padding_mode != 'zeros':
            raise ExportError(f"unsupported module '{n.target}': Conv2d with padding_mode='{m.padding_mode}'")
        kh, kw = m.kernel_size
        sh, sw = m.stride
        dh, dw = m.dilation
        if (sh, sw) != (1, 1) and (dh, dw) != (1, 1):
            raise ExportError(f"unsupported module '{n.target}': Conv2d with both stride and dilation")
        if isinstance(m.padding, str):
            if m.padding == 'same':  # PyTorch only allows it with stride 1; pads like below
                ph, pw = dh * (kh - 1) // 2, dw * (kw - 1) // 2
                if (dh * (kh - 1)) % 2 or (dw * (kw - 1)) % 2:
                    raise ExportError(f"unsupported module '{n.target}': padding='same' with an even kernel")
            else:
                ph, pw = 0, 0
        else:
            ph, pw = m.padding
        base = self.unique(n.target)
        src = v.layer
        # tfjs 'same' pads asymmetrically for stride > 1 or even kernels; only use it when
        # it is exactly PyTorch's symmetric padding, otherwise pad explicitly.
        same = (sh, sw) == (1, 1) and (ph, pw) == (dh * (kh - 1) // 2, dw * (kw - 1) // 2) and \
            (kh % 2, kw % 2) == (1, 1) and (ph, pw) != (0, 0)
        if not same and (ph, pw) != (0, 0):
            src = self.pad_layer(n, base, v, ph, pw)
        self.add_layer('Conv2D', base, {
            'filters': m.out_channels, 'kernel_size': [kh, kw], 'strides': [sh, sw],
            'padding': 'same' if same else 'valid', 'data_format': 'channels_last',
            'dilation_rate': [dh, dw], 'activation': 'linear', 'use_bias': m.bias is not None,
        }, [src])
        self.weights.append((f'{base}/kernel', _f32(m.weight.permute(2, 3, 1, 0))))
        if m.bias is not None:
            self.weights.append((f'{base}/bias', _f32(m.bias)))
        self.vals[n] = _Val(base, 'map')

    def batchnorm(self, n, m, v):
        is2d = isinstance(m, nn.BatchNorm2d)
        self.require(v, ('map',) if is2d else ('vec', 'flat'), n, type(m).__name__)
        if not m.track_running_stats or m.running_mean is None:
            raise ExportError(f"unsupported module '{n.target}': {type(m).__name__} without running statistics")
        perm = None
        if v.kind == 'flat':
            perm = _chw_to_hwc_perm(*v.chw)
        name = self.unique(n.target)
        self.add_layer('BatchNormalization', name, {
            'axis': -1, 'momentum': 0.99, 'epsilon': float(m.eps), 'center': m.affine, 'scale': m.affine,
        }, [v.layer])
        order = (['gamma', 'beta'] if m.affine else []) + ['moving_mean', 'moving_variance']
        tensors = {'moving_mean': m.running_mean, 'moving_variance': m.running_var}
        if m.affine:
            tensors.update(gamma=m.weight, beta=m.bias)
        for key in order:
            arr = _f32(tensors[key])
            self.weights.append((f'{name}/{key}', arr[perm] if perm is not None else arr))
        self.vals[n] = _Val(name, v.kind, v.chw)

    def linear(self, n, m: nn.Linear, v):
        self.require(v, ('vec', 'flat'), n, 'Linear')
        w = m.weight.detach()
        if v.kind == 'flat':
            c, h, wd = v.chw
            w = w.reshape(m.out_features, c, h, wd).permute(0, 2, 3, 1).reshape(m.out_features, -1)
        name = self.unique(n.target)
        self.add_layer('Dense', name, {'units': m.out_features, 'activation': 'linear',
                                       'use_bias': m.bias is not None}, [v.layer])
        self.weights.append((f'{name}/kernel', _f32(w.t())))
        if m.bias is not None:
            self.weights.append((f'{name}/bias', _f32(m.bias)))
        self.vals[n] = _Val(name, 'vec')

    def pool(self, n, m, v):
        is_max = isinstance(m, nn.MaxPool2d)
        kind = 'MaxPool2d' if is_max else 'AvgPool2d'
        self.require(v, ('map',), n, kind)
        k = _pair(m.kernel_size)
        s = _pair(m.stride if m.stride is not None else m.kernel_size)
        p = _pair(m.padding)
        if m.ceil_mode:
            raise ExportError(f"unsupported module '{n.target}': {kind} with ceil_mode=True")
        if is_max and _pair(m.dilation) != (1, 1):
            raise ExportError(f"unsupported module '{n.target}': MaxPool2d with dilation")
        if not is_max and getattr(m, 'divisor_override', None):
            raise ExportError(f"unsupported module '{n.target}': AvgPool2d with divisor_override")
        base = self.unique(n.target)
        src = v.layer
        if p != (0, 0):
            # Max pooling pads with -inf and AvgPool2d(count_include_pad=False) excludes the
            # padding: neither is a zero padding layer.
            if is_max or not m.count_include_pad:
                raise ExportError(f"unsupported module '{n.target}': {kind} with padding={p}"
                                  + ('' if is_max else ' and count_include_pad=False'))
            src = self.pad_layer(n, base, v, *p)
        self.add_layer('MaxPooling2D' if is_max else 'AveragePooling2D', base, {
            'pool_size': list(k), 'strides': list(s), 'padding': 'valid', 'data_format': 'channels_last',
        }, [src])
        self.vals[n] = _Val(base, 'map')


WEIGHT_DTYPES = ('float32', 'float16')


def export_module(module: nn.Module, input_shape, out_dir: str, model_name: str = 'model',
                  weight_dtype: str = 'float32') -> dict:
    """Export `module` (eval mode is set here) to `out_dir`/model.json + shards.
    weight_dtype 'float16' stores the weights as IEEE half floats (tfjs's float16 weight
    quantization, decoded to float32 on load): half the bytes, a relative rounding error of
    at most 2^-11 per weight; the computation itself stays float32.
    Returns the model.json dict. Raises ExportError for unsupported models."""
    if weight_dtype not in WEIGHT_DTYPES:
        raise ExportError(f"weight dtype must be one of {', '.join(WEIGHT_DTYPES)}, got '{weight_dtype}'")
    module = module.cpu().eval()
    gm = trace(module)
    check_supported(gm)
    dummy = torch.zeros(2, *input_shape)  # batch 2: a reshape that mixes samples shows up
    try:
        # ShapeProp prints a traceback of its own before re-raising; keep the one-line contract
        with torch.no_grad(), contextlib.redirect_stderr(io.StringIO()):
            ShapeProp(gm).propagate(dummy)
    except Exception as e:
        cause = e.__cause__ or e.__context__ or e  # ShapeProp wraps the real error
        msg = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise ExportError(f'the model fails on an input of shape {tuple(dummy.shape)}: {msg}')
    b = _Builder(gm, input_shape)
    b.convert()
    topology = {
        'class_name': 'Model',
        'config': {'name': model_name, 'layers': b.layers,
                   'input_layers': [['input', 0, 0]], 'output_layers': [[b.output_layer, 0, 0]]},
        'keras_version': KERAS_VERSION,
        'backend': 'tensor_flow.js',
    }
    if weight_dtype == 'float16':
        too_big = [name for name, arr in b.weights if np.abs(arr).max(initial=0) > np.finfo(np.float16).max]
        if too_big:
            raise ExportError(f"weight '{too_big[0]}' exceeds the float16 range (65504); export as float32")
        data = b''.join(arr.astype('<f2').tobytes() for _, arr in b.weights)
    else:
        data = b''.join(arr.astype('<f4').tobytes() for _, arr in b.weights)
    n_shards = max(1, math.ceil(len(data) / SHARD_BYTES))
    paths = [f'group1-shard{i + 1}of{n_shards}.bin' for i in range(n_shards)]
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):  # stale shards from an earlier export with another count
        if f.startswith('group1-shard') and f.endswith('.bin') and f not in paths:
            os.remove(os.path.join(out_dir, f))
    for i, p in enumerate(paths):
        with open(os.path.join(out_dir, p), 'wb') as fh:
            fh.write(data[i * SHARD_BYTES:(i + 1) * SHARD_BYTES])
    model_json = {
        'format': 'layers-model',
        'generatedBy': f'layerwise tools/zoo/export.py (torch {torch.__version__})',
        'convertedBy': None,
        'modelTopology': topology,
        'weightsManifest': [{
            'paths': paths,
            'weights': [{'name': name, 'shape': list(arr.shape), 'dtype': 'float32',
                         **({'quantization': {'dtype': 'float16', 'original_dtype': 'float32'}}
                            if weight_dtype == 'float16' else {})} for name, arr in b.weights],
        }],
    }
    with open(os.path.join(out_dir, 'model.json'), 'w') as fh:
        json.dump(model_json, fh)
    return model_json


# ---------------------------------------------------------------------------------
# CLI


def load_state_dict(path: str) -> dict:
    obj = torch.load(path, map_location='cpu')
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        for key in ('model', 'state_dict', 'model_state_dict'):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise ExportError(f'{path}: expected a state dict, got {type(obj).__name__}')
    if obj and all(k.startswith('module.') for k in obj):  # saved from DataParallel
        obj = {k[len('module.'):]: v for k, v in obj.items()}
    return obj


def load_user_module(spec: str) -> nn.Module:
    if ':' not in spec:
        raise ExportError(f"--module must look like path/to/file.py:ClassName, got '{spec}'")
    file, attr = spec.rsplit(':', 1)
    if not os.path.isfile(file):
        raise ExportError(f'--module: no such file {file}')
    sys.path.insert(0, os.path.dirname(os.path.abspath(file)))
    s = importlib.util.spec_from_file_location('user_model', file)
    mod = importlib.util.module_from_spec(s)
    try:
        s.loader.exec_module(mod)
    except Exception as e:
        raise ExportError(f'--module: importing {file} failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}')
    if not hasattr(mod, attr):
        raise ExportError(f'--module: {file} has no attribute {attr}')
    try:
        m = getattr(mod, attr)()
    except Exception as e:
        raise ExportError(f'--module: {attr}() failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}')
    if not isinstance(m, nn.Module):
        raise ExportError(f'--module: {spec}() returned {type(m).__name__}, not an nn.Module')
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument('--arch', help='a zoo architecture from models.py')
    src.add_argument('--module', help='file.py:ClassName (a no-argument callable returning an nn.Module)')
    ap.add_argument('--checkpoint', help='zoo checkpoint or state dict (with --arch)')
    ap.add_argument('--state-dict', help='state dict file (with --module); omitted = random init')
    ap.add_argument('--input-shape', help='C,H,W (required with --module)')
    ap.add_argument('--name', default=None, help='model name stored in model.json')
    ap.add_argument('--out', required=True, help='output folder')
    ap.add_argument('--weights-dtype', choices=WEIGHT_DTYPES, default='float32',
                    help='how the shards store weights (float16: half the size)')
    args = ap.parse_args(argv)
    try:
        if args.arch:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            import models
            module = models.build(args.arch)
            shape = models.input_shape(args.arch)
            weights = args.checkpoint or args.state_dict
        else:
            if not args.input_shape:
                raise ExportError('--input-shape C,H,W is required with --module')
            module = load_user_module(args.module)
            weights = args.state_dict or args.checkpoint
        if args.input_shape:
            shape = tuple(int(s) for s in args.input_shape.split(','))
        if weights:
            try:
                module.load_state_dict(load_state_dict(weights))
            except RuntimeError as e:
                lines = [l.strip() for l in str(e).splitlines() if l.strip()]
                raise ExportError(f'{weights} does not fit the model: ' + ' '.join(lines[:2])[:300])
        mj = export_module(module, shape, args.out, args.name or os.path.basename(os.path.normpath(args.out)),
                           args.weights_dtype)
    except ExportError as e:
        print(f'export.py: error: {e}', file=sys.stderr)
        return 2
    n_weights = sum(int(np.prod(w['shape'])) for w in mj['weightsManifest'][0]['weights'])
    print(f"wrote {args.out}/model.json: {len(mj['modelTopology']['config']['layers'])} layers, "
          f"{n_weights} weights, {len(mj['weightsManifest'][0]['paths'])} shard(s)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
