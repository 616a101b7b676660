//===- ModelOps.cpp - The model ops' CPU reference, on floats -------------===//

#include "kernels/ref/ModelOps.h"

#include "kernels/abi/Args.h"

#include <algorithm>
#include <cmath>

namespace hfq::kernels {

bool readFloatWeight(const TensorView &tensor,
                     const std::vector<int64_t> &shape, const char *name,
                     std::vector<float> &out, std::string &error) {
  if (!expectFloatView(tensor, name, shape, error))
    return false;
  out.resize(static_cast<size_t>(tensor.numel()));
  for (int64_t i = 0; i < tensor.numel(); ++i)
    out[static_cast<size_t>(i)] = tensor.at(i);
  return true;
}

bool embedding(const TensorView &table, const std::vector<int64_t> &ids,
               int64_t hidden, std::vector<float> &y, std::string &error) {
  const int64_t vocab = table.shape.empty() ? 0 : table.shape[0];
  if (table.shape.size() != 2 || table.shape[1] != hidden) {
    error = "the embedding table must be [V, " + std::to_string(hidden) +
            "], got " + shapeString(table.shape);
    return false;
  }
  if (!expectFloatView(table, "the embedding table", {vocab, hidden}, error))
    return false;
  y.assign(ids.size() * static_cast<size_t>(hidden), 0.0f);
  for (size_t t = 0; t < ids.size(); ++t) {
    if (ids[t] < 0 || ids[t] >= vocab) {
      error = "ids[" + std::to_string(t) + "] = " + std::to_string(ids[t]) +
              " is outside [0, " + std::to_string(vocab) + ")";
      return false;
    }
    for (int64_t j = 0; j < hidden; ++j)
      y[t * static_cast<size_t>(hidden) + static_cast<size_t>(j)] =
          table.at(ids[t] * hidden + j);
  }
  return true;
}

void rmsNorm(const std::vector<float> &x, int64_t rows, int64_t d, float eps,
             const std::vector<float> &w, DType act, std::vector<float> &y) {
  y.assign(x.size(), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = x.data() + r * d;
    double squares = 0.0;
    for (int64_t j = 0; j < d; ++j)
      squares += static_cast<double>(row[j]) * row[j];
    const float variance = d ? static_cast<float>(squares / double(d)) : 0.0f;
    const float inverse = 1.0f / std::sqrt(variance + eps);
    for (int64_t j = 0; j < d; ++j) {
      const float h = roundToDType(act, row[j] * inverse);
      y[static_cast<size_t>(r * d + j)] = w[static_cast<size_t>(j)] * h;
    }
  }
}

//===----------------------------------------------------------------------===//
// Args
//===----------------------------------------------------------------------===//

bool decodeRmsNormArgs(const std::vector<double> &args, float &eps,
                       std::string &error) {
  double value = 0.0;
  if (!expectArgCount(args, 1, "eps", error) ||
      !decodeNumberArg(args[0], "eps", value, error))
    return false;
  if (value < 0.0) {
    error = "eps must not be negative, got " + std::to_string(value);
    return false;
  }
  eps = static_cast<float>(value);
  return true;
}

bool decodeRotaryArgs(const std::vector<double> &args, RotaryParams &out,
                      std::string &error) {
  double scaling = 0.0;
  if (!expectArgCount(args, HFQ_ROPE_ARG_COUNT, "head_dim, attention_scaling",
                      error) ||
      !decodeIntArg(args[HFQ_ROPE_HEAD_DIM], "head_dim", 2, kIntArgMax,
                    out.headDim, error) ||
      !decodeNumberArg(args[HFQ_ROPE_ATTENTION_SCALING], "attention_scaling",
                       scaling, error))
    return false;
  if (out.headDim % 2 != 0) {
    error = "head_dim must be even, got " + std::to_string(out.headDim);
    return false;
  }
  out.attentionScaling = static_cast<float>(scaling);
  return true;
}

bool decodeAttentionArgs(const std::vector<double> &args, AttentionParams &out,
                         std::string &error) {
  double scaling = 0.0;
  if (!expectArgCount(args, HFQ_ATTN_ARG_COUNT,
                      "layer, num_heads, num_kv_heads, head_dim, scaling, "
                      "sliding_window",
                      error) ||
      !decodeIntArg(args[HFQ_ATTN_LAYER], "layer", 0, kIntArgMax, out.layer,
                    error) ||
      !decodeIntArg(args[HFQ_ATTN_NUM_HEADS], "num_heads", 1, kIntArgMax,
                    out.numHeads, error) ||
      !decodeIntArg(args[HFQ_ATTN_NUM_KV_HEADS], "num_kv_heads", 1, kIntArgMax,
                    out.numKvHeads, error) ||
      !decodeIntArg(args[HFQ_ATTN_HEAD_DIM], "head_dim", 1, kIntArgMax,
                    out.headDim, error) ||
      !decodeNumberArg(args[HFQ_ATTN_SCALING], "scaling", scaling, error) ||
      !decodeIntArg(args[HFQ_ATTN_SLIDING_WINDOW], "sliding_window", 0,
                    kIntArgMax, out.slidingWindow, error))
    return false;
  if (out.numHeads % out.numKvHeads != 0) {
    error = "num_heads (" + std::to_string(out.numHeads) +
            ") must be a multiple of num_kv_heads (" +
            std::to_string(out.numKvHeads) + ")";
    return false;
  }
  out.scaling = static_cast<float>(scaling);
  return true;
}

//===----------------------------------------------------------------------===//
// Rotary embedding
//===----------------------------------------------------------------------===//

void rotary(const std::vector<float> &x, int64_t width,
            const std::vector<int64_t> &positions,
            const std::vector<float> &invFreq, const RotaryParams &p, DType act,
            std::vector<float> &y) {
  const int64_t half = p.headDim / 2;
  y.assign(x.size(), 0.0f);
  std::vector<float> cosines(static_cast<size_t>(half)),
      sines(static_cast<size_t>(half));
  for (size_t t = 0; t < positions.size(); ++t) {
    // The second half of emb = cat(freqs, freqs) repeats the first.
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(positions[t]) * invFreq[i];
      cosines[i] = roundToDType(act, std::cos(angle) * p.attentionScaling);
      sines[i] = roundToDType(act, std::sin(angle) * p.attentionScaling);
    }
    const float *in = x.data() + t * static_cast<size_t>(width);
    float *out = y.data() + t * static_cast<size_t>(width);
    for (int64_t head = 0; head < width; head += p.headDim)
      for (int64_t i = 0; i < half; ++i) {
        const float lo = in[head + i], hi = in[head + half + i];
        // rotate_half(x) = cat(-x[D/2:], x[:D/2]).
        out[head + i] = lo * cosines[i] - hi * sines[i];
        out[head + half + i] = hi * cosines[i] + lo * sines[i];
      }
  }
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

namespace {

/// One query row of one head against the visible keys of its KV head:
/// softmax(scaling * q·k_j) over j in [first, last], then Σ p_j v_j into
/// `out` [D].
void attendOne(const float *query, int64_t first, int64_t last, int64_t kvHead,
               const std::vector<float> &keys, const std::vector<float> &values,
               const AttentionParams &p, float *out) {
  const int64_t d = p.headDim, rowStride = p.numKvHeads * d;
  std::vector<float> scores(static_cast<size_t>(last - first + 1));
  for (int64_t j = first; j <= last; ++j) {
    const float *key = keys.data() + j * rowStride + kvHead * d;
    double dot = 0.0;
    for (int64_t i = 0; i < d; ++i)
      dot += static_cast<double>(query[i]) * key[i];
    scores[j - first] = static_cast<float>(dot) * p.scaling;
  }
  // Numerically stable softmax: exp of score minus the row's maximum.
  const float top = *std::max_element(scores.begin(), scores.end());
  double total = 0.0;
  for (float &s : scores) {
    s = std::exp(s - top);
    total += s;
  }
  const float sum = static_cast<float>(total);
  std::vector<double> acc(static_cast<size_t>(d), 0.0);
  for (int64_t j = first; j <= last; ++j) {
    const float weight = scores[j - first] / sum;
    const float *value = values.data() + j * rowStride + kvHead * d;
    for (int64_t i = 0; i < d; ++i)
      acc[i] += static_cast<double>(weight) * value[i];
  }
  for (int64_t i = 0; i < d; ++i)
    out[i] = static_cast<float>(acc[i]);
}

} // namespace

void attention(const std::vector<float> &q,
               const std::vector<int64_t> &positions,
               const std::vector<float> &keys, const std::vector<float> &values,
               const AttentionParams &p, std::vector<float> &out) {
  const int64_t width = p.numHeads * p.headDim;
  const int64_t group = p.numHeads / p.numKvHeads;
  out.assign(q.size(), 0.0f);
  for (size_t t = 0; t < positions.size(); ++t) {
    const int64_t last = positions[t];
    const int64_t first = p.slidingWindow > 0
                              ? std::max<int64_t>(0, last - p.slidingWindow + 1)
                              : 0;
    for (int64_t h = 0; h < p.numHeads; ++h) {
      const size_t at =
          t * static_cast<size_t>(width) + static_cast<size_t>(h * p.headDim);
      attendOne(q.data() + at, first, last, h / group, keys, values, p,
                out.data() + at);
    }
  }
}

void siluMul(const std::vector<float> &gate, const std::vector<float> &up,
             DType act, std::vector<float> &y) {
  y.resize(gate.size());
  for (size_t i = 0; i < gate.size(); ++i) {
    const float g = gate[i];
    y[i] = roundToDType(act, g / (1.0f + std::exp(-g))) * up[i];
  }
}

void residualAdd(const std::vector<float> &a, const std::vector<float> &b,
                 DType, std::vector<float> &y) {
  y.resize(a.size());
  std::transform(a.begin(), a.end(), b.begin(), y.begin(),
                 [](float u, float v) { return u + v; });
}

} // namespace hfq::kernels
