#!/usr/bin/python3
"""Writes the committed .npy files of testdata/npy/ with NumPy itself.

    /usr/bin/python3 testdata/npy/make_npy.py   # from the repository root

Two kinds of files (README.md lists them):
- format cases for //tools:npy_test, written by numpy.save and
  numpy.lib.format, so the reader is checked against NumPy's own writer;
- inputs and reference outputs of the models in testdata/models/ for
  //tools:sparrow_cli_test. The references are computed here in float64 from
  the weights the model generator (runtime/model_test_models.cc) uses,
  independently of the runtime.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def values(n, seed):
    """runtime/model_test_models.cc Values(): multiples of 1/64 in [-1, 1]."""
    s = (seed * 2654435761 + 12345) % 2**32
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        s = (s * 1664525 + 1013904223) % 2**32
        out[i] = (((s >> 8) % 129) - 64) / 64.0
    return out


def write_format_cases():
    a = (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1.0)
    np.save(path("f32_2x3.npy"), a)
    np.save(path("i32_4.npy"), np.array([3, -1, 7, 2**31 - 1], dtype=np.int32))
    np.save(path("f32_scalar.npy"), np.array(2.5, dtype=np.float32))
    np.save(path("f32_0x3.npy"), np.zeros((0, 3), dtype=np.float32))
    np.save(path("f32_rank5.npy"),
            np.arange(2 * 1 * 3 * 1 * 2, dtype=np.float32).reshape(2, 1, 3, 1, 2))
    for version in [(2, 0), (3, 0)]:
        with open(path("f32_2x3_v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, a, version=version)
    # Rejected: each names the field and value.
    np.save(path("bad_big_endian.npy"), a.astype(">f4"))
    np.save(path("bad_fortran.npy"), np.asfortranarray(a))
    np.save(path("bad_f64.npy"), a.astype(np.float64))
    np.save(path("bad_i64.npy"), np.arange(3, dtype=np.int64))
    np.save(path("bad_object.npy"), np.array([1, "x"], dtype=object),
            allow_pickle=True)
    np.save(path("bad_structured.npy"),
            np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))


def mlp(x):
    w1, b1 = values(16 * 8, 1).reshape(16, 8), values(16, 2)
    w2, b2 = values(4 * 16, 3).reshape(4, 16), values(4, 4)
    h = np.maximum(x @ w1.T + b1, 0.0)
    logits = h @ w2.T + b2
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def convnet(x):
    f = values(3 * 3 * 3 * 2, 41).reshape(3, 3, 3, 2)  # [O, KH, KW, C]
    fb = values(3, 42)
    n, h, w, c = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    conv = np.zeros((n, h, w, 3))
    for i in range(h):
        for j in range(w):
            patch = xp[:, i:i + 3, j:j + 3, :]  # [N, 3, 3, C]
            conv[:, i, j, :] = np.einsum("nhwc,ohwc->no", patch, f) + fb
    conv = np.maximum(conv, 0.0)
    pool1 = np.zeros((n, 2, 2, 3))  # max 2x2, stride 2
    for i in range(2):
        for j in range(2):
            pool1[:, i, j, :] = conv[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2, :].max(
                axis=(1, 2))
    pool2 = np.zeros_like(pool1)  # avg 3x3, stride 1, pad 1, in-image count
    for i in range(2):
        for j in range(2):
            win = pool1[:, max(i - 1, 0):i + 2, max(j - 1, 0):j + 2, :]
            pool2[:, i, j, :] = win.mean(axis=(1, 2))
    flat = pool2.reshape(n, 12)
    w, b = values(4 * 12, 43).reshape(4, 12), values(4, 44)
    logits = flat @ w.T + b
    m = logits.max(axis=-1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))


def write_model_cases():
    x = np.linspace(-1.0, 1.0, 8, dtype=np.float32).reshape(1, 8)
    np.save(path("tiny_mlp_x.npy"), x)
    np.save(path("tiny_mlp_y.npy"), mlp(x.astype(np.float64)).astype(np.float32))
    xc = (np.sin(np.arange(50, dtype=np.float64)) * 0.9).astype(np.float32)
    xc = xc.reshape(1, 5, 5, 2)
    np.save(path("tiny_convnet_x.npy"), xc)
    np.save(path("tiny_convnet_y.npy"),
            convnet(xc.astype(np.float64)).astype(np.float32))
    xg = (np.cos(np.arange(16, dtype=np.float64)) * 0.5).astype(np.float32)
    np.save(path("tiny_sparse_gru_x.npy"), xg.reshape(1, 16))


if __name__ == "__main__":
    write_format_cases()
    write_model_cases()
