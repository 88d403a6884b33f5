#!/usr/bin/python3
"""Converts a PyTorch nn.Sequential into a Sparrow model file (.spw).

    /usr/bin/python3 tools/torch_export.py --module mymodels.py:make_model \\
        --input-shape 1,784 --out m.spw [--prune 0.1] [--bf16]
    bazel run //tools:torch_export -- --module mymodels.py:make_model ...

    import torch_export                     # tools/ on sys.path
    r = torch_export.export(model, (1, 3, 32, 32), "m.spw", prune=0.25)
    y_ref = torch_export.reference_forward(r.reference, x)  # the file's weights
    x_spw = r.to_sparrow_input(x)           # 4-D inputs: NCHW -> NHWC

docs/TORCH_EXPORT.md is the reference: supported layers, the layout rules
(4-D activations are NHWC in Sparrow, so callers feed NHWC), pruning to 16x1
blocks, bf16 weights, and how the parity test checks the runtime. The file
layout follows runtime/model_builder.cc exactly (docs/FORMAT.md); the Python
schema modules come from //runtime:model_py (or bazel-bin/ after
`bazel build //runtime:model_py` when run as a plain script).
"""
import argparse
import atexit
import copy
import dataclasses
import importlib
import importlib.util
import math
import os
import shutil
import subprocess
import sys
import tempfile
import warnings



def _debian_python_fallback(modules=("flatbuffers", "numpy", "torch")):
    """Re-runs this process under /usr/bin/python3 when the first python3 on
    PATH (what Bazel's py_binary stub runs: pyenv, a venv) lacks Debian's
    python3-torch / -numpy / -flatbuffers. Returns only if they import or
    there is no other interpreter to try."""
    try:
        for m in modules:
            importlib.import_module(m)
        return
    except ImportError:
        pass
    debian = "/usr/bin/python3"
    if (os.path.exists(debian) and not os.environ.get("SPARROW_DEBIAN_PYTHON") and
            os.path.realpath(sys.executable) != os.path.realpath(debian)):
        os.environ["SPARROW_DEBIAN_PYTHON"] = "1"
        os.execv(debian, [debian, os.path.abspath(sys.argv[0])] + sys.argv[1:])


if __name__ == "__main__":
    _debian_python_fallback()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

_ALIGN = 64  # bytes: buffers and the data section (kModelAlignment)
_FORMAT_VERSION = 1  # kModelFormatVersion
# A Flatten -> (no Linear) reorder is a permutation FullyConnected: dense up
# to this many features, block-sparse (one block per column) above.
_DENSE_REORDER_MAX = 1024


def _schema():
    """The flatc-generated modules (sparrow.schema.*): from //runtime:model_py
    under Bazel, else generated from runtime/schema/model.fbs with Debian's
    flatc into a temporary directory (a plain-script run)."""
    try:
        import sparrow.schema.Model  # noqa: F401
    except ImportError:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        fbs = os.path.join(root, "runtime", "schema", "model.fbs")
        out = tempfile.mkdtemp(prefix="sparrow_schema_py.")
        atexit.register(shutil.rmtree, out, True)
        try:
            subprocess.run(["flatc", "--python", "-o", out, fbs], check=True,
                           capture_output=True)
            sys.path.insert(0, out)
            import sparrow.schema.Model  # noqa: F401,F811
        except (OSError, subprocess.CalledProcessError, ImportError) as e:
            raise ImportError(
                "torch_export needs Debian's python3-flatbuffers and the schema "
                "modules: use `bazel run //tools:torch_export`, or have flatc "
                f"(flatbuffers-compiler) on PATH to generate them from {fbs} ({e})") from e
    names = ("ActivationType", "BufferLayout", "DType", "GruMode", "Model",
             "OpOptions", "OpType")
    return argparse.Namespace(**{
        n: importlib.import_module("sparrow.schema." + n) for n in names})


class ExportError(ValueError):
    """The module cannot be exported; the message names the layer."""


# ---------------------------------------------------------------- numerics


def bf16_round(a):
    """float32 array -> (bf16 bits uint16, the rounded values as float32).

    Round to nearest even, NaN kept quiet, as kernels/bf16.h F32ToBf16Bits.
    """
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    bits = np.where(nan, (u >> 16) | 0x0040, rounded).astype(np.uint16)
    values = (bits.astype(np.uint32) << 16).view(np.float32)
    return bits, values.reshape(np.shape(a))


def _round_half_away(x):
    """C's llround for x >= 0 (Python's round() is half-to-even)."""
    i = math.floor(x)
    return i + 1 if x - i >= 0.5 else i


def prune_mask(w, density, balanced=False):
    """Block mask [ceil(rows/16), cols] of BlockSparse16x1::PruneToDensity.

    Squared L2 norm per 16x1 block, summed in double in row order as the C++
    does; keeps the llround(density * blocks) largest (balanced: the
    llround(density * cols) largest of each block-row); equal norms keep the
    lower (block-row, column) first. density is taken as a float32, as there.
    """
    w = np.asarray(w, dtype=np.float32)
    if not np.all(np.isfinite(w)):
        raise ExportError("prune: weights must be finite")
    d = float(np.float32(density))
    if not 0.0 <= d <= 1.0:
        raise ExportError(f"prune: density={density} must be in [0, 1]")
    rows, cols = w.shape
    br = (rows + 15) // 16
    padded = np.zeros((br * 16, cols), np.float64)
    padded[:rows] = w
    padded = padded.reshape(br, 16, cols)
    norm = np.zeros((br, cols), np.float64)
    for r in range(16):
        norm += padded[:, r, :] * padded[:, r, :]
    mask = np.zeros(br * cols, bool)
    if balanced:
        keep = min(cols, _round_half_away(d * cols))
        for i in range(br):
            order = np.argsort(-norm[i], kind="stable")[:keep]
            mask[i * cols + order] = True
    else:
        keep = min(br * cols, _round_half_away(d * br * cols))
        mask[np.argsort(-norm.ravel(), kind="stable")[:keep]] = True
    return mask.reshape(br, cols)


def _expand_mask(mask, rows):
    return np.repeat(mask, 16, axis=0)[:rows]


def block_sparse_bytes(w, mask, bf16):
    """The four sections of a 16x1 block-sparse buffer and their layout.

    As ModelBuilder::AddSparseBuffer: block_offsets, data_offsets,
    col_indices back to back, zero padding to 64, then the block stream
    (f32: one block per 64-byte line; bf16: two blocks per line, lane r =
    block 2j row r in the low half, block 2j+1 row r in the high half).
    """
    w = np.asarray(w, dtype=np.float32)
    rows, cols = w.shape
    br = (rows + 15) // 16
    counts = mask.sum(axis=1).astype(np.int64)
    lines = (counts + 1) // 2 if bf16 else counts
    block_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint32)
    data_offsets = np.concatenate([[0], np.cumsum(lines)]).astype(np.uint32)
    padded = np.zeros((br * 16, cols), np.float32)
    padded[:rows] = w
    cols_of, stream = [], []
    for i in range(br):
        c = np.nonzero(mask[i])[0]
        cols_of.append(c)
        blocks = np.ascontiguousarray(padded[16 * i:16 * i + 16, c].T)  # [n, 16]
        if bf16:
            bits, _ = bf16_round(blocks)
            if len(c) % 2:
                bits = np.concatenate([bits, np.zeros((1, 16), np.uint16)])
            # [pairs, 2, 16] -> [pairs, 16, 2]: per lane the low then high half.
            stream.append(bits.reshape(-1, 2, 16).transpose(0, 2, 1).tobytes())
        else:
            stream.append(blocks.tobytes())
    col_indices = (np.concatenate(cols_of) if cols_of else np.zeros(0)).astype(np.uint32)
    out = bytearray(block_offsets.tobytes())
    layout = {"rows": rows, "cols": cols, "num_blocks": int(counts.sum()),
              "block_offsets_offset": 0, "data_offsets_offset": len(out)}
    out += data_offsets.tobytes()
    layout["col_indices_offset"] = len(out)
    out += col_indices.tobytes()
    out += bytes(-len(out) % _ALIGN)
    layout["data_offset"] = len(out)
    data = b"".join(stream)
    layout["data_size"] = len(data)
    assert len(data) == int(data_offsets[-1]) * _ALIGN
    out += data
    return bytes(out), layout


# ---------------------------------------------------------------- the file


def _camel(name):
    return "".join(p.capitalize() for p in name.split("_"))


class SpwWriter:
    """Tensors, buffers and ops of one model; finish() lays out the file as
    ModelBuilder::Finish does (FlatBuffer with defaults forced, zero padding,
    each buffer at the next multiple of 64, in the order added)."""

    def __init__(self, description=""):
        self.s = _schema()
        self.description = description
        self.tensors, self.buffers, self.ops = [], [], []
        self.inputs, self.outputs = [], []

    def tensor(self, name, shape, dtype=None, buffer=-1, is_variable=False):
        dtype = self.s.DType.DType.F32 if dtype is None else dtype
        self.tensors.append(dict(name=name, shape=[int(d) for d in shape],
                                 dtype=dtype, buffer=buffer, is_variable=is_variable))
        return len(self.tensors) - 1

    def constant(self, name, values, bf16=False):
        values = np.ascontiguousarray(values, dtype=np.float32)
        DT = self.s.DType.DType
        data = bf16_round(values)[0].tobytes() if bf16 else values.tobytes()
        self.buffers.append((data, None))
        return self.tensor(name, values.shape, DT.BF16 if bf16 else DT.F32,
                           len(self.buffers) - 1)

    def sparse_constant(self, name, w, mask, bf16=False):
        data, layout = block_sparse_bytes(w, mask, bf16)
        DT = self.s.DType.DType
        layout["dtype"] = DT.BF16 if bf16 else DT.F32
        self.buffers.append((data, layout))
        return self.tensor(name, w.shape, layout["dtype"], len(self.buffers) - 1)

    def op(self, op_type, inputs, outputs, options=None, **fields):
        """options: the options table's name (e.g. "Conv2DOptions")."""
        self.ops.append((op_type, list(inputs), list(outputs), options, fields))

    def _table(self, b, table, fields):
        mod = importlib.import_module("sparrow.schema." + table)
        getattr(mod, table + "Start")(b)
        for k, v in fields.items():
            getattr(mod, table + "Add" + _camel(k))(b, v)
        return getattr(mod, table + "End")(b)

    def _ints(self, b, values):
        return b.CreateNumpyVector(np.asarray(values, dtype=np.int32))

    def _vector(self, b, start, offsets):
        start(b, len(offsets))
        for o in reversed(offsets):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    def _pack(self, offsets):
        import flatbuffers
        S = self.s
        b = flatbuffers.Builder(4096)
        b.ForceDefaults(True)  # the size must not depend on the offsets
        tensors = []
        for t in self.tensors:
            name, shape = b.CreateString(t["name"]), self._ints(b, t["shape"])
            tensors.append(self._table(b, "Tensor", dict(
                name=name, shape=shape, dtype=t["dtype"], buffer=t["buffer"],
                is_variable=t["is_variable"])))
        buffers = []
        for (data, layout), off in zip(self.buffers, offsets):
            sparse = self._table(b, "BlockSparse16x1Layout", layout) if layout else None
            kind = S.BufferLayout.BufferLayout
            fields = dict(offset=off, size=len(data),
                          layout=kind.BlockSparse16x1 if layout else kind.Dense)
            if sparse is not None:
                fields["sparse"] = sparse
            buffers.append(self._table(b, "Buffer", fields))
        ops = []
        for op_type, ins, outs, options, fields in self.ops:
            ins, outs = self._ints(b, ins), self._ints(b, outs)
            opt = self._table(b, options, fields) if options else None
            f = dict(type=op_type, inputs=ins, outputs=outs,
                     options_type=getattr(S.OpOptions.OpOptions, options) if options else 0)
            if opt is not None:
                f["options"] = opt
            ops.append(self._table(b, "Op", f))
        M = S.Model
        root = dict(
            version=_FORMAT_VERSION, description=b.CreateString(self.description),
            tensors=self._vector(b, M.ModelStartTensorsVector, tensors),
            ops=self._vector(b, M.ModelStartOpsVector, ops),
            inputs=self._ints(b, self.inputs), outputs=self._ints(b, self.outputs),
            buffers=self._vector(b, M.ModelStartBuffersVector, buffers))
        b.FinishSizePrefixed(self._table(b, "Model", root), b"SPRW")
        return bytes(b.Output())

    def finish(self):
        data_start = 0
        for _ in range(4):  # the size is value-independent: 2 passes
            offsets, end = [], data_start
            for data, _ in self.buffers:
                offsets.append(-(-end // _ALIGN) * _ALIGN)
                end = offsets[-1] + len(data)
            fb = self._pack(offsets)
            start = -(-len(fb) // _ALIGN) * _ALIGN
            if start == data_start:
                break
            data_start = start
        else:
            raise AssertionError("FlatBuffer size did not settle")
        out = bytearray(fb)
        for (data, _), off in zip(self.buffers, offsets):
            out += bytes(off - len(out))
            out += data
        return bytes(out)

    def write(self, path):
        """Atomic, as ModelBuilder::WriteFile: a temporary file, then rename."""
        tmp = f"{path}.tmp.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(self.finish())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


# ---------------------------------------------------------------- layers


def flatten_layers(module, prefix=""):
    """[(name, layer)] of nested nn.Sequential; a single layer is a chain of one."""
    if isinstance(module, nn.Sequential):
        out = []
        for name, child in module.named_children():
            out += flatten_layers(child, f"{prefix}{name}.")
        return out
    return [(prefix[:-1] if prefix else type(module).__name__.lower(), module)]


def reference_forward(module, x):
    """Runs `module` as the export reads it: a GRU inside a Sequential passes
    on its output sequence (PyTorch would pass the (output, h_n) tuple)."""
    for _, layer in flatten_layers(module):
        x = layer(x)
        if isinstance(x, tuple):
            x = x[0]
    return x


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _numpy(t):
    return t.detach().cpu().to(torch.float32).numpy().copy()


@dataclasses.dataclass
class ExportResult:
    path: str
    reference: nn.Module  # a copy of the module with the stored weights
    input_shape: list     # the Sparrow input's shape (NHWC for 4-D)
    output_shape: list
    input_nhwc: bool      # feed x.permute(0, 2, 3, 1)
    output_nhwc: bool     # the output is [N, H, W, C]
    ops: list             # op type names, in order
    matrices: dict        # weight name -> {"shape", "density", "sparse", "dtype"}

    def to_sparrow_input(self, x):
        x = np.asarray(x.detach().cpu() if torch.is_tensor(x) else x, np.float32)
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1) if self.input_nhwc else x)

    def from_sparrow_output(self, y):
        y = np.asarray(y, np.float32).reshape(self.output_shape)
        return y.transpose(0, 3, 1, 2) if self.output_nhwc else y


_ACTIVATIONS = {nn.ReLU: "Relu", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid", nn.GELU: "Gelu"}


class _Exporter:
    def __init__(self, w, prune, prune_balanced, bf16, stateful_gru, approximate_gelu):
        self.w, self.S = w, w.s
        self.prune, self.balanced, self.bf16 = prune, prune_balanced, bf16
        self.stateful_gru, self.approximate_gelu = stateful_gru, approximate_gelu
        self.matrices = {}
        # The current activation: tensor index, PyTorch shape, whether it is
        # stored NHWC, and a pending Flatten reorder (perm[j] = the PyTorch
        # feature at Sparrow position j) or None.
        self.t, self.shape, self.nhwc, self.perm = -1, None, False, None

    def sparrow_shape(self, shape=None, nhwc=None):
        shape = list(self.shape if shape is None else shape)
        nhwc = self.nhwc if nhwc is None else nhwc
        return [shape[0], shape[2], shape[3], shape[1]] if nhwc else shape

    def emit(self, op, ins, name, shape, nhwc=False, options=None, **fields):
        out = self.w.tensor(name, self.sparrow_shape(shape, nhwc))
        self.w.op(getattr(self.S.OpType.OpType, op), ins, [out], options, **fields)
        self.t, self.shape, self.nhwc = out, list(shape), nhwc
        return out

    def act_type(self, layer, name):
        if isinstance(layer, nn.GELU) and layer.approximate != "tanh":
            if not self.approximate_gelu:
                raise ExportError(
                    f"layer {name} (GELU approximate='{layer.approximate}'): the "
                    "runtime computes the tanh form only; use nn.GELU(approximate="
                    "'tanh'), or pass approximate_gelu=True (--approximate-gelu) to "
                    "export it as the tanh form (|difference| < 1e-3)")
            warnings.warn(f"{name}: exact GELU exported as the tanh form")
        return getattr(self.S.ActivationType.ActivationType, _ACTIVATIONS[type(layer)])

    def weight(self, name, w, rows_per_gate=None):
        """Prunes / rounds a [out, in] matrix; returns (stored values, mask)."""
        mask = None
        if self.prune is not None:
            if rows_per_gate is not None and rows_per_gate % 16:
                raise ExportError(
                    f"{name}: prune needs a GRU hidden_size that is a multiple of 16 "
                    f"(got {rows_per_gate}), so that each gate starts on a block-row")
            mask = prune_mask(w, self.prune, self.balanced)
            w = w * _expand_mask(mask, w.shape[0])
        if self.bf16:
            w = bf16_round(w)[1]
        return w.astype(np.float32), mask

    def add_matrix(self, name, w, mask):
        d = dict(shape=list(w.shape), sparse=mask is not None,
                 dtype="bf16" if self.bf16 else "f32",
                 density=float(mask.mean()) if mask is not None else 1.0)
        self.matrices[name] = d
        if mask is not None:
            return self.w.sparse_constant(name, w, mask, self.bf16)
        return self.w.constant(name, w, self.bf16)

    def materialize(self, name):
        """Applies a pending Flatten reorder with a permutation FullyConnected."""
        if self.perm is None:
            return
        f = len(self.perm)
        p = np.zeros((f, f), np.float32)
        p[self.perm, np.arange(f)] = 1.0  # y[perm[j]] = x[j]
        if f > _DENSE_REORDER_MAX:
            mask = np.zeros(((f + 15) // 16, f), bool)
            mask[self.perm // 16, np.arange(f)] = True
            wt = self.w.sparse_constant(name + ".weight", p, mask)
        else:
            wt = self.w.constant(name + ".weight", p)
        self.perm = None
        self.emit("FullyConnected", [self.t, wt, -1], name + ".out", self.shape,
                  options="FullyConnectedOptions", activation=0)

    def reshape(self, name, shape):
        self.emit("Reshape", [self.t], name, shape)

    def layer(self, name, layer, nxt, ref_layer):
        """Emits one layer; True when it also consumed `nxt` (a fused activation)."""
        if isinstance(layer, (nn.Identity, nn.Dropout)):
            return False
        if isinstance(layer, nn.Linear):
            if self.nhwc:
                raise ExportError(f"layer {name} (Linear) on the 4-D activation "
                                  f"{self.shape}: add nn.Flatten() before it")
            w, mask = self.weight(name + ".weight", _numpy(layer.weight))
            ref_layer.weight.data.copy_(torch.from_numpy(w))
            if self.perm is not None:  # PyTorch's (C, H, W) columns, NHWC input
                w = w[:, self.perm]
                mask = None if mask is None else mask[:, self.perm]
                self.perm = None
            wt = self.add_matrix(name + ".weight", w, mask)
            bt = (self.w.constant(name + ".bias", _numpy(layer.bias))
                  if layer.bias is not None else -1)
            act, fused = 0, nxt is not None and type(nxt[1]) in _ACTIVATIONS
            if fused:
                act = self.act_type(nxt[1], nxt[0])
            self.emit("FullyConnected", [self.t, wt, bt], name + ".out",
                      self.shape[:-1] + [layer.out_features],
                      options="FullyConnectedOptions", activation=act)
            return fused
        if self.perm is not None and not (
                type(layer) in _ACTIVATIONS or
                (isinstance(layer, (nn.Softmax, nn.LogSoftmax)) and
                 layer.dim in (1, -1))):
            # Elementwise ops and a softmax over the flattened axis commute
            # with the reorder; anything else needs PyTorch's order.
            self.materialize(name + ".reorder")
        if type(layer) in _ACTIVATIONS:
            self.emit("Activation", [self.t], name + ".out", self.shape, self.nhwc,
                      options="ActivationOptions", activation=self.act_type(layer, name))
            return False
        if isinstance(layer, (nn.Softmax, nn.LogSoftmax)):
            rank = len(self.shape)
            if layer.dim is None or not -rank <= layer.dim < rank:
                raise ExportError(f"layer {name} ({type(layer).__name__}): dim="
                                  f"{layer.dim}; give an explicit dim in [-{rank}, {rank})")
            axis = layer.dim % rank
            if self.nhwc:
                axis = [0, 3, 1, 2][axis]
            self.emit(type(layer).__name__, [self.t], name + ".out", self.shape,
                      self.nhwc, options="SoftmaxOptions", axis=axis)
            return False
        if isinstance(layer, nn.Flatten):
            rank = len(self.shape)
            start, end = layer.start_dim % rank, layer.end_dim % rank
            if start != 1 or end != rank - 1:
                raise ExportError(f"layer {name} (Flatten start_dim={layer.start_dim}, "
                                  f"end_dim={layer.end_dim}) on {self.shape}: only "
                                  "start_dim=1, end_dim=-1 is supported")
            if rank <= 2:
                return False
            flat = [self.shape[0], int(np.prod(self.shape[1:]))]
            if self.nhwc:
                _, c, h, wd = self.shape
                perm = np.arange(c * h * wd).reshape(c, h, wd).transpose(1, 2, 0).ravel()
                if not np.array_equal(perm, np.arange(c * h * wd)):
                    self.perm = perm
            self.emit("Flatten", [self.t], name + ".out", flat,
                      options="FlattenOptions", axis=1)
            return False
        if isinstance(layer, nn.Conv2d):
            return self.conv(name, layer, nxt, ref_layer)
        if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            self.pool(name, layer)
            return False
        if isinstance(layer, nn.GRU):
            self.gru(name, layer, ref_layer)
            return False
        raise ExportError(f"layer {name} ({type(layer).__name__}) is not supported; "
                          "see docs/TORCH_EXPORT.md for the supported layers")

    def need_nhwc(self, name, layer):
        if not self.nhwc:
            raise ExportError(f"layer {name} ({type(layer).__name__}) needs a 4-D "
                              f"[N, C, H, W] input, got {self.shape}")

    def conv(self, name, layer, nxt, ref_layer):
        self.need_nhwc(name, layer)
        what = f"layer {name} (Conv2d)"
        if layer.groups != 1:
            raise ExportError(f"{what}: groups={layer.groups}, only 1 is supported")
        if layer.padding_mode != "zeros":
            raise ExportError(f"{what}: padding_mode='{layer.padding_mode}', only "
                              "'zeros' is supported")
        kh, kw = layer.kernel_size
        dh, dw = layer.dilation
        if layer.padding == "valid":
            pads = (0, 0, 0, 0)
        elif layer.padding == "same":
            th, tw = dh * (kh - 1), dw * (kw - 1)  # PyTorch: the extra one at the end
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            ph, pw = _pair(layer.padding)
            pads = (ph, ph, pw, pw)
        if max(pads[:2]) > dh * (kh - 1) or max(pads[2:]) > dw * (kw - 1):
            raise ExportError(f"{what}: padding {layer.padding} exceeds the dilated "
                              "kernel minus one, which the format does not allow")
        w = _numpy(layer.weight)  # [O, C, KH, KW]
        if self.bf16:
            w = bf16_round(w)[1]
            ref_layer.weight.data.copy_(torch.from_numpy(w))
        ft = self.w.constant(name + ".weight", w.transpose(0, 2, 3, 1), self.bf16)
        self.matrices[name + ".weight"] = dict(shape=list(w.shape), sparse=False,
                                               dtype="bf16" if self.bf16 else "f32",
                                               density=1.0)
        bt = (self.w.constant(name + ".bias", _numpy(layer.bias))
              if layer.bias is not None else -1)
        act, fused = 0, nxt is not None and type(nxt[1]) in _ACTIVATIONS
        if fused:
            act = self.act_type(nxt[1], nxt[0])
        n, _, h, wd = self.shape
        sh, sw = layer.stride
        oh = (h + pads[0] + pads[1] - dh * (kh - 1) - 1) // sh + 1
        ow = (wd + pads[2] + pads[3] - dw * (kw - 1) - 1) // sw + 1
        self.emit("Conv2D", [self.t, ft, bt], name + ".out",
                  [n, layer.out_channels, oh, ow], True, options="Conv2DOptions",
                  stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw,
                  pad_top=pads[0], pad_bottom=pads[1], pad_left=pads[2],
                  pad_right=pads[3], activation=act)
        return fused

    def pool(self, name, layer):
        self.need_nhwc(name, layer)
        kind = type(layer).__name__
        what = f"layer {name} ({kind})"
        if layer.ceil_mode:
            raise ExportError(f"{what}: ceil_mode=True is not supported")
        fields = {}
        if isinstance(layer, nn.MaxPool2d):
            if _pair(layer.dilation) != (1, 1) or layer.return_indices:
                raise ExportError(f"{what}: dilation and return_indices are not supported")
        else:
            if layer.divisor_override is not None:
                raise ExportError(f"{what}: divisor_override is not supported")
            fields["count_include_pad"] = bool(layer.count_include_pad)
        kh, kw = _pair(layer.kernel_size)
        sh, sw = _pair(layer.stride if layer.stride is not None else layer.kernel_size)
        ph, pw = _pair(layer.padding)
        n, c, h, wd = self.shape
        oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
        self.emit(kind[:-2] + "2D", [self.t], name + ".out", [n, c, oh, ow], True,
                  options="Pool2DOptions", filter_h=kh, filter_w=kw, stride_h=sh,
                  stride_w=sw, pad_top=ph, pad_bottom=ph, pad_left=pw, pad_right=pw,
                  **fields)

    def gru(self, name, layer, ref_layer):
        what = f"layer {name} (GRU)"
        if self.nhwc:
            raise ExportError(f"{what} on the 4-D activation {self.shape}")
        for attr, ok in (("num_layers", 1), ("bidirectional", False),
                         ("proj_size", 0)):
            if getattr(layer, attr, ok) != ok:
                raise ExportError(f"{what}: {attr}={getattr(layer, attr)}, only "
                                  f"{ok} is supported")
        shape = self.shape
        if len(shape) == 3:
            batch = shape[0] if layer.batch_first else shape[1]
            if batch != 1:
                raise ExportError(f"{what}: batch {batch} on input {shape}; the "
                                  "runtime's Gru runs batch 1")
            steps = shape[1] if layer.batch_first else shape[0]
        elif len(shape) == 2:
            steps = shape[0]
        else:
            raise ExportError(f"{what}: input {shape}, want [T, I] or batch 1")
        h = layer.hidden_size
        if len(shape) == 3:
            self.reshape(name + ".x", [steps, shape[2]])
        ins = [self.t]
        for k in ("ih", "hh"):
            w, mask = self.weight(f"{name}.weight_{k}", _numpy(getattr(layer, f"weight_{k}_l0")), h)
            getattr(ref_layer, f"weight_{k}_l0").data.copy_(torch.from_numpy(w))
            ins.append(self.add_matrix(f"{name}.weight_{k}", w, mask))
        for k in ("ih", "hh"):
            ins.append(self.w.constant(f"{name}.bias_{k}", _numpy(getattr(layer, f"bias_{k}_l0")))
                       if layer.bias else -1)
        if self.stateful_gru:
            ins.append(self.w.tensor(name + ".h", [1, h], is_variable=True))
        self.emit("Gru", ins, name + ".out", [steps, h], options="GruOptions",
                  hidden_size=h, mode=self.S.GruMode.GruMode.FullSequence)
        if len(shape) == 3:
            self.reshape(name + ".y", [1, steps, h] if layer.batch_first else [steps, 1, h])


def export(module, example_input_shape, path, prune=None, bf16=False, description="",
           *, prune_balanced=False, stateful_gru=False, approximate_gelu=False,
           fuse=True):
    """Writes `module` (nn.Sequential, or a single supported layer) to `path`.

    example_input_shape: PyTorch's input shape (NCHW for images); the Sparrow
    input is that shape, or NHWC for 4-D. prune: density in [0, 1] for every
    Linear and GRU weight matrix (16x1 blocks by L2 norm, stored block-sparse).
    bf16: weight matrices and filters stored as bf16 (biases stay f32).
    stateful_gru: give each GRU a state tensor (h carries over between
    Invoke() calls; zero at start). fuse: fold an activation that follows a
    Linear or Conv2d into that op. Returns an ExportResult whose `reference`
    is a copy of the module holding exactly the weights the file stores.
    """
    ref = copy.deepcopy(module).eval().float()
    src = flatten_layers(module)
    dst = flatten_layers(ref)
    w = SpwWriter(description)
    e = _Exporter(w, prune, prune_balanced, bf16, stateful_gru, approximate_gelu)
    shape = [int(d) for d in example_input_shape]
    e.shape, e.nhwc = shape, len(shape) == 4
    e.t = w.tensor("input", e.sparrow_shape())
    w.inputs = [e.t]
    input_shape, input_nhwc = e.sparrow_shape(), e.nhwc
    x = torch.zeros(shape)
    i = 0
    with torch.no_grad():
        while i < len(src):
            name, layer = src[i]
            nxt = src[i + 1] if fuse and i + 1 < len(src) else None
            try:
                with warnings.catch_warnings():  # PyTorch's own notes on padding
                    warnings.simplefilter("ignore")
                    y = dst[i][1](x)
            except Exception as err:  # a shape PyTorch itself rejects
                raise ExportError(f"layer {name} ({type(layer).__name__}) fails on "
                                  f"input {list(x.shape)}: {err}") from err
            y = y[0] if isinstance(y, tuple) else y
            fused = e.layer(name, layer, nxt, dst[i][1])
            if list(y.shape) != e.shape:
                raise AssertionError(f"{name}: shape {e.shape}, PyTorch {list(y.shape)}")
            x = y
            i += 2 if fused else 1
        e.materialize("output.reorder")
    if w.tensors[e.t]["name"] != "input":
        w.tensors[e.t]["name"] = "output"
    w.outputs = [e.t]
    w.write(path)
    names = {v: k for k, v in vars(w.s.OpType.OpType).items() if isinstance(v, int)}
    return ExportResult(path=path, reference=ref, input_shape=input_shape,
                        output_shape=e.sparrow_shape(), input_nhwc=input_nhwc,
                        output_nhwc=e.nhwc, ops=[names[o[0]] for o in w.ops],
                        matrices=e.matrices)


# ---------------------------------------------------------------- command line


def _load_module(spec, cwd):
    """'path/to/file.py:attr' or 'package.module:attr' -> an nn.Module."""
    where, _, attr = spec.rpartition(":")
    if not where or not attr:
        raise SystemExit(f"--module {spec}: want FILE.py:NAME or MODULE:NAME")
    path = where if os.path.isabs(where) else os.path.join(cwd, where)
    if where.endswith(".py") or os.path.isfile(path):
        s = importlib.util.spec_from_file_location("_exported_module", path)
        if s is None or not os.path.isfile(path):
            raise SystemExit(f"--module: no such file {path}")
        mod = importlib.util.module_from_spec(s)
        sys.path.insert(0, os.path.dirname(path))
        s.loader.exec_module(mod)
    else:
        mod = importlib.import_module(where)
    obj = getattr(mod, attr)
    if isinstance(obj, nn.Module):
        return obj
    obj = obj()  # a factory function or an nn.Module class
    if not isinstance(obj, nn.Module):
        raise SystemExit(f"--module {spec} gave {type(obj).__name__}, not an nn.Module")
    return obj


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Convert a PyTorch nn.Sequential to a Sparrow model (.spw). "
        "4-D inputs become NHWC: feed the model x.permute(0, 2, 3, 1). "
        "See docs/TORCH_EXPORT.md.")
    p.add_argument("--module", required=True,
                   help="FILE.py:NAME or MODULE:NAME; NAME is an nn.Module, a "
                   "function returning one, or a class (built without arguments)")
    p.add_argument("--input-shape", required=True,
                   help="PyTorch input shape, comma-separated, e.g. 1,784 or 1,1,28,28")
    p.add_argument("--out", required=True, help="the .spw file to write")
    p.add_argument("--prune", type=float, metavar="DENSITY",
                   help="keep this fraction of 16x1 blocks of each Linear/GRU matrix")
    p.add_argument("--prune-balanced", action="store_true",
                   help="the same number of blocks in every block-row")
    p.add_argument("--bf16", action="store_true", help="store weights as bf16")
    p.add_argument("--stateful-gru", action="store_true",
                   help="GRU state carries over between Invoke() calls")
    p.add_argument("--approximate-gelu", action="store_true",
                   help="export exact GELU as the tanh form (with a warning)")
    p.add_argument("--no-fuse", action="store_true",
                   help="keep activations as separate ops")
    p.add_argument("--description", default="", help="free text stored in the file")
    p.add_argument("--seed", type=int, help="torch.manual_seed before building the module")
    a = p.parse_args(argv)
    cwd = os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd())  # bazel run
    if a.seed is not None:
        torch.manual_seed(a.seed)
    module = _load_module(a.module, cwd)
    shape = [int(s) for s in a.input_shape.split(",")]
    out = a.out if os.path.isabs(a.out) else os.path.join(cwd, a.out)
    try:
        r = export(module, shape, out, a.prune, a.bf16, a.description or a.module,
                   prune_balanced=a.prune_balanced, stateful_gru=a.stateful_gru,
                   approximate_gelu=a.approximate_gelu, fuse=not a.no_fuse)
    except ExportError as err:
        print(f"torch_export: {err}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({os.path.getsize(out)} bytes): {len(r.ops)} ops "
          f"({', '.join(r.ops)})")
    print(f"input {r.input_shape}{' (NHWC)' if r.input_nhwc else ''}, "
          f"output {r.output_shape}{' (NHWC)' if r.output_nhwc else ''}")
    for name, m in r.matrices.items():
        print(f"  {name} {m['shape']} {m['dtype']}"
              f"{' block-sparse, density %.3f' % m['density'] if m['sparse'] else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
