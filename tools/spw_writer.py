"""Writes Sparrow model files (.spw): a FlatBuffer header, then the buffers.

    import spw_writer                       # tools/ on sys.path
    w = spw_writer.SpwWriter("a description")
    x = w.tensor("input", [1, 4])
    wt = w.constant("fc.weight", weights, bf16=True)           # [2, 4] float32
    y = w.tensor("output", [1, 2])
    w.op(w.s.OpType.OpType.FullyConnected, [x, wt, -1], [y],
         "FullyConnectedOptions", activation=0)
    w.inputs, w.outputs = [x], [y]
    w.write("m.spw")                        # atomic: a temporary file, renamed

The file layout follows runtime/model_builder.cc exactly (docs/FORMAT.md):
each buffer at the next 64-byte aligned offset, in the order added; dense
buffers in f32 or bf16 (round to nearest even, as kernels/bf16.h); 16x1
block-sparse buffers (block_sparse_bytes, bf16 blocks paired two to a line);
prune_mask picks blocks as BlockSparse16x1::PruneToDensity does. Nothing here
knows PyTorch: tools/torch_export.py maps layers onto these calls. The Python
schema modules come from //runtime:model_py (or bazel-bin/ after
`bazel build //runtime:model_py`, or flatc, when run as a plain script).
"""
import argparse
import atexit
import importlib
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

_ALIGN = 64  # bytes: buffers and the data section (kModelAlignment)
_FORMAT_VERSION = 1  # kModelFormatVersion


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
                "spw_writer needs Debian's python3-flatbuffers and the schema "
                "modules: use `bazel run //tools:torch_export`, or have flatc "
                f"(flatbuffers-compiler) on PATH to generate them from {fbs} ({e})") from e
    names = ("ActivationType", "BufferLayout", "DType", "GruMode", "Model",
             "OpOptions", "OpType")
    return argparse.Namespace(**{
        n: importlib.import_module("sparrow.schema." + n) for n in names})


class ExportError(ValueError):
    """The module cannot be exported; the message names the layer or field.

    Defined here because prune_mask raises it; torch_export re-exports it."""


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


def expand_mask(mask, rows):
    """Block mask [ceil(rows/16), cols] -> element mask [rows, cols]."""
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
