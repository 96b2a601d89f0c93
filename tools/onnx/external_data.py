#!/usr/bin/python3
"""Move an ONNX model's initializers into an external data file, per the ONNX external-data
spec (onnx/docs/ExternalData.md): each moved TensorProto loses raw_data and gets
data_location = EXTERNAL and external_data entries "location", "offset", "length".

torch 1.13 writes external data only past 2 GB and the `onnx` Python package (whose
convert_model_to_external_data does this) is not installed here, so this is the same rewrite
on protobuf's wire format, with onnx's defaults: tensors of at least 1024 bytes move, each at
an offset aligned to 4096 bytes.

    /usr/bin/python3 tools/onnx/external_data.py in.onnx out.onnx out.onnx.data
"""
import os
import sys

# onnx.proto field numbers.
MODEL_GRAPH = 7
GRAPH_INITIALIZER = 5
TENSOR_RAW_DATA = 9
TENSOR_EXTERNAL_DATA = 13
TENSOR_DATA_LOCATION = 14
ENTRY_KEY, ENTRY_VALUE = 1, 2
EXTERNAL = 1
SIZE_THRESHOLD = 1024
ALIGN = 4096


def read_varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fields(buf):
    """(field number, wire type, value bytes or int, the field's raw bytes) for each field."""
    i = 0
    while i < len(buf):
        start = i
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = read_varint(buf, i)
        elif wt == 1:
            val, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = read_varint(buf, i)
            val, i = buf[i:i + n], i + n
        elif wt == 5:
            val, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f'wire type {wt} at {start}')
        yield num, wt, val, buf[start:i]


def bytes_field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def entry(key, value):
    return bytes_field(ENTRY_KEY, key.encode()) + bytes_field(ENTRY_VALUE, value.encode())


def move_out(src, dst, data_path):
    buf = open(src, 'rb').read()
    location = os.path.basename(data_path)
    data = bytearray()

    def tensor(t):
        raw = next((v for n, wt, v, _ in fields(t) if n == TENSOR_RAW_DATA and wt == 2), None)
        if raw is None or len(raw) < SIZE_THRESHOLD:
            return t
        data.extend(b'\0' * (-len(data) % ALIGN))
        offset = len(data)
        data.extend(raw)
        kept = b''.join(r for n, _, _, r in fields(t) if n != TENSOR_RAW_DATA)
        ext = b''.join(bytes_field(TENSOR_EXTERNAL_DATA, entry(k, v)) for k, v in
                       (('location', location), ('offset', str(offset)), ('length', str(len(raw)))))
        return kept + ext + varint(TENSOR_DATA_LOCATION << 3 | 0) + varint(EXTERNAL)

    def graph(g):
        return b''.join(bytes_field(n, tensor(v)) if n == GRAPH_INITIALIZER and wt == 2 else r for n, wt, v, r in fields(g))

    out = b''.join(bytes_field(n, graph(v)) if n == MODEL_GRAPH and wt == 2 else r for n, wt, v, r in fields(buf))
    with open(dst, 'wb') as f:
        f.write(out)
    with open(data_path, 'wb') as f:
        f.write(data)


if __name__ == '__main__':
    move_out(*sys.argv[1:4])
