#!/usr/bin/python3
"""The ONNX twin of a shipped zoo model: its PyTorch architecture (tools/zoo/models.py) with the
very weights of its tfjs copy (public/models/<id>/), exported with torch.onnx.export, so the lab
can check that a model brought as ONNX gives the numbers its tfjs copy gives (issue #23).

    /usr/bin/python3 tools/onnx/zoo_twin.py <zoo-id | public/models/<id>> <out.onnx> [--opset 17] [--labels]

--labels also writes the card's class names next to the model (<out>.labels.txt), one per line.
Prints one JSON line: the architecture, input shape, parameter count and the files written.

Loading tfjs weights back into PyTorch inverts tools/zoo/export.py. The exporter moves each
tensor's entries around (convolution kernels OIHW -> HWIO, linear weights transposed, the first
linear layer after a flatten reordered from C,H,W to H,W,C, a BatchNorm1d after a flatten the
same) without changing any value. So rather than restating those rules here, where they could
drift apart, the twin asks the exporter itself: it exports the architecture with every weight
set to its own global index, and the exported model.json then says, for each tfjs weight entry,
which PyTorch entry it came from. Indices stay below 2^24, exact in float32. A re-export of the
loaded twin must reproduce the shipped weights exactly (checked before the ONNX export).
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'zoo'))
import models  # noqa: E402
from export import export_module  # noqa: E402

# Largest integer float32 holds exactly: every weight index must stay below it.
FLOAT32_EXACT_INTEGERS = 2 ** 24


class TwinError(Exception):
    """A one-line reason the twin cannot be built."""


def model_dir(spec: str) -> str:
    """A zoo id (public/models/<id>) or a folder holding model.json and card.json."""
    d = spec if os.path.isdir(spec) else os.path.join(ROOT, 'public', 'models', spec)
    if not os.path.isfile(os.path.join(d, 'model.json')):
        raise TwinError(f'{spec}: neither a zoo id nor a folder with model.json')
    if not os.path.isfile(os.path.join(d, 'card.json')):
        raise TwinError(f'{d}: no card.json, so the architecture is unknown')
    return d


def read_tfjs_weights(d: str) -> dict:
    """The weights of a tfjs layers-model as float32 arrays by name (float16 shards decoded)."""
    with open(os.path.join(d, 'model.json')) as fh:
        manifest = json.load(fh)['weightsManifest']
    out = {}
    for group in manifest:
        data = b''.join(open(os.path.join(d, p), 'rb').read() for p in group['paths'])
        offset = 0
        for w in group['weights']:
            n = int(np.prod(w['shape'], dtype=np.int64))
            half = (w.get('quantization') or {}).get('dtype') == 'float16'
            if not half and w['dtype'] != 'float32':
                raise TwinError(f"{d}: weight {w['name']} is {w['dtype']}; the zoo stores float32 or float16")
            dtype, size = ('<f2', 2) if half else ('<f4', 4)
            if offset + n * size > len(data):
                raise TwinError(f"{d}: the shards end inside weight {w['name']}")
            out[w['name']] = np.frombuffer(data, dtype=dtype, count=n, offset=offset).astype(np.float32).reshape(w['shape'])
            offset += n * size
    return out


def weight_tensors(model: nn.Module) -> list:
    """Every tensor the exporter writes: parameters and BatchNorm running statistics."""
    return [t for _, t in model.named_parameters()] + \
        [t for name, t in model.named_buffers() if name.endswith(('running_mean', 'running_var'))]


def exported_weights(model: nn.Module, input_shape, work: str) -> dict:
    export_module(model, input_shape, work, 'twin', 'float32')
    return read_tfjs_weights(work)


def load_twin(d: str, work: str):
    with open(os.path.join(d, 'card.json')) as fh:
        card = json.load(fh)
    arch = card.get('architecture')
    if arch not in models.ARCHS:
        raise TwinError(f"{d}: card.json names architecture {arch!r}, not one of {', '.join(models.ARCHS)}")
    shape = models.input_shape(arch)
    torch.manual_seed(0)
    model = models.build(arch).eval()
    tensors = weight_tensors(model)
    total = sum(t.numel() for t in tensors)
    if total >= FLOAT32_EXACT_INTEGERS:
        raise TwinError(f'{arch}: {total} weights, more than float32 indexes exactly')
    # Every entry holds its own global index; the export shows where each one goes.
    with torch.no_grad():
        start = 0
        for t in tensors:
            t.copy_(torch.arange(start, start + t.numel(), dtype=torch.float32).reshape(t.shape))
            start += t.numel()
    where = exported_weights(model, shape, os.path.join(work, 'index'))
    shipped = read_tfjs_weights(d)
    if set(where) != set(shipped):
        missing = sorted(set(where) ^ set(shipped))[0]
        raise TwinError(f'{d}: weight {missing} is in one of the shipped model and the {arch} architecture only')
    flat = np.zeros(total, dtype=np.float32)
    seen = np.zeros(total, dtype=bool)
    for name, idx in where.items():
        k = idx.reshape(-1).astype(np.int64)
        flat[k] = shipped[name].reshape(-1)
        seen[k] = True
    if not seen.all():
        raise TwinError(f'{d}: {int((~seen).sum())} PyTorch weights of {arch} have no tfjs counterpart')
    with torch.no_grad():
        start = 0
        for t in tensors:
            t.copy_(torch.from_numpy(flat[start:start + t.numel()].copy()).reshape(t.shape))
            start += t.numel()
    # The inverse is right only if exporting the twin gives back the shipped weights exactly.
    again = exported_weights(model, shape, os.path.join(work, 'again'))
    for name, arr in shipped.items():
        if not np.array_equal(again[name], arr):
            raise TwinError(f'{d}: re-exporting the twin changes weight {name}')
    return model, card, arch, shape


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('model', help='zoo id (public/models/<id>) or a folder with model.json and card.json')
    ap.add_argument('out', help='the .onnx file to write')
    ap.add_argument('--opset', type=int, default=17)
    ap.add_argument('--labels', action='store_true', help="also write the card's class names to <out>.labels.txt")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    try:
        d = model_dir(a.model)
        with tempfile.TemporaryDirectory(prefix='zoo-twin-') as work:
            model, card, arch, shape = load_twin(d, work)
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        # A dynamic batch only: the lab needs a fixed C x H x W (the importer refuses anything else).
        torch.onnx.export(model, torch.zeros(1, *shape), a.out, input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, opset_version=a.opset)
        written = [a.out]
        if a.labels:
            names = card.get('classNames') or []
            if not names:
                raise TwinError(f'{d}: card.json lists no classNames')
            labels = a.out + '.labels.txt'
            with open(labels, 'w') as fh:
                fh.write('\n'.join(names) + '\n')
            written.append(labels)
    except TwinError as e:
        print(f'zoo_twin: {e}', file=sys.stderr)
        return 2
    print(json.dumps({'model': card.get('id', a.model), 'architecture': arch, 'inputShape': list(shape),
                      'parameters': models.parameter_count(model), 'opset': a.opset, 'files': written}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
