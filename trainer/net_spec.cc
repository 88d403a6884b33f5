// Net::FromSpec: the spec parser, shape inference and initialisation.
#include <math.h>
#include <stdio.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "trainer/net.h"

namespace sparrow {
namespace train {
namespace {

struct Token {
  std::string name;
  std::vector<double> args;              // positional
  std::map<std::string, double> kwargs;  // key=value
  std::string text;                      // as written, for messages
};

Status ParseValue(const std::string& tok, const std::string& s, double* out) {
  char* end = nullptr;
  const double v = strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) {
    return InvalidArgument("layer '%s': '%s' is not a number", tok.c_str(),
                           s.c_str());
  }
  *out = v;
  return OkStatus();
}

StatusOr<std::vector<Token>> Tokenize(const std::string& spec) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < spec.size()) {
    if (isspace(static_cast<unsigned char>(spec[i]))) {
      ++i;
      continue;
    }
    const size_t start = i;
    Token t;
    while (i < spec.size() && (isalnum(static_cast<unsigned char>(spec[i])) ||
                               spec[i] == '_')) {
      t.name += static_cast<char>(tolower(static_cast<unsigned char>(spec[i++])));
    }
    if (t.name.empty()) {
      return InvalidArgument("spec: unexpected '%c' at offset %zu", spec[i], i);
    }
    if (i < spec.size() && spec[i] == '(') {
      const size_t close = spec.find(')', i);
      if (close == std::string::npos) {
        return InvalidArgument("spec: layer '%s' at offset %zu has no ')'",
                               t.name.c_str(), start);
      }
      const std::string inner = spec.substr(i + 1, close - i - 1);
      t.text = spec.substr(start, close + 1 - start);
      size_t a = 0;
      while (a <= inner.size() && !inner.empty()) {
        size_t b = inner.find(',', a);
        if (b == std::string::npos) b = inner.size();
        std::string item = inner.substr(a, b - a);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        const size_t eq = item.find('=');
        double v = 0;
        if (eq == std::string::npos) {
          if (!t.kwargs.empty()) {
            return InvalidArgument("layer '%s': positional '%s' after key=value",
                                   t.text.c_str(), item.c_str());
          }
          SPARROW_RETURN_IF_ERROR(ParseValue(t.text, item, &v));
          t.args.push_back(v);
        } else {
          std::string key = item.substr(0, eq);
          key.erase(key.find_last_not_of(" \t") + 1);
          std::string value = item.substr(eq + 1);
          value.erase(0, value.find_first_not_of(" \t"));
          SPARROW_RETURN_IF_ERROR(ParseValue(t.text, value, &v));
          if (!t.kwargs.emplace(key, v).second) {
            return InvalidArgument("layer '%s': '%s' given twice",
                                   t.text.c_str(), key.c_str());
          }
        }
        a = b + 1;
      }
      i = close + 1;
    } else {
      t.text = t.name;
    }
    tokens.push_back(std::move(t));
  }
  if (tokens.empty()) return InvalidArgument("spec: no layers");
  return tokens;
}

// Reads positional argument `pos` or keyword `key` as an integer in
// [lo, hi]; `fallback` when absent and fallback >= lo.
Status Int(const Token& t, size_t pos, const char* key, int lo, int hi,
           int fallback, int* out) {
  double v;
  auto kw = t.kwargs.find(key);
  if (pos < t.args.size()) {
    v = t.args[pos];
  } else if (kw != t.kwargs.end()) {
    v = kw->second;
  } else if (fallback >= lo) {
    *out = fallback;
    return OkStatus();
  } else {
    return InvalidArgument("layer '%s': missing %s", t.text.c_str(), key);
  }
  if (v != floor(v) || v < lo || v > hi) {
    return InvalidArgument("layer '%s': %s=%g, want an integer in %d..%d",
                           t.text.c_str(), key, v, lo, hi);
  }
  *out = static_cast<int>(v);
  return OkStatus();
}

// Every key of `t` must be in `allowed`, and at most `max_pos` positionals.
Status Known(const Token& t, std::vector<std::string> allowed, size_t max_pos) {
  if (t.args.size() > max_pos) {
    return InvalidArgument("layer '%s': %zu positional arguments, want at most %zu",
                           t.text.c_str(), t.args.size(), max_pos);
  }
  for (const auto& kv : t.kwargs) {
    bool ok = false;
    for (const std::string& a : allowed) ok |= a == kv.first;
    if (!ok) {
      return InvalidArgument("layer '%s': unknown argument '%s'", t.text.c_str(),
                             kv.first.c_str());
    }
  }
  return OkStatus();
}

// SplitMix64 uniform draws in [-bound, bound]: identical on every machine.
struct Init {
  uint64_t state;
  float Uniform(float bound) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1.0p-53;  // [0, 1)
    return static_cast<float>((2.0 * u - 1.0) * bound);
  }
  void Fill(Param* p, float bound) {
    for (float& v : p->value) v = Uniform(bound);
  }
};

constexpr int kMaxDim = 1 << 20;

}  // namespace

std::string ExpandSpec(const std::string& spec) {
  if (spec == "lenet5") {
    return "conv(6,5,pad=2) relu maxpool(2) conv(16,5) relu maxpool(2) "
           "flatten linear(120) relu linear(84) relu linear(10)";
  }
  if (spec == "mlp") return "flatten linear(256) relu linear(128) relu linear(10)";
  return spec;
}

std::string ShapeString(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(s[i]);
  }
  return out + "]";
}

StatusOr<Net> Net::FromSpec(const std::string& spec_in, const Shape& input,
                            uint64_t seed) {
  const std::string spec = ExpandSpec(spec_in);
  StatusOr<std::vector<Token>> tokens = Tokenize(spec);
  SPARROW_RETURN_IF_ERROR(tokens.status());
  if (input.empty() || NumElements(input) == 0) {
    return InvalidArgument("input shape %s is empty", ShapeString(input).c_str());
  }
  Net net;
  net.spec_ = spec;
  Init init{seed};
  Shape shape = input;
  std::map<std::string, int> counts;
  for (const Token& t : *tokens) {
    Layer l;
    l.in = shape;
    const std::string& n = t.name;
    auto add_param = [&](const std::string& suffix, Shape s, bool decay) {
      net.params_.emplace_back(l.name + "." + suffix, std::move(s), decay);
      return static_cast<int>(net.params_.size() - 1);
    };
    auto need_hwc = [&]() -> Status {
      if (shape.size() != 3) {
        return InvalidArgument("layer '%s' needs an [H, W, C] input, got %s",
                               t.text.c_str(), ShapeString(shape).c_str());
      }
      return OkStatus();
    };
    if (n == "linear") {
      SPARROW_RETURN_IF_ERROR(Known(t, {"out", "bias"}, 1));
      l.kind = LayerKind::kLinear;
      SPARROW_RETURN_IF_ERROR(Int(t, 0, "out", 1, kMaxDim, -1, &l.units));
      int bias = 1;
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "bias", 0, 1, 1, &bias));
      l.bias = bias != 0;
      l.name = "fc" + std::to_string(++counts["fc"]);
      const int in = shape.back();
      l.weight = add_param("weight", {l.units, in}, true);
      const float bound = 1.0f / sqrtf(static_cast<float>(in));
      init.Fill(&net.params_[l.weight], bound);
      if (l.bias) {
        l.bias_param = add_param("bias", {l.units}, false);
        init.Fill(&net.params_[l.bias_param], bound);
      }
      shape.back() = l.units;
    } else if (n == "conv") {
      SPARROW_RETURN_IF_ERROR(Known(t, {"out", "k", "stride", "pad", "dilation", "bias"}, 2));
      SPARROW_RETURN_IF_ERROR(need_hwc());
      l.kind = LayerKind::kConv2D;
      SPARROW_RETURN_IF_ERROR(Int(t, 0, "out", 1, kMaxDim, -1, &l.units));
      SPARROW_RETURN_IF_ERROR(Int(t, 1, "k", 1, 64, -1, &l.kernel));
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "stride", 1, 64, 1, &l.stride));
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "dilation", 1, 64, 1, &l.dilation));
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "pad", 0, 64, 0, &l.pad));
      int bias = 1;
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "bias", 0, 1, 1, &bias));
      l.bias = bias != 0;
      const int span = l.dilation * (l.kernel - 1) + 1;
      if (l.pad > span - 1) {
        return InvalidArgument("layer '%s': pad=%d exceeds the kernel span - 1 (%d)",
                               t.text.c_str(), l.pad, span - 1);
      }
      const int oh = (shape[0] + 2 * l.pad - span) / l.stride + 1;
      const int ow = (shape[1] + 2 * l.pad - span) / l.stride + 1;
      if (shape[0] + 2 * l.pad < span || shape[1] + 2 * l.pad < span) {
        return InvalidArgument("layer '%s': input %s is smaller than the kernel",
                               t.text.c_str(), ShapeString(shape).c_str());
      }
      l.name = "conv" + std::to_string(++counts["conv"]);
      const int c = shape[2];
      l.weight = add_param("weight", {l.units, l.kernel, l.kernel, c}, true);
      const float bound = 1.0f / sqrtf(static_cast<float>(c * l.kernel * l.kernel));
      init.Fill(&net.params_[l.weight], bound);
      if (l.bias) {
        l.bias_param = add_param("bias", {l.units}, false);
        init.Fill(&net.params_[l.bias_param], bound);
      }
      shape = {oh, ow, l.units};
    } else if (n == "maxpool" || n == "avgpool") {
      SPARROW_RETURN_IF_ERROR(Known(t, {"k", "stride", "pad", "include_pad"}, 1));
      SPARROW_RETURN_IF_ERROR(need_hwc());
      l.kind = n == "maxpool" ? LayerKind::kMaxPool2D : LayerKind::kAvgPool2D;
      SPARROW_RETURN_IF_ERROR(Int(t, 0, "k", 1, 64, -1, &l.kernel));
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "stride", 1, 64, l.kernel, &l.stride));
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "pad", 0, l.kernel - 1, 0, &l.pad));
      int inc = 0;
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "include_pad", 0, 1, 0, &inc));
      l.include_pad = inc != 0;
      if (shape[0] + 2 * l.pad < l.kernel || shape[1] + 2 * l.pad < l.kernel) {
        return InvalidArgument("layer '%s': input %s is smaller than the window",
                               t.text.c_str(), ShapeString(shape).c_str());
      }
      l.name = n + std::to_string(++counts[n]);
      shape = {(shape[0] + 2 * l.pad - l.kernel) / l.stride + 1,
               (shape[1] + 2 * l.pad - l.kernel) / l.stride + 1, shape[2]};
    } else if (n == "flatten") {
      SPARROW_RETURN_IF_ERROR(Known(t, {}, 0));
      l.kind = LayerKind::kFlatten;
      l.name = "flatten" + std::to_string(++counts[n]);
      shape = {static_cast<int>(NumElements(shape))};
    } else if (n == "relu" || n == "tanh" || n == "sigmoid" || n == "gelu") {
      SPARROW_RETURN_IF_ERROR(Known(t, {}, 0));
      l.kind = LayerKind::kActivation;
      l.act = n == "relu" ? Activation::kRelu
              : n == "tanh" ? Activation::kTanh
              : n == "sigmoid" ? Activation::kSigmoid
                               : Activation::kGelu;
      l.name = n + std::to_string(++counts[n]);
    } else if (n == "dropout") {
      SPARROW_RETURN_IF_ERROR(Known(t, {"p"}, 1));
      l.kind = LayerKind::kDropout;
      double p = t.args.empty() ? (t.kwargs.count("p") ? t.kwargs.at("p") : -1) : t.args[0];
      if (!(p >= 0.0 && p < 1.0)) {
        return InvalidArgument("layer '%s': p=%g, want 0 <= p < 1", t.text.c_str(), p);
      }
      l.p = static_cast<float>(p);
      l.name = n + std::to_string(++counts[n]);
    } else if (n == "gru") {
      SPARROW_RETURN_IF_ERROR(Known(t, {"hidden", "bias"}, 1));
      if (shape.size() != 2) {
        return InvalidArgument("layer '%s' needs a [T, I] input, got %s",
                               t.text.c_str(), ShapeString(shape).c_str());
      }
      l.kind = LayerKind::kGru;
      SPARROW_RETURN_IF_ERROR(Int(t, 0, "hidden", 1, kMaxDim, -1, &l.units));
      int bias = 1;
      SPARROW_RETURN_IF_ERROR(Int(t, 99, "bias", 0, 1, 1, &bias));
      l.bias = bias != 0;
      l.name = "gru" + std::to_string(++counts["gru"]);
      const int h = l.units, in = shape[1];
      const float bound = 1.0f / sqrtf(static_cast<float>(h));
      l.weight = add_param("w_ih", {3 * h, in}, true);
      init.Fill(&net.params_[l.weight], bound);
      l.w_hh = add_param("w_hh", {3 * h, h}, true);
      init.Fill(&net.params_[l.w_hh], bound);
      if (l.bias) {
        l.bias_param = add_param("b_ih", {3 * h}, false);
        init.Fill(&net.params_[l.bias_param], bound);
        l.b_hh = add_param("b_hh", {3 * h}, false);
        init.Fill(&net.params_[l.b_hh], bound);
      }
      shape = {shape[0], h};
    } else {
      return InvalidArgument(
          "spec: unknown layer '%s' (linear, conv, maxpool, avgpool, flatten, "
          "relu, tanh, sigmoid, gelu, dropout, gru)",
          t.text.c_str());
    }
    for (int d : shape) {
      if (d < 1) {
        return InvalidArgument("layer '%s' makes an empty output %s",
                               t.text.c_str(), ShapeString(shape).c_str());
      }
    }
    l.out = shape;
    net.layers_.push_back(std::move(l));
  }
  return net;
}

NetBuilder& NetBuilder::Add(const std::string& layer) {
  if (!spec_.empty()) spec_ += ' ';
  spec_ += layer;
  return *this;
}

NetBuilder& NetBuilder::Linear(int out, bool bias) {
  return Add("linear(" + std::to_string(out) + (bias ? ")" : ",bias=0)"));
}

NetBuilder& NetBuilder::Conv(int out, int kernel, const ConvArgs& a) {
  return Add("conv(" + std::to_string(out) + "," + std::to_string(kernel) +
             ",stride=" + std::to_string(a.stride) +
             ",pad=" + std::to_string(a.pad) +
             ",dilation=" + std::to_string(a.dilation) +
             ",bias=" + (a.bias ? "1" : "0") + ")");
}

static std::string PoolSpec(const char* name, int kernel,
                            const NetBuilder::PoolArgs& a) {
  return std::string(name) + "(" + std::to_string(kernel) +
         ",stride=" + std::to_string(a.stride > 0 ? a.stride : kernel) +
         ",pad=" + std::to_string(a.pad) +
         (a.include_pad ? ",include_pad=1)" : ")");
}

NetBuilder& NetBuilder::MaxPool(int kernel, const PoolArgs& a) {
  return Add(PoolSpec("maxpool", kernel, a));
}

NetBuilder& NetBuilder::AvgPool(int kernel, const PoolArgs& a) {
  return Add(PoolSpec("avgpool", kernel, a));
}

NetBuilder& NetBuilder::Dropout(float p) {
  char buf[48];
  snprintf(buf, sizeof(buf), "dropout(%.9g)", p);
  return Add(buf);
}

NetBuilder& NetBuilder::Gru(int hidden, bool bias) {
  return Add("gru(" + std::to_string(hidden) + (bias ? ")" : ",bias=0)"));
}

}  // namespace train
}  // namespace sparrow
