//===- abi-fuzzer.cpp - libFuzzer target for the kernel ABI ---------------===//
//
// Arbitrary bytes as one call of a CPU-reference entry point
// (kernels/include/hfq_kernels.h): which linear or quantize entry and
// activation type, M/N/K, each memref descriptor (sizes, offset, strides,
// null), the args (count, values: NaN, infinities, 1e300, fractions, raw
// bits) and the tensor table (rows, element type codes, ranks, sizes, data
// addresses, contents). Every args vector also goes through every generated
// decoder (kernels/generated/MethodArgs.h).
//
// An oracle recomputes in 128-bit arithmetic what the ABI must refuse
// (docs/limits.md, "The kernel ABI"): a negative size, an element count or
// byte size over 64 bits, no data behind elements, indices below the data or
// past 2^63, an unknown dtype or rank, more rows or args than the limits,
// M/N/K over int32 or N*K floats over 64 bits. Such a call must return a
// non-zero status with a message naming the kernel and leave y untouched,
// or the fuzzer traps. A well-formed call reads only buffers the fuzzer
// allocated (ASan checks that); one whose descriptors promise more memory
// than the fuzzer allocated is not made, since no ABI can check that.
// Seeds: test/fuzz/corpus/abi/ (make-seeds.py: valid GPTQ, AWQ, EETQ,
// bnb-int8 calls and the malformed ones).
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Abi.h"
#include "kernels/generated/MethodArgs.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace hfq::kernels;

using Linear32 = int32_t (*)(StridedMemRefType<float, 2> *,
                             StridedMemRefType<float, 2> *,
                             StridedMemRefType<float, 1> *,
                             StridedMemRefType<double, 1> *,
                             StridedMemRefType<int64_t, 2> *);
using Linear16 = int32_t (*)(StridedMemRefType<uint16_t, 2> *,
                             StridedMemRefType<uint16_t, 2> *,
                             StridedMemRefType<uint16_t, 1> *,
                             StridedMemRefType<double, 1> *,
                             StridedMemRefType<int64_t, 2> *);
using Quantize32 = int32_t (*)(StridedMemRefType<float, 2> *,
                               StridedMemRefType<double, 1> *,
                               StridedMemRefType<int64_t, 2> *);
using Quantize16 = int32_t (*)(StridedMemRefType<uint16_t, 2> *,
                               StridedMemRefType<double, 1> *,
                               StridedMemRefType<int64_t, 2> *);

// Every reference kernel's entry points; the quantize ones are weak, since a
// kernel whose spec has no quantizer defines none.
#define HFQ_DECLARE_ENTRIES(kernel, Args)                                      \
  extern "C" int32_t _mlir_ciface_##kernel##_f32(                              \
      StridedMemRefType<float, 2> *, StridedMemRefType<float, 2> *,            \
      StridedMemRefType<float, 1> *, StridedMemRefType<double, 1> *,           \
      StridedMemRefType<int64_t, 2> *);                                        \
  extern "C" int32_t _mlir_ciface_##kernel##_f16(                              \
      StridedMemRefType<uint16_t, 2> *, StridedMemRefType<uint16_t, 2> *,      \
      StridedMemRefType<uint16_t, 1> *, StridedMemRefType<double, 1> *,        \
      StridedMemRefType<int64_t, 2> *);                                        \
  extern "C" int32_t _mlir_ciface_##kernel##_bf16(                             \
      StridedMemRefType<uint16_t, 2> *, StridedMemRefType<uint16_t, 2> *,      \
      StridedMemRefType<uint16_t, 1> *, StridedMemRefType<double, 1> *,        \
      StridedMemRefType<int64_t, 2> *);                                        \
  extern "C" __attribute__((weak)) int32_t                                     \
      _mlir_ciface_##kernel##_quantize_f32(StridedMemRefType<float, 2> *,      \
                                           StridedMemRefType<double, 1> *,     \
                                           StridedMemRefType<int64_t, 2> *);   \
  extern "C" __attribute__((weak)) int32_t                                     \
      _mlir_ciface_##kernel##_quantize_f16(StridedMemRefType<uint16_t, 2> *,   \
                                           StridedMemRefType<double, 1> *,     \
                                           StridedMemRefType<int64_t, 2> *);   \
  extern "C" __attribute__((weak)) int32_t                                     \
      _mlir_ciface_##kernel##_quantize_bf16(StridedMemRefType<uint16_t, 2> *,  \
                                            StridedMemRefType<double, 1> *,    \
                                            StridedMemRefType<int64_t, 2> *);
HFQ_REF_KERNELS(HFQ_DECLARE_ENTRIES)

namespace {

struct Kernel {
  const char *name;
  size_t argCount;
  bool (*decode)(const std::vector<double> &, std::string &);
  Linear32 linear32;
  Linear16 linearF16, linearBf16;
  Quantize32 quantize32;
  Quantize16 quantizeF16, quantizeBf16;
};

template <typename Args>
bool decodeWith(const std::vector<double> &args, std::string &error) {
  Args out;
  return Args::decode(args, out, error);
}

#define HFQ_KERNEL_ROW(kernel, Args)                                           \
  {#kernel,                                                                    \
   Args::kCount,                                                               \
   decodeWith<Args>,                                                           \
   _mlir_ciface_##kernel##_f32,                                                \
   _mlir_ciface_##kernel##_f16,                                                \
   _mlir_ciface_##kernel##_bf16,                                               \
   _mlir_ciface_##kernel##_quantize_f32,                                       \
   _mlir_ciface_##kernel##_quantize_f16,                                       \
   _mlir_ciface_##kernel##_quantize_bf16},
const Kernel kKernels[] = {HFQ_REF_KERNELS(HFQ_KERNEL_ROW)};
constexpr size_t kKernelCount = sizeof(kKernels) / sizeof(kKernels[0]);

/// What the fuzzer allocates at most for one buffer, and the largest call it
/// runs: more would be slow, not more thorough.
constexpr int64_t kMaxBufferBytes = 1 << 16;
constexpr int64_t kMaxRunRows = 8, kMaxRunWeight = 1 << 12;

//===----------------------------------------------------------------------===//
// Reading the input
//===----------------------------------------------------------------------===//

/// Front-to-back little-endian reader; zeros once the input is used up (so
/// test/fuzz/corpus/make-seeds.py writes seeds in the same order).
class Reader {
public:
  Reader(const uint8_t *data, size_t size) : data(data), size(size) {}
  uint8_t u8() { return at < size ? data[at++] : 0; }
  int64_t i64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= uint64_t(u8()) << (8 * i);
    return static_cast<int64_t>(v);
  }
  double f64() {
    int64_t bits = i64();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  void bytes(uint8_t *out, size_t count) {
    for (size_t i = 0; i < count; ++i)
      out[i] = u8();
  }

private:
  const uint8_t *data;
  size_t size;
  size_t at = 0;
};

const int64_t kSpecialSizes[] = {
    -1,
    -2,
    int64_t(1) << 31,
    (int64_t(1) << 31) - 1,
    int64_t(1) << 32,
    int64_t(1) << 40,
    int64_t(1) << 62,
    std::numeric_limits<int64_t>::max(),
    std::numeric_limits<int64_t>::min(),
    65,
    128,
    256,
    1024,
    4096,
    3000000000,
    -(int64_t(1) << 40),
};

/// A size, offset or stride: mostly small, else special or raw.
int64_t readSize(Reader &in) {
  uint8_t sel = in.u8();
  if (sel < 0xC0)
    return sel & 0x3F;
  if (sel < 0xF0)
    return kSpecialSizes[(sel - 0xC0) % (sizeof(kSpecialSizes) / 8)];
  return in.i64();
}

const double kSpecialArgs[] = {
    std::numeric_limits<double>::quiet_NaN(),
    std::numeric_limits<double>::infinity(),
    -std::numeric_limits<double>::infinity(),
    1e300,
    -1e300,
    4.5,
    0.5,
    -0.0,
    1.58,
    128,
    256,
    1024,
    -1,
    2147483648.0,
    -2147483649.0,
    std::numeric_limits<double>::denorm_min(),
    std::numeric_limits<double>::max(),
    9007199254740993.0,
    6.0,
    448.0,
};

double readArg(Reader &in) {
  uint8_t sel = in.u8();
  if (sel < 0x80)
    return static_cast<double>(int(sel) - 0x10);
  if (sel < 0xC0)
    return kSpecialArgs[(sel - 0x80) % (sizeof(kSpecialArgs) / 8)];
  return in.f64();
}

//===----------------------------------------------------------------------===//
// The oracle
//===----------------------------------------------------------------------===//

enum class Verdict { Malformed, Backed, Unbacked };

using Wide = __int128;
const Wide kInt64Max = std::numeric_limits<int64_t>::max();

/// What the ABI must make of a descriptor over `backedBytes` real bytes at
/// `data`, in 128-bit arithmetic (no product of two int64 overflows it).
Verdict judge(const void *data, int64_t offset, const int64_t *sizes,
              const int64_t *strides, int rank, int64_t elementBytes,
              int64_t backedBytes) {
  Wide count = 1;
  for (int d = 0; d < rank; ++d)
    if (sizes[d] < 0)
      return Verdict::Malformed;
  for (int d = 0; d < rank; ++d) {
    count *= sizes[d];
    if (count > kInt64Max)
      return Verdict::Malformed;
  }
  if (count * elementBytes > kInt64Max)
    return Verdict::Malformed;
  if (count == 0)
    return Verdict::Backed;
  if (!data)
    return Verdict::Malformed;
  Wide lo = offset, hi = offset;
  for (int d = 0; d < rank; ++d) {
    Wide reach = Wide(sizes[d] - 1) * strides[d];
    (reach < 0 ? lo : hi) += reach;
  }
  if (lo < 0 || hi > kInt64Max)
    return Verdict::Malformed;
  Wide end = Wide(reinterpret_cast<uintptr_t>(data)) + (hi + 1) * elementBytes;
  if (end > Wide(std::numeric_limits<uintptr_t>::max()))
    return Verdict::Malformed;
  return (hi + 1) * elementBytes <= backedBytes ? Verdict::Backed
                                                : Verdict::Unbacked;
}

/// The verdicts of a whole call. The ABI reads the table and the args
/// while decoding, but activations and tensor data only once everything is
/// checked: a malformed call with unbacked activations is still made.
struct Verdicts {
  bool malformed = false, unbackedData = false, unbackedDecoding = false;
  void add(Verdict v, bool readWhileDecoding) {
    malformed |= v == Verdict::Malformed;
    (readWhileDecoding ? unbackedDecoding : unbackedData) |=
        v == Verdict::Unbacked;
  }
  bool runnable() const {
    return !unbackedDecoding && (malformed || !unbackedData);
  }
};

//===----------------------------------------------------------------------===//
// Building the operands
//===----------------------------------------------------------------------===//

/// A memref's owned buffer and descriptor: contiguous over `sizes` by
/// default; the input may null it, drop its data or replace its offset and
/// strides.
template <typename T, int N> struct Operand {
  std::vector<T> buffer;
  StridedMemRefType<T, N> desc{};
  bool null = false;

  void build(Reader &in, const int64_t (&sizes)[N], Verdicts &verdicts,
             T fill, bool readWhileDecoding = false, bool nullIsEmpty = false) {
    uint8_t mode = in.u8() & 7; // 0-4 contiguous, 5 raw, 6 no data, 7 null
    Wide count = 1;
    for (int d = 0; d < N; ++d) {
      desc.sizes[d] = sizes[d];
      count *= sizes[d] < 0 ? 0 : sizes[d];
      if (count > kMaxBufferBytes)
        count = kMaxBufferBytes + 1;
    }
    if (count * Wide(sizeof(T)) <= kMaxBufferBytes)
      buffer.assign(static_cast<size_t>(count), fill);
    for (size_t i = 0; i < buffer.size(); ++i)
      buffer[i] = static_cast<T>(fill + static_cast<T>(i % 7));
    // A vector's data() may be null when empty; a real call never passes
    // that with elements, and the oracle sees what is passed.
    desc.basePtr = desc.data = buffer.empty() ? &sentinel : buffer.data();
    int64_t stride = 1;
    for (int d = N; d-- > 0;) {
      desc.strides[d] = stride;
      stride *= sizes[d] > 0 && sizes[d] < (1 << 20) ? sizes[d] : 1;
    }
    if (mode == 5) {
      desc.offset = readSize(in);
      for (int d = 0; d < N; ++d)
        desc.strides[d] = readSize(in);
    }
    if (mode == 6)
      desc.basePtr = desc.data = nullptr;
    null = mode == 7;
    if (null) {
      // A null args descriptor is no arguments; any other is refused.
      verdicts.malformed |= !nullIsEmpty;
      return;
    }
    verdicts.add(judge(desc.data, desc.offset, desc.sizes, desc.strides, N,
                       sizeof(T),
                       static_cast<int64_t>(buffer.size() * sizeof(T))),
                 readWhileDecoding);
  }
  StridedMemRefType<T, N> *get() { return null ? nullptr : &desc; }

  T sentinel{};
};

/// The args descriptor: the kernel's count or another, values from the
/// input.
struct ArgsOperand {
  std::vector<double> values;
  Operand<double, 1> op;

  void build(Reader &in, size_t kernelCount, Verdicts &verdicts) {
    uint8_t sel = in.u8();
    int64_t count = sel < 0x80   ? static_cast<int64_t>(kernelCount)
                    : sel < 0xF0 ? sel & 0x3F
                                 : readSize(in);
    int64_t sizes[1] = {count};
    op.build(in, sizes, verdicts, 0.0, true, true);
    if (count > kMaxKernelArgs && !op.null)
      verdicts.malformed = true;
    for (double &v : op.buffer)
      v = readArg(in);
    if (!op.null)
      values.assign(op.buffer.begin(), op.buffer.end());
  }
};

/// The tensor table and the tensors its rows point at.
struct TableOperand {
  Operand<int64_t, 2> op;
  std::vector<std::vector<uint8_t>> tensors;

  void build(Reader &in, Verdicts &verdicts) {
    uint8_t sel = in.u8();
    int64_t rows = sel < 0xF0 ? sel % 9 : readSize(in);
    int64_t columns = in.u8() == 0xFF ? 7 : HFQ_TABLE_COLUMNS;
    int64_t sizes[2] = {rows, columns};
    op.build(in, sizes, verdicts, 0, true);
    if (columns != HFQ_TABLE_COLUMNS || rows > kMaxTableRows)
      verdicts.malformed = true;
    // Only a table of real rows has rows to fill.
    if (rows < 0 || Wide(op.buffer.size()) != Wide(rows) * columns)
      return;
    for (int64_t r = 0; r < rows; ++r)
      buildRow(in, op.buffer.data() + r * columns, verdicts);
  }

  void buildRow(Reader &in, int64_t *row, Verdicts &verdicts) {
    uint8_t dtypeSel = in.u8(), rankSel = in.u8();
    row[1] = dtypeSel < 0xF0 ? 1 + dtypeSel % 10 : in.i64();
    row[2] = rankSel < 0xF0 ? rankSel % 5 : readSize(in);
    bool known = row[1] >= HFQ_I8 && row[1] <= HFQ_I64;
    if (!known || row[2] < 0 || row[2] > HFQ_MAX_RANK) {
      verdicts.malformed = true;
      return;
    }
    const int rank = static_cast<int>(row[2]);
    for (int d = 0; d < rank; ++d)
      row[3 + d] = readSize(in);
    const int64_t elementBytes =
        row[1] == HFQ_I16 || row[1] == HFQ_F16 || row[1] == HFQ_BF16 ? 2
        : row[1] == HFQ_I32 || row[1] == HFQ_F32                     ? 4
        : row[1] == HFQ_I64                                          ? 8
                                                                     : 1;
    Wide count = 1;
    for (int d = 0; d < rank; ++d) {
      count *= row[3 + d] < 0 ? 0 : row[3 + d];
      if (count > kMaxBufferBytes)
        count = kMaxBufferBytes + 1;
    }
    std::vector<uint8_t> bytes;
    if (count * elementBytes <= kMaxBufferBytes) {
      bytes.resize(static_cast<size_t>(count * elementBytes));
      in.bytes(bytes.data(), bytes.size());
    }
    static uint8_t none;
    const void *data = bytes.empty() ? &none : bytes.data();
    switch (in.u8() & 7) {
    case 6:
      data = nullptr;
      break;
    case 7:
      data = reinterpret_cast<const void *>(uintptr_t(0) - 64);
      break;
    default:
      break;
    }
    row[0] = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
    int64_t strides[HFQ_MAX_RANK] = {0, 0, 0, 0};
    int64_t stride = 1;
    for (int d = rank; d-- > 0;) {
      strides[d] = stride;
      stride = static_cast<int64_t>(
          static_cast<uint64_t>(stride) *
          static_cast<uint64_t>(row[3 + d] > 0 ? row[3 + d] : 1));
    }
    const int64_t backed =
        data == bytes.data() ? static_cast<int64_t>(bytes.size()) : 0;
    verdicts.add(judge(data, 0, row + 3, strides, rank, elementBytes, backed),
                 false);
    tensors.push_back(std::move(bytes));
  }
};

[[noreturn]] void fail() { __builtin_trap(); }

/// The call's status and message against the oracle.
void expectOutcome(int32_t status, const char *kernel, const Verdicts &v) {
  const std::string message = hfq_kernel_last_error();
  if (status != 0 && message.rfind(std::string(kernel) + ": ", 0) != 0)
    fail(); // a failure without the kernel's message
  if (v.malformed && status == 0)
    fail(); // a malformed call accepted
}

/// A well-formed call the fuzzer does not make: the references' work grows
/// with N*K, and with N or K alone where the other is 0 (quantizing an
/// empty [2^31 - 1, 0] weight takes seconds).
bool slow(int64_t n, int64_t k, int64_t weight) {
  return n > weight || k > weight || Wide(n) * k > weight;
}

/// M, N, K as the oracle sees them: over the limits is a refusal.
bool overLimits(int64_t m, int64_t n, int64_t k) {
  if (m < 0 || n < 0 || k < 0)
    return false; // the descriptors are malformed already
  return m > kMaxKernelDim || n > kMaxKernelDim || k > kMaxKernelDim ||
         Wide(n) * k * 4 > kInt64Max;
}

template <typename T>
void runLinear(Reader &in, const Kernel &kernel,
               int32_t (*entry)(StridedMemRefType<T, 2> *,
                                StridedMemRefType<T, 2> *,
                                StridedMemRefType<T, 1> *,
                                StridedMemRefType<double, 1> *,
                                StridedMemRefType<int64_t, 2> *),
               T fill) {
  const int64_t m = readSize(in), n = readSize(in), k = readSize(in);
  const bool withBias = in.u8() & 1;
  Verdicts v;
  Operand<T, 2> y, x;
  Operand<T, 1> bias;
  y.build(in, {m, n}, v, fill);
  x.build(in, {m, k}, v, fill);
  bias.build(in, {withBias ? n : 0}, v, fill);
  ArgsOperand args;
  args.build(in, kernel.argCount, v);
  TableOperand table;
  table.build(in, v);
  std::string error;
  kernel.decode(args.values, error);
  if (overLimits(m, n, k) && m >= 0 && n >= 0 && k >= 0)
    v.malformed = true;
  if (!v.runnable())
    return;
  if (!v.malformed && (m > kMaxRunRows || slow(n, k, kMaxRunWeight)))
    return; // well-formed, but slow
  const std::vector<T> before = y.buffer;
  int32_t status =
      entry(y.get(), x.get(), bias.get(), args.op.get(), table.op.get());
  expectOutcome(status, kernel.name, v);
  if (status != 0 && y.buffer != before)
    fail(); // a failed call wrote y
}

template <typename T>
void runQuantize(Reader &in, const Kernel &kernel,
                 int32_t (*entry)(StridedMemRefType<T, 2> *,
                                  StridedMemRefType<double, 1> *,
                                  StridedMemRefType<int64_t, 2> *),
                 T fill) {
  if (!entry)
    return;
  const int64_t n = readSize(in), k = readSize(in);
  Verdicts v;
  Operand<T, 2> w;
  w.build(in, {n, k}, v, fill);
  ArgsOperand args;
  args.build(in, kernel.argCount, v);
  TableOperand table;
  table.build(in, v);
  if (overLimits(0, n, k) && n >= 0 && k >= 0)
    v.malformed = true;
  if (!v.runnable())
    return;
  if (!v.malformed && slow(n, k, kMaxRunWeight / 4))
    return;
  expectOutcome(entry(w.get(), args.op.get(), table.op.get()), kernel.name, v);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Reader in(data, size);
  const uint8_t which = in.u8();
  const Kernel &kernel = kKernels[(which >> 3) % kKernelCount];
  switch (which & 7) {
  case 0:
  case 1:
    runLinear<float>(in, kernel, kernel.linear32, 0.25f);
    break;
  case 2:
    runLinear<uint16_t>(in, kernel, kernel.linearF16, 0x3C00);
    break;
  case 3:
    runLinear<uint16_t>(in, kernel, kernel.linearBf16, 0x3F80);
    break;
  case 4:
  case 5:
    runQuantize<float>(in, kernel, kernel.quantize32, 0.25f);
    break;
  case 6:
    runQuantize<uint16_t>(in, kernel, kernel.quantizeF16, 0x3C00);
    break;
  default:
    runQuantize<uint16_t>(in, kernel, kernel.quantizeBf16, 0x3F80);
    break;
  }
  return 0;
}
