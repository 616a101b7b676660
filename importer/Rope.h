//===- Rope.h - Rotary frequencies of each rope type ------------*- C++ -*-===//
//
// transformers computes `inv_freq` and `attention_scaling` once per model
// (modeling_rope_utils.py, ROPE_INIT_FUNCTIONS); so does hfq-import, and
// hfq.rotary carries the result. Supported: default, linear, llama3.
// Others (dynamic, yarn, longrope) are a clear error naming the type.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_IMPORTER_ROPE_H
#define HFQ_IMPORTER_ROPE_H

#include "importer/DecoderConfig.h"

namespace hfq::importer {

struct RopeFrequencies {
  std::vector<float> invFreq;  // head_dim / 2 entries
  double attentionScaling = 1.0;
};

/// The frequencies of `rope` for heads of `headDim`; false with `error`
/// ("/rope_parameters/rope_type: ...") for an unsupported type or
/// parameters out of range.
bool ropeFrequencies(const RopeConfig &rope, int64_t headDim,
                     RopeFrequencies &out, std::string &error);

} // namespace hfq::importer

#endif // HFQ_IMPORTER_ROPE_H
