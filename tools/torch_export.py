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
blocks, bf16 weights, and how the parity test checks the runtime. This file
maps PyTorch layers onto ops and layouts; tools/spw_writer.py writes the
file itself (FlatBuffer, aligned buffers, block-sparse and bf16 encodings).
"""
import argparse
import copy
import dataclasses
import importlib
import importlib.util
import os
import sys
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

# Next to this file (sys.path[0] for a script). Re-exported as before the split.
from spw_writer import (  # noqa: E402,F401
    ExportError, SpwWriter, bf16_round, block_sparse_bytes, expand_mask, prune_mask)

# A Flatten -> (no Linear) reorder is a permutation FullyConnected: dense up
# to this many features, block-sparse (one block per column) above.
_DENSE_REORDER_MAX = 1024


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
            w = w * expand_mask(mask, w.shape[0])
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
