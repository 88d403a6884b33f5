#!/usr/bin/python3
"""Parity test of tools/torch_export.py: PyTorch vs the Sparrow runtime.

    bazel test //tools:torch_export_test
    /usr/bin/python3 tools/torch_export_test.py [--sparrow bazel-bin/tools/sparrow]

Builds random modules (MLPs, a LeNet-like convnet, GRUs, block-sparse-pruned
and bf16 variants), exports each, runs `sparrow run MODEL --input x.npy
--output y.npy` on a random input and compares with the PyTorch forward of
the export's reference module (the exact weights the file holds, so pruned
and bf16-rounded), run in float64:

    max|y - ref| <= 1e-5 * max(1, max|ref|)

Why this norm: the runtime computes in f32, so its error is relative to the
size of the sums it forms, i.e. to the scale of the output, not to each
element (a softmax entry of 1e-9 carries the absolute error of its row);
the floor of 1 makes small outputs an absolute 1e-5. An f32 implementation
with the right math lands near 1e-7..1e-6 here; a wrong layout, gate order,
padding or rounding mode is off by 1e-3 or far more. bf16 models use the
same bound: their reference uses the bf16-rounded weights, and the kernels
widen bf16 exactly, so only f32 arithmetic differs. (Against the unrounded
f32 weights a bf16 model is off by ~1e-3; the test checks only that this is
below 5e-2, to show the rounding is to nearest and not a truncation bug.)

Without torch the test prints "SKIPPED: torch not installed" and passes.
"""
import os
import subprocess
import sys
import tempfile
import unittest

_SKIP = "SKIPPED: torch not installed (tools/bootstrap --with-torch)"


def _imports_ok():
    try:
        import flatbuffers  # noqa: F401
        import numpy  # noqa: F401
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


if not _imports_ok():
    # Bazel runs the first python3 on PATH; Debian's python3-torch lives in
    # /usr/bin/python3's site-packages. Retry there once (PYTHONPATH, which
    # Bazel's stub set for the runfiles, carries over).
    debian = "/usr/bin/python3"
    if (os.path.exists(debian) and os.path.realpath(sys.executable) != os.path.realpath(debian)
            and not os.environ.get("SPARROW_TORCH_REEXEC")):
        os.environ["SPARROW_TORCH_REEXEC"] = "1"
        os.execv(debian, [debian] + sys.argv)
    print(_SKIP)
    sys.exit(0)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_export as te  # noqa: E402

_REL_TOL = 1e-5
_SPARROW = None  # the `sparrow` binary, set in main
_REPORT = []     # (case, max error, bound) for the summary


def _find_sparrow(argv):
    if "--sparrow" in argv:
        i = argv.index("--sparrow")
        path = argv[i + 1]
        del argv[i:i + 2]
        return os.path.abspath(path)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for p in (os.path.join(os.environ.get("TEST_SRCDIR", ""), "sparrow", "tools", "sparrow"),
              os.path.join(root, "bazel-bin", "tools", "sparrow")):
        if os.path.isfile(p):
            return p
    return None


def run_sparrow(model, x, repeat=1):
    """`sparrow run`: x (numpy f32, Sparrow layout) -> y (numpy f32), after
    `repeat` Invoke()s (state carries over)."""
    d = os.path.dirname(model)
    xin, yout = os.path.join(d, "x.npy"), os.path.join(d, "y.npy")
    np.save(xin, np.ascontiguousarray(x, np.float32))
    if os.path.exists(yout):
        os.remove(yout)
    p = subprocess.run([_SPARROW, "run", model, "--input", xin, "--output", yout,
                        "--repeat", str(repeat)], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"sparrow run {model} failed ({p.returncode}):\n"
                             f"{p.stdout}{p.stderr}")
    return np.load(yout)


class TmpDirCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))

    def export(self, module, shape, **kw):
        return te.export(module, shape, os.path.join(self.tmp, "m.spw"), **kw)


# ---------------------------------------------------------------- models


def mlp():
    return nn.Sequential(nn.Linear(64, 48), nn.ReLU(), nn.Linear(48, 32), nn.Tanh(),
                         nn.Linear(32, 10), nn.Softmax(dim=1))


def mlp_activations():
    return nn.Sequential(nn.Linear(24, 40), nn.Sigmoid(), nn.Linear(40, 20),
                         nn.GELU(approximate="tanh"), nn.Dropout(0.5), nn.Linear(20, 7),
                         nn.LogSoftmax(dim=-1))


def lenet():  # [1, 3, 16, 16]
    return nn.Sequential(
        nn.Conv2d(3, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),             # 6x8x8
        nn.Conv2d(6, 12, 3, stride=2, padding=1), nn.Tanh(),                   # 12x4x4
        nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),         # 12x4x4
        nn.Conv2d(12, 8, 3, dilation=2, padding=2, bias=False),                # 8x4x4
        nn.AvgPool2d(2, padding=1),                                            # 8x3x3
        nn.MaxPool2d(3, stride=2, padding=1),                                  # 8x2x2
        nn.Flatten(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10), nn.LogSoftmax(dim=1))


def conv_heads():  # [1, 2, 7, 9]: Flatten with no Linear after it
    return nn.Sequential(nn.Conv2d(2, 5, (3, 2), stride=(2, 1), padding="valid"), nn.Flatten(),
                         nn.Softmax(dim=1))


def conv_map():  # [2, 3, 6, 5]: a 4-D (NHWC) output, softmax over channels
    return nn.Sequential(nn.Conv2d(3, 4, (3, 4), padding="same"), nn.Sigmoid(),
                         nn.Softmax(dim=1))


def flatten_first():  # [1, 2, 3, 4]: Flatten of the NHWC input itself
    return nn.Sequential(nn.Flatten(), nn.Linear(24, 5), nn.Tanh())


def conv_flat_big():  # [1, 2, 20, 20]: 1600 features, a block-sparse reorder
    return nn.Sequential(nn.Conv2d(2, 4, 1), nn.Flatten())


def gru_batch_first():  # [1, 7, 12]
    return nn.Sequential(nn.GRU(12, 20, batch_first=True), nn.Linear(20, 6))


def gru_unbatched():  # [6, 10], no biases
    return nn.GRU(10, 24, bias=False)


def gru_seq_first():  # [5, 1, 9]
    return nn.Sequential(nn.GRU(9, 16), nn.Tanh())


def sparse_mlp():  # [1, 128]
    return nn.Sequential(nn.Linear(128, 96), nn.ReLU(), nn.Linear(96, 40), nn.Tanh(),
                         nn.Linear(40, 10))


def sparse_gru():  # [1, 9, 32]
    return nn.Sequential(nn.GRU(32, 48, batch_first=True), nn.Linear(48, 8))


# (name, factory, input shape, export options)
CASES = [
    ("mlp", mlp, (2, 64), {}),
    ("mlp_activations_unfused", mlp_activations, (1, 24), {"fuse": False}),
    ("lenet", lenet, (1, 3, 16, 16), {}),
    ("conv_heads", conv_heads, (1, 2, 7, 9), {}),
    ("conv_map", conv_map, (2, 3, 6, 5), {}),
    ("flatten_first", flatten_first, (1, 2, 3, 4), {}),
    ("conv_flat_big", conv_flat_big, (1, 2, 20, 20), {}),
    ("gru_batch_first", gru_batch_first, (1, 7, 12), {}),
    ("gru_unbatched_nobias", gru_unbatched, (6, 10), {}),
    ("gru_seq_first_stateful", gru_seq_first, (5, 1, 9), {"stateful_gru": True}),
    ("sparse_mlp_0.25", sparse_mlp, (1, 128), {"prune": 0.25}),
    ("sparse_mlp_balanced_0.3", sparse_mlp, (1, 128), {"prune": 0.3, "prune_balanced": True}),
    ("sparse_gru_0.3", sparse_gru, (1, 9, 32), {"prune": 0.3}),
    ("bf16_lenet", lenet, (1, 3, 16, 16), {"bf16": True}),
    ("bf16_mlp", mlp, (2, 64), {"bf16": True}),
    ("bf16_sparse_mlp_0.2", sparse_mlp, (1, 128), {"prune": 0.2, "bf16": True}),
    ("bf16_sparse_gru_0.3", sparse_gru, (1, 9, 32), {"prune": 0.3, "bf16": True}),
]


def _reference(module, x):
    with torch.no_grad():
        return te.reference_forward(copy_double(module), x.double()).numpy()


def copy_double(module):
    import copy
    return copy.deepcopy(module).double()


class ParityTest(TmpDirCase):
    def check_case(self, name, factory, shape, options):
        torch.manual_seed(sum(map(ord, name)))  # fixed per case
        module = factory()
        with torch.no_grad():  # non-trivial biases and gates
            for p in module.parameters():
                p.add_(torch.randn_like(p) * 0.1)
        r = self.export(module, shape, description=name, **options)
        x = torch.rand(shape) * 2 - 1
        ref = _reference(r.reference, x)
        y = r.from_sparrow_output(run_sparrow(r.path, r.to_sparrow_input(x)))
        self.assertEqual(y.shape, ref.shape, name)
        err = float(np.max(np.abs(y - ref)))
        bound = _REL_TOL * max(1.0, float(np.max(np.abs(ref))))
        _REPORT.append((name, err, bound))
        self.assertLessEqual(err, bound, f"{name}: ops {r.ops}")
        if options.get("bf16"):  # against the same export with f32 weights
            f32 = te.export(module, shape, os.path.join(self.tmp, "f32.spw"),
                            **dict(options, bf16=False))
            full = _reference(f32.reference, x)
            self.assertLess(float(np.max(np.abs(y - full))),
                            5e-2 * max(1.0, float(np.max(np.abs(full)))), name)
        if options.get("prune"):
            for m in r.matrices.values():
                if m["sparse"]:
                    self.assertAlmostEqual(m["density"], options["prune"], delta=0.05)

    def test_parity(self):
        for case in CASES:
            with self.subTest(case[0]):
                self.check_case(*case)


    def test_stateful_gru_continues_the_sequence(self):
        # Two Invoke()s of a stateful export on x equal PyTorch on [x, x]'s
        # second half: the state carries h over; without state it restarts.
        torch.manual_seed(5)
        module = gru_batch_first()
        x = torch.rand(1, 7, 12) * 2 - 1
        ref = _reference(module, torch.cat([x, x], dim=1))
        for stateful, want in ((True, ref[:, 7:]), (False, ref[:, :7])):
            r = self.export(module, (1, 7, 12), stateful_gru=stateful)
            y = run_sparrow(r.path, r.to_sparrow_input(x), repeat=2)
            err = float(np.max(np.abs(y - want)))
            self.assertLessEqual(err, _REL_TOL * max(1.0, float(np.max(np.abs(want)))),
                                 f"stateful={stateful}")
            _REPORT.append((f"gru_repeat2_stateful={stateful}", err, _REL_TOL))


# ---------------------------------------------------------------- the file


class FormatTest(TmpDirCase):
    """Reads the files back with the flatc modules, independently of C++."""

    def read(self, path):
        from sparrow.schema.Model import Model
        with open(path, "rb") as f:
            data = f.read()
        return data, Model.GetRootAs(data, 4)

    def test_layout_and_sparse_round_trip(self):
        torch.manual_seed(0)
        for bf16 in (False, True):
            r = self.export(sparse_gru(), (1, 9, 32), prune=0.3, bf16=bf16)
            data, m = self.read(r.path)
            self.assertEqual(data[8:12], b"SPRW")
            fb_end = 4 + int.from_bytes(data[:4], "little")
            end = -(-fb_end // 64) * 64
            weights = {"0.weight_ih": r.reference[0].weight_ih_l0,
                       "0.weight_hh": r.reference[0].weight_hh_l0,
                       "1.weight": r.reference[1].weight}
            for i in range(m.BuffersLength()):  # in order, each at the next 64
                b = m.Buffers(i)
                self.assertEqual(b.Offset(), end if i == 0 else -(-end // 64) * 64)
                end = b.Offset() + b.Size()
            self.assertEqual(end, len(data))
            for t in (m.Tensors(i) for i in range(m.TensorsLength())):
                name = t.Name().decode()
                if name in weights:
                    dense = self.decode_sparse(data, m.Buffers(t.Buffer()))
                    np.testing.assert_array_equal(dense, te._numpy(weights[name]))

    def decode_sparse(self, data, b):
        s = b.Sparse()
        self.assertEqual(b.Layout(), 1)
        base, rows, cols = b.Offset(), s.Rows(), s.Cols()
        br = (rows + 15) // 16

        def u32(off, n):
            return np.frombuffer(data, np.uint32, n, base + off)
        bo, do = u32(s.BlockOffsetsOffset(), br + 1), u32(s.DataOffsetsOffset(), br + 1)
        ci = u32(s.ColIndicesOffset(), s.NumBlocks())
        self.assertEqual(s.DataOffset() % 64, 0)
        self.assertEqual(s.DataSize(), int(do[-1]) * 64)
        self.assertEqual(s.DataOffset() + s.DataSize(), b.Size())
        out = np.zeros((br * 16, cols), np.float32)
        stream = data[base + s.DataOffset():base + s.DataOffset() + s.DataSize()]
        for i in range(br):
            line0 = int(do[i]) * 64
            for k in range(int(bo[i + 1] - bo[i])):
                c = ci[bo[i] + k]
                if s.Dtype() == 0:
                    col = np.frombuffer(stream, np.float32, 16, line0 + 64 * k)
                else:  # lane r of line k/2: low half block 2j, high half 2j+1
                    lanes = np.frombuffer(stream, np.uint32, 16, line0 + 64 * (k // 2))
                    half = (lanes >> 16) if k % 2 else (lanes & 0xFFFF)
                    col = (half.astype(np.uint32) << 16).view(np.float32)
                out[16 * i:16 * i + 16, c] = col
            self.assertEqual(int(do[i + 1] - do[i]),
                             int(bo[i + 1] - bo[i]) if s.Dtype() == 0 else
                             (int(bo[i + 1] - bo[i]) + 1) // 2)
        self.assertFalse(np.any(out[rows:]), "padding rows must be zero")
        return out[:rows]


class NumericsTest(unittest.TestCase):
    def test_bf16_round_to_nearest_even(self):
        f = np.array([1.0, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, -2.5,
                      np.inf, -np.inf, 3.4e38, np.nan], np.float32)
        bits, values = te.bf16_round(f)
        np.testing.assert_array_equal(
            bits[:8], [0x3F80, 0x3F80, 0x3F82, 0x3F81, 0xC020, 0x7F80, 0xFF80, 0x7F80])
        self.assertTrue(np.isnan(values[8]) and bits[8] & 0x0040)

    def test_prune_mask_rule(self):
        w = np.zeros((20, 3), np.float32)  # 2 block-rows x 3 columns
        w[0, 0], w[16, 1], w[3, 2], w[17, 2] = 3, 3, 2, 1
        # Norms [[9, 0, 4], [0, 9, 1]]: the 0.5 * 6 = 3 largest, tie 9/9 both in.
        np.testing.assert_array_equal(te.prune_mask(w, 0.5), [[1, 0, 1], [0, 1, 0]])
        # llround(0.25 * 6) = llround(1.5) = 2: the lower index wins the tie.
        np.testing.assert_array_equal(te.prune_mask(w, 0.25), [[1, 0, 0], [0, 1, 0]])
        # Balanced: llround(0.5 * 3) = 2 per block-row.
        np.testing.assert_array_equal(te.prune_mask(w, 0.5, balanced=True),
                                      [[1, 0, 1], [0, 1, 1]])
        self.assertEqual(te.prune_mask(w, 0.0).sum(), 0)


class ErrorTest(TmpDirCase):
    def assert_refused(self, module, shape, words, **kw):
        with self.assertRaises(te.ExportError) as c:
            self.export(module, shape, **kw)
        for word in words:
            self.assertIn(word, str(c.exception))

    def test_refusals(self):
        self.assert_refused(nn.Sequential(nn.Linear(4, 4), nn.LSTM(4, 4)), (1, 4),
                            ["layer 1", "LSTM", "not supported"])
        self.assert_refused(nn.Sequential(nn.Linear(4, 4), nn.GELU()), (1, 4),
                            ["layer 1", "GELU", "tanh"])
        self.assert_refused(nn.Conv2d(4, 4, 3, groups=2), (1, 4, 5, 5), ["groups=2"])
        self.assert_refused(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(3, 2)),
                            (1, 1, 5, 5), ["layer 1", "Flatten"])
        self.assert_refused(nn.GRU(4, 20), (3, 4), ["multiple of 16"], prune=0.5)
        self.assert_refused(nn.GRU(4, 16, num_layers=2), (3, 4), ["num_layers=2"])
        self.assert_refused(nn.GRU(4, 16, batch_first=True), (2, 3, 4), ["batch 2"])
        self.assert_refused(nn.Softmax(), (2, 4), ["dim=None"])
        self.assert_refused(nn.MaxPool2d(2, ceil_mode=True), (1, 1, 5, 5), ["ceil_mode"])

    def test_exact_gelu_opt_in(self):
        with self.assertWarns(UserWarning):
            r = self.export(nn.Sequential(nn.Linear(4, 4), nn.GELU()), (1, 4),
                            approximate_gelu=True)
        self.assertEqual(r.ops, ["FullyConnected"])


def main():
    global _SPARROW
    _SPARROW = _find_sparrow(sys.argv)
    if _SPARROW is None:
        print("no `sparrow` binary: bazel build //tools:sparrow, or pass --sparrow PATH")
        return 1
    torch.set_num_threads(1)
    prog = unittest.main(module=__name__, exit=False, verbosity=2)
    for name, err, bound in _REPORT:
        print(f"parity {name:28s} max|y-ref| = {err:.3e}  (bound {bound:.3e})")
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
