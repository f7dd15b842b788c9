#!/usr/bin/env python3
"""Writes the checkpoint regression inputs in Tests/CharRNNTests/Fixtures/fuzz/
(plain safetensors files that FuzzRegressionTests feeds to TensorFile.read
and Checkpoint(file:)), and the same inputs in the fuzz harness's framing
into Fuzz/corpus/tensorfile/ so that fuzzing starts from them too.
Each is the tiny stripped RNN seed with one corrupt detail.
Usage: python3 Fuzz/make-regressions.py   (from the repository root)"""
import json, struct

BASE = 'Fuzz/corpus/tensorfile/ckpt-rnn-stripped.safetensors'
OUT = 'Tests/CharRNNTests/Fixtures/fuzz/'
CORPUS = 'Fuzz/corpus/tensorfile/'

src = open(BASE, 'rb').read()
n = struct.unpack('<Q', src[:8])[0]
header = json.loads(src[8:8 + n])
data = src[8 + n:]


def write(name, header, data):
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    open(OUT + name, 'wb').write(struct.pack('<Q', len(text)) + text + data)
    open(CORPUS + 'regression-' + name.replace('.safetensors', '.framed'), 'wb').write(text.rstrip(b' ') + b'\0' + data)


def with_config(name, **changes):
    h = json.loads(json.dumps(header))
    config = json.loads(h['__metadata__']['config'])
    config.update(changes)
    h['__metadata__']['config'] = json.dumps(config, separators=(',', ':'))
    write(name, h, data)


# The base itself, which loads.
open(OUT + 'ckpt-base.safetensors', 'wb').write(src)
# Sizes that overflow the layout arithmetic (Swift traps on overflow).
with_config('ckpt-lstm-rnn-size-overflow.safetensors', model='lstm', rnn_size=2**62)
with_config('ckpt-rnn-size-overflow.safetensors', rnn_size=2**62)
with_config('ckpt-embedding-size-overflow.safetensors', embedding_size=2**62)
# Sizes that ask for a huge parameter block before any tensor is checked.
with_config('ckpt-rnn-size-huge.safetensors', rnn_size=10**9)
with_config('ckpt-num-layers-huge.safetensors', num_layers=10**9)
# Carried state whose width is not the config's rnn_size: it loaded, and
# saving the checkpoint again trapped on a shape/bytes mismatch.
h = json.loads(json.dumps(header))
h['state.h_l0'] = {'dtype': 'F32', 'shape': [1, 5], 'data_offsets': [len(data), len(data) + 20]}
write('ckpt-state-width.safetensors', h, data + bytes(20))
