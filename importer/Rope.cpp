//===- Rope.cpp - Rotary frequencies of each rope type --------------------===//
//
// The arithmetic is float32's, as torch does it: inv_freq = 1 / base **
// (arange(0, dim, 2) / dim) in f32, then the rope type's adjustment.
//
//===----------------------------------------------------------------------===//

#include "importer/Rope.h"

#include <cmath>

namespace hfq::importer {

namespace {

std::vector<float> defaultInvFreq(double theta, int64_t headDim) {
  std::vector<float> out(static_cast<size_t>(headDim / 2));
  float base = static_cast<float>(theta);
  for (int64_t i = 0; i < headDim / 2; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(headDim);
    out[i] = 1.0f / std::pow(base, exponent);
  }
  return out;
}

/// transformers' _compute_llama3_parameters: low frequencies divided by
/// `factor`, high ones kept, the band between smoothly interpolated.
bool llama3(const RopeConfig &rope, std::vector<float> &invFreq,
            std::string &error) {
  if (rope.factor <= 0 || rope.originalMaxPositions <= 0 ||
      rope.highFreqFactor <= rope.lowFreqFactor || rope.lowFreqFactor <= 0) {
    error = "/rope_parameters: llama3 needs factor > 0, "
            "original_max_position_embeddings > 0 and "
            "high_freq_factor > low_freq_factor > 0";
    return false;
  }
  const float pi = 3.14159265358979323846f;
  float factor = static_cast<float>(rope.factor);
  float low = static_cast<float>(rope.lowFreqFactor);
  float high = static_cast<float>(rope.highFreqFactor);
  float oldContext = static_cast<float>(rope.originalMaxPositions);
  float lowWavelen = oldContext / low, highWavelen = oldContext / high;
  for (float &f : invFreq) {
    float wavelen = 2 * pi / f;
    float scaled = wavelen > lowWavelen ? f / factor : f;
    bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
    if (medium) {
      float smooth = (oldContext / wavelen - low) / (high - low);
      scaled = (1 - smooth) * scaled / factor + smooth * scaled;
    }
    f = scaled;
  }
  return true;
}

} // namespace

bool ropeFrequencies(const RopeConfig &rope, int64_t headDim,
                     RopeFrequencies &out, std::string &error) {
  if (!(rope.theta > 0)) {
    error = "/rope_theta: must be > 0";
    return false;
  }
  out.invFreq = defaultInvFreq(rope.theta, headDim);
  out.attentionScaling = 1.0;
  if (rope.type == "default")
    return true;
  if (rope.type == "linear") {
    if (!(rope.factor > 0)) {
      error = "/rope_parameters/factor: must be > 0";
      return false;
    }
    for (float &f : out.invFreq)
      f /= static_cast<float>(rope.factor);
    return true;
  }
  if (rope.type == "llama3")
    return llama3(rope, out.invFreq, error);
  error = "/rope_parameters/rope_type: '" + rope.type +
          "' is not supported by hfq-import (supported: default, linear, "
          "llama3)";
  return false;
}

} // namespace hfq::importer
