//===- Converters.h - The per-method converters to QuantWeight --*- C++ -*-===//
//
// Private to kernels/repack: quantWeightFromCheckpoint (FromCheckpoint.cpp)
// decodes the layout args with the method's generated decoder
// (kernels/generated/MethodArgs.h) and calls the method's converter, one
// From<Method>.cpp each, beside the reference it transcribes
// (kernels/ref/<Method>.cpp). A converter validates its tensors with the
// reference's own checks wherever the reference exports them, so each
// message exists once; then it stores codes, scales and zeros instead of
// multiplying them out. The helpers below are what the converters share.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_KERNELS_REPACK_CONVERTERS_H
#define HFQ_KERNELS_REPACK_CONVERTERS_H

#include "kernels/abi/Abi.h"
#include "kernels/abi/StoredTensor.h"
#include "kernels/abi/Tensor.h"
#include "kernels/generated/MethodArgs.h"
#include "kernels/repack/QuantWeight.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hfq::kernels::repack {

/// A converter: the checkpoint tensors of one linear W [n, k] with its
/// decoded args to a QuantWeight, or false with `error`.
template <typename Args>
using Converter = bool (*)(const Args &args,
                           const std::vector<TensorView> &packed, int64_t n,
                           int64_t k, QuantWeight &out, std::string &error);

bool fromGptq(const GptqArgs &args, const std::vector<TensorView> &packed,
              int64_t n, int64_t k, QuantWeight &out, std::string &error);
bool fromAwq(const AwqArgs &args, const std::vector<TensorView> &packed,
             int64_t n, int64_t k, QuantWeight &out, std::string &error);
bool fromCompressedTensors(const CompressedTensorsArgs &args,
                           const std::vector<TensorView> &packed, int64_t n,
                           int64_t k, QuantWeight &out, std::string &error);
bool fromHqq(const HqqArgs &args, const std::vector<TensorView> &packed,
             int64_t n, int64_t k, QuantWeight &out, std::string &error);
bool fromTorchao(const TorchaoArgs &args, const std::vector<TensorView> &packed,
                 int64_t n, int64_t k, QuantWeight &out, std::string &error);
bool fromQuanto(const QuantoArgs &args, const std::vector<TensorView> &packed,
                int64_t n, int64_t k, QuantWeight &out, std::string &error);
bool fromEetq(const EetqArgs &args, const std::vector<TensorView> &packed,
              int64_t n, int64_t k, QuantWeight &out, std::string &error);
bool fromBnb8(const Bitsandbytes8bitArgs &args,
              const std::vector<TensorView> &packed, int64_t n, int64_t k,
              QuantWeight &out, std::string &error);

/// Sizes `w` for [n, k] codes and groups of `groupSize` (q zero-filled).
void allocate(QuantWeight &w, int bits, int64_t n, int64_t k, int64_t groupSize,
              ZeroKind kind);

/// Act-order indices: kept only when they differ from k / groupSize.
void setGIdx(QuantWeight &w, std::vector<int32_t> gIdx);

/// K must hold whole groups: the reference kernels accept a short last
/// group, the repacked layout does not. `why` (said in the message) is the
/// method's reason when it is another.
bool wholeGroups(int64_t k, int64_t g, std::string &error,
                 const char *why = "the reference kernel accepts a short last "
                                   "group, the W4A16 / W8A16 kernels do not");

/// The unsupported-width message shared by the methods whose other widths
/// only the reference (generic) kernel runs.
std::string genericOnly(const std::string &what);

/// The code q = v + 128 of a signed int8 element v of `view` (the Symmetric
/// 8-bit methods store their weight so).
inline uint8_t int8Code(const TensorView &view, int64_t i) {
  return static_cast<uint8_t>(static_cast<int32_t>(view.at(i)) + 128);
}

} // namespace hfq::kernels::repack

#endif // HFQ_KERNELS_REPACK_CONVERTERS_H
