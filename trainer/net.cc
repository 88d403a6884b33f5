// Net: forward and backward over the layers (the parser is net_spec.cc).
#include "trainer/net.h"

#include <string.h>

#include <algorithm>

#include "trainer/conv_layers.h"
#include "trainer/layers.h"

namespace sparrow {
namespace train {
namespace {

ConvGeometry ConvOf(const Layer& l, size_t batch) {
  ConvGeometry g;
  g.n = batch;
  g.h = l.in[0], g.w = l.in[1], g.c = l.in[2];
  g.kh = g.kw = l.kernel;
  g.oh = l.out[0], g.ow = l.out[1];
  g.stride_h = g.stride_w = l.stride;
  g.dilation_h = g.dilation_w = l.dilation;
  g.pad_top = g.pad_left = l.pad;
  return g;
}

PoolGeometry PoolOf(const Layer& l, size_t batch) {
  PoolGeometry p;
  p.n = batch;
  p.h = l.in[0], p.w = l.in[1], p.c = l.in[2];
  p.kh = p.kw = l.kernel;
  p.oh = l.out[0], p.ow = l.out[1];
  p.stride_h = p.stride_w = l.stride;
  p.pad_top = p.pad_left = l.pad;
  p.count_include_pad = l.include_pad;
  return p;
}

// Rows a linear layer sees: every leading position of every example.
size_t LinearRows(const Layer& l, size_t batch) {
  return batch * (NumElements(l.in) / static_cast<size_t>(l.in.back()));
}

// Dropout's per-step seed; the element index carries the example.
uint64_t DropoutSeed(uint64_t step, size_t layer) {
  return step * 0x9E3779B97F4A7C15ull + layer * 0xD1B54A32D192ED03ull + 1;
}

}  // namespace

std::vector<Param*> Net::param_ptrs() {
  std::vector<Param*> out;
  for (Param& p : params_) out.push_back(&p);
  return out;
}

size_t Net::NumParameters() const {
  size_t n = 0;
  for (const Param& p : params_) n += p.Size();
  return n;
}

std::string Net::Summary() const {
  std::string s;
  char line[160];
  for (const Layer& l : layers_) {
    size_t params = 0;
    for (int i : {l.weight, l.bias_param, l.w_hh, l.b_hh}) {
      if (i >= 0) params += params_[i].Size();
    }
    snprintf(line, sizeof(line), "  %-10s %-16s -> %-16s %8zu params\n",
             l.name.c_str(), ShapeString(l.in).c_str(),
             ShapeString(l.out).c_str(), params);
    s += line;
  }
  return s;
}

void Net::Prepare(size_t batch, NetWorkspace* ws) const {
  const size_t n = layers_.size();
  if (ws->batch == batch && ws->acts.size() == n + 1) return;
  ws->batch = batch;
  ws->acts.resize(n + 1);
  ws->dacts.resize(n + 1);
  ws->caches.resize(n);
  ws->acts[0].assign(batch * NumElements(layers_[0].in), 0.0f);
  ws->dacts[0].assign(ws->acts[0].size(), 0.0f);
  for (size_t i = 0; i < n; ++i) {
    const Layer& l = layers_[i];
    ws->acts[i + 1].assign(batch * NumElements(l.out), 0.0f);
    ws->dacts[i + 1].assign(ws->acts[i + 1].size(), 0.0f);
    LayerCache& c = ws->caches[i];
    if (l.kind == LayerKind::kConv2D) {
      c.scratch.assign(ConvScratchFloats(ConvOf(l, batch)), 0.0f);
    } else if (l.kind == LayerKind::kMaxPool2D) {
      c.i.assign(ws->acts[i + 1].size(), 0);
    } else if (l.kind == LayerKind::kGru) {
      c.gru = std::make_unique<GruCache<float>>(batch, l.in[0], l.units);
    }
  }
  ws->grads.resize(params_.size());
  for (size_t p = 0; p < params_.size(); ++p) {
    ws->grads[p].assign(params_[p].Size(), 0.0f);
  }
}

void Net::Forward(const float* x, size_t batch, NetWorkspace* ws,
                  bool training, uint64_t step, size_t first_example) const {
  Prepare(batch, ws);
  memcpy(ws->acts[0].data(), x, ws->acts[0].size() * sizeof(float));
  // The loss adds its gradient here before Backward.
  std::fill(ws->dacts.back().begin(), ws->dacts.back().end(), 0.0f);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    const float* in = ws->acts[i].data();
    float* out = ws->acts[i + 1].data();
    LayerCache& c = ws->caches[i];
    const float* w = l.weight >= 0 ? params_[l.weight].value.data() : nullptr;
    const float* b = l.bias_param >= 0 ? params_[l.bias_param].value.data() : nullptr;
    switch (l.kind) {
      case LayerKind::kLinear:
        LinearForward(out, in, w, b, LinearRows(l, batch), l.in.back(), l.units);
        break;
      case LayerKind::kConv2D:
        Conv2DForward(out, in, w, b, ConvOf(l, batch), l.units, c.scratch.data());
        break;
      case LayerKind::kMaxPool2D:
        MaxPool2DForward(out, c.i.data(), in, PoolOf(l, batch));
        break;
      case LayerKind::kAvgPool2D:
        AvgPool2DForward(out, in, PoolOf(l, batch));
        break;
      case LayerKind::kFlatten:
        memcpy(out, in, ws->acts[i].size() * sizeof(float));
        break;
      case LayerKind::kActivation:
        ActivationForward(l.act, out, in, ws->acts[i].size());
        break;
      case LayerKind::kDropout:
        if (training && l.p > 0.0f) {
          DropoutForward(out, in, ws->acts[i].size(), l.p, DropoutSeed(step, i),
                         first_example * NumElements(l.in));
        } else {
          memcpy(out, in, ws->acts[i].size() * sizeof(float));
        }
        break;
      case LayerKind::kGru: {
        const GruWeightsT<float> gw = {
            w, params_[l.w_hh].value.data(), b,
            l.b_hh >= 0 ? params_[l.b_hh].value.data() : nullptr};
        GruForward(out, c.gru.get(), in, static_cast<const float*>(nullptr), gw,
                   batch, l.in[0], l.in[1], l.units);
        break;
      }
    }
  }
}

void Net::Backward(size_t batch, NetWorkspace* ws, bool training,
                   uint64_t step, size_t first_example) const {
  HWY_ASSERT(ws->batch == batch);
  // Input gradients are needed only above the first layer with parameters
  // (a leading flatten or activation would otherwise cost a whole dX GEMM).
  size_t first_trainable = layers_.size();
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].weight >= 0) {
      first_trainable = i;
      break;
    }
  }
  for (size_t i = layers_.size(); i-- > 0;) {
    const Layer& l = layers_[i];
    const float* in = ws->acts[i].data();
    const float* out = ws->acts[i + 1].data();
    const float* dout = ws->dacts[i + 1].data();
    float* din = i > first_trainable ? ws->dacts[i].data() : nullptr;
    if (i < first_trainable) break;  // nothing below needs a gradient
    if (din != nullptr) std::fill(ws->dacts[i].begin(), ws->dacts[i].end(), 0.0f);
    LayerCache& c = ws->caches[i];
    const float* w = l.weight >= 0 ? params_[l.weight].value.data() : nullptr;
    float* dw = l.weight >= 0 ? ws->grads[l.weight].data() : nullptr;
    float* db = l.bias_param >= 0 ? ws->grads[l.bias_param].data() : nullptr;
    const size_t n_in = ws->acts[i].size();
    switch (l.kind) {
      case LayerKind::kLinear:
        LinearBackward(din, dw, db, dout, in, w, LinearRows(l, batch),
                       l.in.back(), l.units);
        break;
      case LayerKind::kConv2D:
        Conv2DBackward(din, dw, db, dout, in, w, ConvOf(l, batch), l.units,
                       c.scratch.data());
        break;
      case LayerKind::kMaxPool2D:
        if (din) MaxPool2DBackward(din, dout, c.i.data(), PoolOf(l, batch));
        break;
      case LayerKind::kAvgPool2D:
        if (din) AvgPool2DBackward(din, dout, PoolOf(l, batch));
        break;
      case LayerKind::kFlatten:
        if (din) {
          for (size_t k = 0; k < n_in; ++k) din[k] += dout[k];
        }
        break;
      case LayerKind::kActivation:
        if (din) ActivationBackward(l.act, din, dout, in, out, n_in);
        break;
      case LayerKind::kDropout:
        if (!din) break;
        if (training && l.p > 0.0f) {
          DropoutBackward(din, dout, n_in, l.p, DropoutSeed(step, i),
                          first_example * NumElements(l.in));
        } else {
          for (size_t k = 0; k < n_in; ++k) din[k] += dout[k];
        }
        break;
      case LayerKind::kGru: {
        const GruWeightsT<float> gw = {
            w, params_[l.w_hh].value.data(),
            l.bias_param >= 0 ? params_[l.bias_param].value.data() : nullptr,
            l.b_hh >= 0 ? params_[l.b_hh].value.data() : nullptr};
        const GruGradsT<float> gg = {dw, ws->grads[l.w_hh].data(), db,
                                     l.b_hh >= 0 ? ws->grads[l.b_hh].data() : nullptr};
        GruBackward(din, static_cast<float*>(nullptr), gg, dout, c.gru.get(), in,
                    static_cast<const float*>(nullptr), out, gw, batch, l.in[0],
                    l.in[1], l.units);
        break;
      }
    }
  }
}

void Net::AccumulateGrads(NetWorkspace* ws) {
  for (size_t p = 0; p < params_.size() && p < ws->grads.size(); ++p) {
    std::vector<float>& g = ws->grads[p];
    float* dst = params_[p].grad.data();
    for (size_t k = 0; k < g.size(); ++k) dst[k] += g[k];
    std::fill(g.begin(), g.end(), 0.0f);
  }
}

void Net::TakeGrads(NetWorkspace* ws) {
  HWY_ASSERT(ws->grads.size() == params_.size());
  for (size_t p = 0; p < params_.size(); ++p) {
    std::vector<float>& g = ws->grads[p];
    HWY_ASSERT(g.size() == params_[p].grad.size());
    g.swap(params_[p].grad);
    std::fill(g.begin(), g.end(), 0.0f);
  }
}

void Net::ZeroGrads() {
  for (Param& p : params_) p.ZeroGrad();
}

}  // namespace train
}  // namespace sparrow
