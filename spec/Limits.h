//===- Limits.h - hfq's limits on untrusted input ---------------*- C++ -*-===//
//
// Every limit hfq puts on what it reads, in one place; docs/limits.md says
// why each value was chosen. Specs, config.json, quantization configs,
// device maps, safetensors headers and index files, model IR and kernel ABI
// descriptors all come from users or from checkpoints downloaded from the
// hub, so each is checked against these before anything recursive runs on
// it, before arithmetic that could overflow and before memory is allocated
// for it. An input over a limit is an error that names the file, the JSON
// pointer or tensor, and the limit, never a crash.
//
// Header-only and dependency-free: the kernel runtime (kernels/abi) includes
// it as well as the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_LIMITS_H
#define HFQ_SPEC_LIMITS_H

#include <cstddef>
#include <cstdint>

namespace hfq::limits {

//===--- JSON (specs, config.json, quantization configs, device maps) ----===//

/// Nesting of JSON arrays and objects (the top-level value is depth 1).
/// The deepest shipped spec or real hub config is 11 levels deep; every
/// recursive consumer (copies, dump, jsonToAttribute, the spec parser,
/// Python str()) stays far from the stack at this depth, ASan included.
inline constexpr std::size_t kMaxJsonDepth = 64;

/// Size of a JSON file read from disk: a spec, config.json, a quantization
/// config or device map given as @file, a safetensors index. The largest
/// real index (DeepSeek-V3's, 91k tensors) is 9 MB.
inline constexpr std::uint64_t kMaxJsonFileBytes = 64ull << 20;

//===--- safetensors
//--------------------------------------------------------===//

/// The JSON header of a safetensors file: safetensors' own
/// MAX_HEADER_SIZE (safetensors/src/tensor.rs).
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

/// Tensors in one safetensors header, and entries in one index's
/// weight_map. The largest public checkpoints have about 10^5.
inline constexpr std::size_t kMaxTensors = 1'000'000;

/// Rank of a tensor in a safetensors header.
inline constexpr std::size_t kMaxTensorRank = 16;

//===--- config.json
//---------------------------------------------------------===//

/// num_hidden_layers (and first_k_dense_replace): every layer becomes
/// seven or more module entries; the deepest public models have ~200.
inline constexpr std::int64_t kMaxHiddenLayers = 16384;

/// Each size field read from config.json (hidden_size,
/// intermediate_size, head counts, head dimensions, LoRA ranks,
/// vocab_size): 2^24, 64x the largest in use (vocab sizes of 262144).
inline constexpr std::int64_t kMaxConfigDim = std::int64_t(1) << 24;

/// n_routed_experts and n_shared_experts.
inline constexpr std::int64_t kMaxExperts = std::int64_t(1) << 16;

/// N and K of a linear layer derived from config.json (products such as
/// num_attention_heads * head_dim): int32, what every kernel indexes with.
inline constexpr std::int64_t kMaxLinearDim = (std::int64_t(1) << 31) - 1;

//===--- Expressions and messages ----------------------------------------===//

/// Nesting of a spec expression (parser recursion and tree height).
inline constexpr std::size_t kMaxExprDepth = 200;

/// Calls of spec-defined functions (`config.functions`) in one evaluation:
/// a function calls only earlier ones, so there is no recursion, but a chain
/// of functions each calling the one before twice doubles the work per link.
inline constexpr std::size_t kMaxFunctionCalls = 10000;

/// Functions one spec may define: their calls nest at most this deep, each
/// level an expression of at most kMaxExprDepth.
inline constexpr std::size_t kMaxFunctions = 32;

/// Input text quoted in a message (an expression, an option's value) is
/// cut to this many bytes, with "..." and the full length after it, so an
/// error stays one readable line.
inline constexpr std::size_t kMaxQuotedBytes = 200;

//===--- Model IR (hfq-opt's input)
//------------------------------------------===//

/// Nesting of brackets ((), [], {}, <>) in model IR, checked on the text
/// before MLIR's recursive-descent parser runs: MLIR's parser overflows
/// the stack near 5000 levels of nested attributes.
inline constexpr std::size_t kMaxIrNesting = 512;

} // namespace hfq::limits

#endif // HFQ_SPEC_LIMITS_H
