//===- ModelOpsGpuTest.cpp - The CUDA model ops against the CPU reference -===//
//
// Every entry point of kernels/include/hfq_model_ops.h in
// libhfq_model_ops_cuda.so (opened with dlopen; its symbols taken from that
// handle, since the CPU reference this program links defines the same
// names), f16 and bf16, against the reference's entry point on the same
// fresh random inputs, with device-resident operands: outputs poisoned (all
// bits set: NaN) before every call, the KV cache's unwritten rows NaN, so a
// read of anything the reference does not read shows.
//
// Shapes: T in {1, 3, 17, 200}; head_dim 32, 64 and 128; GQA ratios 1, 4, 8;
// positions continuing an existing cache (0, 37 or 300 rows before), in
// reverse order once; a sliding window; a 5000-row decode (the split
// path); a prefill followed by decode steps; widths off the block size; a
// padded row stride; weights of another float dtype. Attention runs
// through both of its kernels (rows and tiles) on every case.
//
// Tolerances, per output element against the reference (ulp: of the
// activation type at the reference's value):
//   embedding, add: bit-exact (a copy, one rounded f32 sum);
//   rms_norm, silu_mul, rotary: <= 1 ulp (the same f32 operations; the
//     library functions (expf; cos / sin) may differ in a last f32 bit,
//     which can move a rounding);
//   linear: <= 1 ulp + K·2^-24·Σ|x||w| (cuBLAS's f32 sum in its own order
//     against the reference's double sum rounded once);
//   attention: <= 1 ulp + 2^-11·max|v| (f32 scores from tensor cores or
//     FMA in another order: D·2^-24·Σ|q||k|·scaling ≈ 1e-4 here, moving
//     each weight by that relatively; the f32 Σ p·v over up to 5000 keys
//     adds its own ~n·2^-24 worst case; the reference sums in double).
//     The cache after the call must equal the reference's bit for bit.
// Error paths (bad sizes, a bad arg, a misaligned cache) return non-zero
// with the kernel's name, without writing the output; device-side faults
// (an id or position out of range) are reported by
// hfq_cuda_model_ops_check with the reference's message.
//
// Without a GPU the error paths run, then it prints "SKIPPED: <reason>" and
// exits 77 (CTest's skip code). `--small` runs a reduced set (for
// compute-sanitizer), `--seed N` repeats a run, `--lib PATH` names the
// library.
//
//===----------------------------------------------------------------------===//

#include "kernels/abi/Tensor.h"
#include "kernels/cuda/ModelOps.h"
#include "kernels/include/hfq_kernels.h"
#include "kernels/ref/ModelOps.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace hfq::kernels;
using Half = uint16_t;

#ifndef HFQ_MODEL_OPS_CUDA_LIB
#define HFQ_MODEL_OPS_CUDA_LIB "libhfq_model_ops_cuda.so"
#endif

namespace {

int checks = 0, failures = 0;
bool small = false;
std::mt19937 rng;

bool report(bool ok, const std::string &what, const std::string &detail = "") {
  ++checks;
  if (!ok)
    ++failures;
  std::printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what.c_str(),
              detail.empty() ? "" : ": ", detail.c_str());
  std::fflush(stdout);
  return ok;
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

enum Act { F16 = 0, BF16 = 1 };
const char *actName(Act act) { return act == F16 ? "f16" : "bf16"; }
Half to16(Act act, float v) {
  return act == F16 ? floatToHalf(v) : floatToBf16(v);
}
float from16(Act act, Half v) {
  return act == F16 ? halfToFloat(v) : bf16ToFloat(v);
}
bool isNaN16(Act act, Half v) { return std::isnan(from16(act, v)); }

/// Distance in representable values (both finite).
int64_t ulpDistance(Half a, Half b) {
  auto ordered = [](Half v) -> int64_t {
    return (v & 0x8000) ? -int64_t(v & 0x7fff) : int64_t(v);
  };
  return std::llabs(ordered(a) - ordered(b));
}

/// One ulp of `act` at |v|.
float ulpAt(Act act, float v) {
  const int mantissa = act == F16 ? 10 : 7;
  int e = 0;
  std::frexp(std::max(std::fabs(v), act == F16 ? 6.1035156e-05f : 1e-30f), &e);
  return std::ldexp(1.0f, e - 1 - mantissa);
}

std::vector<Half> random16(Act act, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<Half> out(n);
  for (Half &h : out)
    h = to16(act, dist(rng));
  return out;
}

//===----------------------------------------------------------------------===//
// Device buffers and descriptors
//===----------------------------------------------------------------------===//

template <typename T> struct DeviceArray {
  T *ptr = nullptr;
  size_t n = 0;
  explicit DeviceArray(size_t count) : n(count) {
    if (cudaMalloc(&ptr, std::max<size_t>(n, 1) * sizeof(T)) != cudaSuccess) {
      std::fprintf(stderr, "cudaMalloc failed\n");
      std::exit(1);
    }
  }
  explicit DeviceArray(const std::vector<T> &host) : DeviceArray(host.size()) {
    upload(host);
  }
  ~DeviceArray() { cudaFree(ptr); }
  DeviceArray(const DeviceArray &) = delete;
  // The library runs on its own non-blocking stream, which does not wait
  // for the legacy stream's copies and memsets: finish them first.
  void upload(const std::vector<T> &host) {
    cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice);
    cudaDeviceSynchronize();
  }
  void poison() {
    cudaMemset(ptr, 0xff, n * sizeof(T));
    cudaDeviceSynchronize();
  }
  std::vector<T> download() const {
    std::vector<T> host(n);
    cudaDeviceSynchronize();
    cudaMemcpy(host.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost);
    return host;
  }
};

template <typename T>
StridedMemRefType<T, 2> mat(T *data, int64_t rows, int64_t cols,
                            int64_t rowStride = -1) {
  return {data, data, 0, {rows, cols}, {rowStride < 0 ? cols : rowStride, 1}};
}
template <typename T> StridedMemRefType<T, 1> vec(T *data, int64_t n) {
  return {data, data, 0, {n}, {1}};
}

/// A one-row tensor table for a weight at `address`.
struct Table {
  std::vector<int64_t> rows;
  StridedMemRefType<int64_t, 2> ref;
  Table(const void *address, HfqDType dtype, std::vector<int64_t> shape) {
    rows.assign(HFQ_TABLE_COLUMNS, 0);
    rows[0] = static_cast<int64_t>(reinterpret_cast<intptr_t>(address));
    rows[1] = dtype;
    rows[2] = static_cast<int64_t>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i)
      rows[3 + i] = shape[i];
    ref = {rows.data(),
           rows.data(),
           0,
           {1, HFQ_TABLE_COLUMNS},
           {HFQ_TABLE_COLUMNS, 1}};
  }
};

struct Args {
  std::vector<double> values;
  StridedMemRefType<double, 1> ref;
  explicit Args(std::vector<double> v) : values(std::move(v)) {
    ref = {values.data(), values.data(), 0, {int64_t(values.size())}, {1}};
  }
};

//===----------------------------------------------------------------------===//
// The CUDA library's entry points
//===----------------------------------------------------------------------===//

void *library = nullptr;

void *cudaSymbol(const char *name) {
  void *symbol = dlsym(library, name);
  if (!symbol) {
    std::fprintf(stderr, "%s not found in the CUDA library\n", name);
    std::exit(1);
  }
  return symbol;
}
#define CUDA_ENTRY(fn) reinterpret_cast<decltype(&fn)>(cudaSymbol(#fn))

/// The reference's and the library's entry points of one activation type.
struct Entries {
  decltype(&_mlir_ciface_hfq_embedding_f16) embedding[2];
  decltype(&_mlir_ciface_hfq_rms_norm_f16) rmsNorm[2];
  decltype(&_mlir_ciface_hfq_rotary_f16) rotary[2];
  decltype(&_mlir_ciface_hfq_attention_f16) attention[2];
  decltype(&_mlir_ciface_hfq_silu_mul_f16) siluMul[2];
  decltype(&_mlir_ciface_hfq_add_f16) add[2];
  decltype(&_mlir_ciface_hfq_linear_f16) linear[2];
};
enum { kRef = 0, kCuda = 1 };
Entries entries[2];

void bindEntries() {
#define BIND(act, index)                                                       \
  entries[index] = {                                                           \
      {_mlir_ciface_hfq_embedding_##act,                                       \
       CUDA_ENTRY(_mlir_ciface_hfq_embedding_##act)},                          \
      {_mlir_ciface_hfq_rms_norm_##act,                                        \
       CUDA_ENTRY(_mlir_ciface_hfq_rms_norm_##act)},                           \
      {_mlir_ciface_hfq_rotary_##act,                                          \
       CUDA_ENTRY(_mlir_ciface_hfq_rotary_##act)},                             \
      {_mlir_ciface_hfq_attention_##act,                                       \
       CUDA_ENTRY(_mlir_ciface_hfq_attention_##act)},                          \
      {_mlir_ciface_hfq_silu_mul_##act,                                        \
       CUDA_ENTRY(_mlir_ciface_hfq_silu_mul_##act)},                           \
      {_mlir_ciface_hfq_add_##act, CUDA_ENTRY(_mlir_ciface_hfq_add_##act)},    \
      {_mlir_ciface_hfq_linear_##act,                                          \
       CUDA_ENTRY(_mlir_ciface_hfq_linear_##act)}};
  BIND(f16, F16)
  BIND(bf16, BF16)
#undef BIND
}

auto cudaCheck = [] {
  return reinterpret_cast<int32_t (*)()>(
      cudaSymbol("hfq_cuda_model_ops_check"));
};
auto forcePath = [](int32_t path) {
  reinterpret_cast<void (*)(int32_t)>(
      cudaSymbol("hfq_cuda_model_ops_force_attention_path"))(path);
};

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

/// Every element within `ulps` of the reference plus `absolute(i)`; none
/// NaN (unless the reference is).
template <typename Slack>
bool compare(Act act, const std::vector<Half> &got,
             const std::vector<Half> &want, int64_t ulps, Slack absolute,
             std::string &detail) {
  int64_t worstUlps = 0;
  double worstErr = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    const bool gotNaN = isNaN16(act, got[i]), wantNaN = isNaN16(act, want[i]);
    if (gotNaN || wantNaN) {
      if (gotNaN != wantNaN) {
        detail = "element " + std::to_string(i) +
                 (gotNaN ? " is NaN" : " should be NaN");
        return false;
      }
      continue;
    }
    const int64_t u = ulpDistance(got[i], want[i]);
    const float g = from16(act, got[i]), w = from16(act, want[i]);
    const double err = std::fabs(double(g) - w);
    worstUlps = std::max(worstUlps, u);
    worstErr = std::max(worstErr, err);
    if (u > ulps && err > ulps * ulpAt(act, w) + absolute(i)) {
      char buffer[160];
      std::snprintf(buffer, sizeof buffer,
                    "element %zu: %.7g vs reference %.7g (%lld ulp)", i, g, w,
                    static_cast<long long>(u));
      detail = buffer;
      return false;
    }
  }
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "max %lld ulp, max |err| %.3g",
                static_cast<long long>(worstUlps), worstErr);
  detail = buffer;
  return true;
}

bool exactly(Act act, const std::vector<Half> &got,
             const std::vector<Half> &want, std::string &detail) {
  return compare(
      act, got, want, 0, [](size_t) { return 0.0; }, detail);
}

std::string lastError() { return hfq_kernel_last_error(); }

/// A call that must succeed on the device without a fault.
bool ranClean(int32_t status, const std::string &what) {
  if (status != 0)
    return report(false, what,
                  "status " + std::to_string(status) + ": " + lastError());
  if (cudaCheck()() != 0)
    return report(false, what, "fault: " + lastError());
  return true;
}

//===----------------------------------------------------------------------===//
// Elementwise ops, embedding, RMSNorm, rotary
//===----------------------------------------------------------------------===//

void testElementwise(Act act, int64_t rows, int64_t cols, int64_t pad) {
  const int64_t stride = cols + pad;
  for (int op = 0; op < 2; ++op) {
    auto a = random16(act, size_t(rows * stride), -6.0f, 6.0f);
    auto b = random16(act, size_t(rows * stride), -3.0f, 3.0f);
    std::vector<Half> want(size_t(rows * stride), 0xffff);
    auto ya = mat(want.data(), rows, cols, stride);
    auto aa = mat(a.data(), rows, cols, stride),
         ba = mat(b.data(), rows, cols, stride);
    auto &e = entries[act];
    (op == 0 ? e.siluMul[kRef] : e.add[kRef])(&ya, &aa, &ba);
    DeviceArray<Half> da(a), db(b), dy(want.size());
    dy.poison();
    auto yd = mat(dy.ptr, rows, cols, stride);
    auto ad = mat(da.ptr, rows, cols, stride),
         bd = mat(db.ptr, rows, cols, stride);
    const std::string what = std::string(op == 0 ? "silu_mul " : "add ") +
                             actName(act) + " " + std::to_string(rows) + "x" +
                             std::to_string(cols) + (pad ? " padded" : "");
    if (!ranClean((op == 0 ? e.siluMul[kCuda] : e.add[kCuda])(&yd, &ad, &bd),
                  what))
      continue;
    std::string detail;
    const bool ok = compare(
        act, dy.download(), want, op == 0 ? 1 : 0, [](size_t) { return 0.0; },
        detail);
    report(ok, what, detail);
  }
}

void testEmbedding(Act act, int64_t t, HfqDType tableType) {
  const int64_t vocab = 50, hidden = 100;
  std::vector<int64_t> ids(static_cast<size_t>(t));
  for (auto &id : ids)
    id = std::uniform_int_distribution<int64_t>(0, vocab - 1)(rng);
  // The table in its own dtype, as bytes.
  std::vector<uint8_t> table;
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  for (int64_t i = 0; i < vocab * hidden; ++i) {
    const float v = dist(rng);
    if (tableType == HFQ_F32) {
      table.insert(table.end(), reinterpret_cast<const uint8_t *>(&v),
                   reinterpret_cast<const uint8_t *>(&v) + 4);
    } else {
      const Half h = tableType == HFQ_F16 ? floatToHalf(v) : floatToBf16(v);
      table.push_back(uint8_t(h & 0xff));
      table.push_back(uint8_t(h >> 8));
    }
  }
  std::vector<Half> want(static_cast<size_t>(t * hidden));
  Table hostTable(table.data(), tableType, {vocab, hidden});
  auto ya = mat(want.data(), t, hidden);
  auto ia = vec(ids.data(), t);
  entries[act].embedding[kRef](&ya, &ia, &hostTable.ref);
  DeviceArray<uint8_t> dt(table);
  DeviceArray<int64_t> di(ids);
  DeviceArray<Half> dy(want.size());
  dy.poison();
  Table deviceTable(dt.ptr, tableType, {vocab, hidden});
  auto yd = mat(dy.ptr, t, hidden);
  auto id = vec(di.ptr, t);
  const std::string what = std::string("embedding ") + actName(act) +
                           " T=" + std::to_string(t) + " table dtype " +
                           std::to_string(tableType);
  if (!ranClean(entries[act].embedding[kCuda](&yd, &id, &deviceTable.ref),
                what))
    return;
  std::string detail;
  report(exactly(act, dy.download(), want, detail), what, detail);

  // An id out of range: reported by the check, its row NaN, no other harm.
  std::vector<int64_t> bad = ids;
  bad[size_t(t - 1)] = vocab;
  di.upload(bad);
  const int32_t status =
      entries[act].embedding[kCuda](&yd, &id, &deviceTable.ref);
  const int32_t checked = cudaCheck()();
  const std::string message = lastError();
  const auto got = dy.download();
  report(status == 0 && checked != 0 &&
             contains(message, "hfq_embedding: ids[" + std::to_string(t - 1) +
                                   "] = 50 is outside [0, 50)") &&
             isNaN16(act, got[size_t((t - 1) * hidden)]),
         what + " id out of range", message);
}

void testRmsNorm(Act act, int64_t rows, int64_t d, HfqDType wType) {
  auto x = random16(act, size_t(rows * d), -4.0f, 4.0f);
  std::vector<uint8_t> w;
  std::uniform_real_distribution<float> dist(0.5f, 1.5f);
  for (int64_t i = 0; i < d; ++i) {
    const float v = dist(rng);
    if (wType == HFQ_F32) {
      w.insert(w.end(), reinterpret_cast<const uint8_t *>(&v),
               reinterpret_cast<const uint8_t *>(&v) + 4);
    } else {
      const Half h = wType == HFQ_F16 ? floatToHalf(v) : floatToBf16(v);
      w.push_back(uint8_t(h & 0xff));
      w.push_back(uint8_t(h >> 8));
    }
  }
  Args args({1e-6});
  std::vector<Half> want(x.size());
  Table hostTable(w.data(), wType, {d});
  auto ya = mat(want.data(), rows, d), xa = mat(x.data(), rows, d);
  entries[act].rmsNorm[kRef](&ya, &xa, &args.ref, &hostTable.ref);
  DeviceArray<Half> dx(x), dy(x.size());
  DeviceArray<uint8_t> dw(w);
  dy.poison();
  Table deviceTable(dw.ptr, wType, {d});
  auto yd = mat(dy.ptr, rows, d), xd = mat(dx.ptr, rows, d);
  const std::string what = std::string("rms_norm ") + actName(act) + " " +
                           std::to_string(rows) + "x" + std::to_string(d);
  if (!ranClean(
          entries[act].rmsNorm[kCuda](&yd, &xd, &args.ref, &deviceTable.ref),
          what))
    return;
  std::string detail;
  report(compare(
             act, dy.download(), want, 1, [](size_t) { return 0.0; }, detail),
         what, detail);
}

void testRotary(Act act, int64_t t, int64_t heads, int64_t d, int64_t start,
                double scaling) {
  const int64_t width = heads * d;
  auto x = random16(act, size_t(t * width), -3.0f, 3.0f);
  std::vector<int64_t> positions(static_cast<size_t>(t));
  for (int64_t i = 0; i < t; ++i)
    positions[size_t(i)] = start + i;
  std::vector<float> invFreq(static_cast<size_t>(d / 2));
  for (int64_t i = 0; i < d / 2; ++i)
    invFreq[size_t(i)] = float(1.0 / std::pow(500000.0, 2.0 * i / d));
  Args args({double(d), scaling});
  std::vector<Half> want(x.size());
  auto ya = mat(want.data(), t, width), xa = mat(x.data(), t, width);
  auto pa = vec(positions.data(), t);
  auto fa = vec(invFreq.data(), d / 2);
  entries[act].rotary[kRef](&ya, &xa, &pa, &fa, &args.ref);
  DeviceArray<Half> dx(x), dy(x.size());
  DeviceArray<int64_t> dp(positions);
  dy.poison();
  auto yd = mat(dy.ptr, t, width), xd = mat(dx.ptr, t, width);
  auto pd = vec(dp.ptr, t);
  const std::string what =
      std::string("rotary ") + actName(act) + " T=" + std::to_string(t) +
      " D=" + std::to_string(d) + " from " + std::to_string(start);
  // inv_freq stays on the host (ModelOps.md).
  if (!ranClean(entries[act].rotary[kCuda](&yd, &xd, &pd, &fa, &args.ref),
                what))
    return;
  std::string detail;
  report(compare(
             act, dy.download(), want, 1, [](size_t) { return 0.0; }, detail),
         what, detail);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

struct AttentionCase {
  int64_t d, heads, kvHeads, t, before, window;
  bool reversed = false;
};

/// One call on a cache whose first `before` rows of layer 1 are random
/// (everything else NaN), against the reference, through `path`.
void testAttention(Act act, const AttentionCase &c) {
  const int64_t layers = 2, layer = 1, capacity = c.before + c.t + 3;
  const int64_t width = c.heads * c.d, kvWidth = c.kvHeads * c.d;
  const int64_t plane = capacity * kvWidth;
  std::vector<Half> cache(size_t(layers * 2 * plane), 0xffff);
  for (int which = 0; which < 2; ++which) {
    auto rows = random16(act, size_t(c.before * kvWidth), -1.0f, 1.0f);
    std::copy(rows.begin(), rows.end(),
              cache.begin() + (layer * 2 + which) * plane);
  }
  auto q = random16(act, size_t(c.t * width), -2.0f, 2.0f);
  auto k = random16(act, size_t(c.t * kvWidth), -1.0f, 1.0f);
  auto v = random16(act, size_t(c.t * kvWidth), -1.0f, 1.0f);
  std::vector<int64_t> positions(static_cast<size_t>(c.t));
  for (int64_t i = 0; i < c.t; ++i)
    positions[size_t(i)] = c.before + (c.reversed ? c.t - 1 - i : i);
  Args args({double(layer), double(c.heads), double(c.kvHeads), double(c.d),
             1.0 / std::sqrt(double(c.d)), double(c.window)});

  std::vector<Half> refCache = cache, want(q.size());
  auto oa = mat(want.data(), c.t, width), qa = mat(q.data(), c.t, width);
  auto ka = mat(k.data(), c.t, kvWidth), va = mat(v.data(), c.t, kvWidth);
  auto pa = vec(positions.data(), c.t);
  StridedMemRefType<Half, 5> ca{refCache.data(),
                                refCache.data(),
                                0,
                                {layers, 2, capacity, c.kvHeads, c.d},
                                {2 * plane, plane, kvWidth, c.d, 1}};
  if (entries[act].attention[kRef](&oa, &qa, &ka, &va, &pa, &ca, &args.ref) !=
      0) {
    report(false, "attention reference", lastError());
    return;
  }
  float vMax = 0.0f;
  for (Half h : v)
    vMax = std::max(vMax, std::fabs(from16(act, h)));
  for (int64_t i = 0; i < c.before * kvWidth; ++i)
    vMax = std::max(
        vMax,
        std::fabs(from16(act, cache[size_t((layer * 2 + 1) * plane + i)])));

  DeviceArray<Half> dq(q), dk(k), dv(v), dc(cache.size()), dout(want.size());
  DeviceArray<int64_t> dp(positions);
  auto od = mat(dout.ptr, c.t, width), qd = mat(dq.ptr, c.t, width);
  auto kd = mat(dk.ptr, c.t, kvWidth), vd = mat(dv.ptr, c.t, kvWidth);
  auto pd = vec(dp.ptr, c.t);
  StridedMemRefType<Half, 5> cd{dc.ptr,
                                dc.ptr,
                                0,
                                {layers, 2, capacity, c.kvHeads, c.d},
                                {2 * plane, plane, kvWidth, c.d, 1}};
  for (int path = 1; path <= 2; ++path) {
    char name[200];
    std::snprintf(name, sizeof name,
                  "attention %s %s D=%lld H=%lld/%lld T=%lld after %lld%s%s",
                  actName(act), path == 1 ? "rows " : "tiles", (long long)c.d,
                  (long long)c.heads, (long long)c.kvHeads, (long long)c.t,
                  (long long)c.before,
                  c.window ? (" window " + std::to_string(c.window)).c_str()
                           : "",
                  c.reversed ? " reversed" : "");
    dc.upload(cache);
    dout.poison();
    forcePath(path);
    if (!ranClean(entries[act].attention[kCuda](&od, &qd, &kd, &vd, &pd, &cd,
                                                &args.ref),
                  name))
      continue;
    std::string detail, cacheDetail;
    const float slack = std::ldexp(vMax, -11);
    const bool ok = compare(
        act, dout.download(), want, 1, [&](size_t) { return double(slack); },
        detail);
    const bool cacheOk = dc.download() == refCache;
    report(ok && cacheOk, name,
           cacheOk ? detail : "the cache differs from the reference's");
  }
  forcePath(0);
}

/// A prefill of 17 tokens, then decode steps, each against the reference,
/// through the default kernel choice.
void testPrefillThenDecode(Act act) {
  const int64_t d = 128, heads = 8, kvHeads = 2, capacity = 40, steps = 4;
  const int64_t width = heads * d, kvWidth = kvHeads * d;
  std::vector<Half> refCache(size_t(2 * capacity * kvWidth), 0xffff);
  DeviceArray<Half> dc(refCache);
  Args args({0.0, double(heads), double(kvHeads), double(d), 0.088, 0.0});
  int64_t position = 0;
  for (int64_t step = 0; step <= steps; ++step) {
    const int64_t t = step == 0 ? 17 : 1;
    auto q = random16(act, size_t(t * width), -2.0f, 2.0f);
    auto k = random16(act, size_t(t * kvWidth), -1.0f, 1.0f);
    auto v = random16(act, size_t(t * kvWidth), -1.0f, 1.0f);
    std::vector<int64_t> positions(static_cast<size_t>(t));
    for (int64_t i = 0; i < t; ++i)
      positions[size_t(i)] = position + i;
    std::vector<Half> want(q.size());
    auto oa = mat(want.data(), t, width), qa = mat(q.data(), t, width);
    auto ka = mat(k.data(), t, kvWidth), va = mat(v.data(), t, kvWidth);
    auto pa = vec(positions.data(), t);
    StridedMemRefType<Half, 5> ca{
        refCache.data(),
        refCache.data(),
        0,
        {1, 2, capacity, kvHeads, d},
        {2 * capacity * kvWidth, capacity * kvWidth, kvWidth, d, 1}};
    entries[act].attention[kRef](&oa, &qa, &ka, &va, &pa, &ca, &args.ref);
    DeviceArray<Half> dq(q), dk(k), dv(v), dout(want.size());
    DeviceArray<int64_t> dp(positions);
    dout.poison();
    auto od = mat(dout.ptr, t, width), qd = mat(dq.ptr, t, width);
    auto kd = mat(dk.ptr, t, kvWidth), vd = mat(dv.ptr, t, kvWidth);
    auto pd = vec(dp.ptr, t);
    StridedMemRefType<Half, 5> cd{
        dc.ptr,
        dc.ptr,
        0,
        {1, 2, capacity, kvHeads, d},
        {2 * capacity * kvWidth, capacity * kvWidth, kvWidth, d, 1}};
    const std::string what = std::string("attention ") + actName(act) +
                             " prefill+decode step " + std::to_string(step);
    if (!ranClean(entries[act].attention[kCuda](&od, &qd, &kd, &vd, &pd, &cd,
                                                &args.ref),
                  what))
      return;
    std::string detail;
    const bool ok = compare(
        act, dout.download(), want, 1,
        [](size_t) { return std::ldexp(1.0, -11); }, detail);
    report(ok && dc.download() == refCache, what, detail);
    position += t;
  }
  // A position outside the cache: the check reports it with the
  // reference's message, the row is NaN, the cache is untouched.
  std::vector<int64_t> positions{capacity};
  auto q = random16(act, size_t(width), -1.0f, 1.0f),
       k = random16(act, size_t(kvWidth), -1.0f, 1.0f);
  DeviceArray<Half> dq(q), dk(k), dout(static_cast<size_t>(width));
  DeviceArray<int64_t> dp(positions);
  auto od = mat(dout.ptr, 1, width), qd = mat(dq.ptr, 1, width);
  auto kd = mat(dk.ptr, 1, kvWidth);
  auto pd = vec(dp.ptr, 1);
  StridedMemRefType<Half, 5> cd{
      dc.ptr,
      dc.ptr,
      0,
      {1, 2, capacity, kvHeads, d},
      {2 * capacity * kvWidth, capacity * kvWidth, kvWidth, d, 1}};
  const int32_t status =
      entries[act].attention[kCuda](&od, &qd, &kd, &kd, &pd, &cd, &args.ref);
  const int32_t checked = cudaCheck()();
  const std::string message = lastError();
  report(status == 0 && checked != 0 &&
             contains(message,
                      "hfq_attention: positions[0] = 40 is outside the "
                      "cache's [0, 40)") &&
             isNaN16(act, dout.download()[0]) && dc.download() == refCache,
         std::string("attention ") + actName(act) + " position out of range",
         message);
}

//===----------------------------------------------------------------------===//
// The dense linear
//===----------------------------------------------------------------------===//

void testLinear(Act act, int64_t m, int64_t n, int64_t k, bool bias,
                bool f32Weight) {
  auto x = random16(act, size_t(m * k), -1.0f, 1.0f);
  std::vector<float> wf(static_cast<size_t>(n * k));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float &w : wf)
    w = dist(rng);
  std::vector<Half> w16(wf.size());
  for (size_t i = 0; i < wf.size(); ++i) {
    w16[i] = to16(act, wf[i]);
    wf[i] = from16(act, w16[i]);
  }
  if (f32Weight) // an f32 weight with more bits than Act: converted once
    for (float &w : wf)
      w *= 1.0001f;
  auto b = random16(act, size_t(bias ? n : 0), -1.0f, 1.0f);
  std::vector<Half> want(static_cast<size_t>(m * n));
  const HfqDType wType =
      f32Weight ? HFQ_F32 : (act == F16 ? HFQ_F16 : HFQ_BF16);
  const void *hostW =
      f32Weight ? static_cast<const void *>(wf.data()) : w16.data();
  Table hostTable(hostW, wType, {n, k});
  Args none({});
  auto ya = mat(want.data(), m, n), xa = mat(x.data(), m, k);
  auto ba = vec(b.data(), int64_t(b.size()));
  entries[act].linear[kRef](&ya, &xa, &ba, &none.ref, &hostTable.ref);
  // The error bound's Σ|x||w| per output, with the weight the reference
  // used (rounded to Act where converted).
  std::vector<double> magnitude(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t l = 0; l < k; ++l)
        magnitude[size_t(i * n + j)] +=
            std::fabs(from16(act, x[size_t(i * k + l)])) *
            std::fabs(wf[size_t(j * k + l)]);
  DeviceArray<Half> dx(x), db(b), dy(want.size());
  DeviceArray<float> dwf(wf);
  DeviceArray<Half> dw16(w16);
  dy.poison();
  Table deviceTable(f32Weight ? static_cast<const void *>(dwf.ptr) : dw16.ptr,
                    wType, {n, k});
  auto yd = mat(dy.ptr, m, n), xd = mat(dx.ptr, m, k);
  auto bd = vec(db.ptr, int64_t(b.size()));
  const std::string what =
      std::string("linear ") + actName(act) + " M=" + std::to_string(m) +
      " N=" + std::to_string(n) + " K=" + std::to_string(k) +
      (bias ? " bias" : "") + (f32Weight ? " f32 weight" : "");
  if (!ranClean(entries[act].linear[kCuda](&yd, &xd, &bd, &none.ref,
                                           &deviceTable.ref),
                what))
    return;
  std::string detail;
  const double eps = std::ldexp(1.0, -24);
  // An f32 weight is rounded to Act once on the device (the reference
  // multiplies the f32 values): add one Act-ulp of each weight.
  const double wSlack =
      f32Weight ? std::ldexp(1.0, act == F16 ? -11 : -8) : 0.0;
  report(compare(
             act, dy.download(), want, 1,
             [&](size_t i) { return (k * eps + wSlack) * magnitude[i]; },
             detail),
         what, detail);
}

//===----------------------------------------------------------------------===//
// Error paths: checked on the host, nothing launched or written
//===----------------------------------------------------------------------===//

void testErrors() {
  // Host buffers stand in for device ones: nothing may read or write them.
  std::vector<Half> y(64, 0x1234), a(64, 0), b(64, 0);
  auto untouched = [&] {
    return std::all_of(y.begin(), y.end(), [](Half h) { return h == 0x1234; });
  };
  auto &e = entries[BF16];
  {
    auto ym = mat(y.data(), 2, 8), am = mat(a.data(), 2, 8),
         bm = mat(b.data(), 2, 7);
    const int32_t status = e.add[kCuda](&ym, &am, &bm);
    report(status != 0 &&
               contains(lastError(),
                        "hfq_add: b has sizes [2, 7], expected [2, 8]") &&
               untouched(),
           "error: add with a mismatched operand", lastError());
  }
  {
    auto ym = mat(y.data(), 2, 8), am = mat(a.data(), 2, 8),
         bm = mat(b.data(), 3, 8);
    const int32_t status = e.siluMul[kCuda](&ym, &am, &bm);
    report(status != 0 && contains(lastError(), "hfq_silu_mul: up has sizes") &&
               untouched(),
           "error: silu_mul with a mismatched operand", lastError());
  }
  {
    std::vector<Half> w(7);
    Table table(w.data(), HFQ_BF16, {7});
    Args args({1e-6});
    auto ym = mat(y.data(), 2, 8), xm = mat(a.data(), 2, 8);
    const int32_t status = e.rmsNorm[kCuda](&ym, &xm, &args.ref, &table.ref);
    report(status != 0 &&
               contains(lastError(), "hfq_rms_norm: weight must be") &&
               untouched(),
           "error: rms_norm weight of the wrong size", lastError());
    Args bad({-1.0});
    Table good(w.data(), HFQ_BF16, {8});
    report(e.rmsNorm[kCuda](&ym, &xm, &bad.ref, &good.ref) != 0 &&
               contains(lastError(), "eps must not be negative") && untouched(),
           "error: rms_norm negative eps", lastError());
  }
  {
    std::vector<int64_t> positions(2);
    std::vector<float> invFreq(3);
    Args args({8.0, 1.0});
    auto ym = mat(y.data(), 2, 16), xm = mat(a.data(), 2, 16);
    auto pm = vec(positions.data(), 2);
    auto fm = vec(invFreq.data(), 3);
    report(e.rotary[kCuda](&ym, &xm, &pm, &fm, &args.ref) != 0 &&
               contains(lastError(),
                        "hfq_rotary: inv_freq has sizes [3], expected [4]") &&
               untouched(),
           "error: rotary inv_freq of the wrong size", lastError());
  }
  {
    std::vector<int64_t> ids(3);
    std::vector<Half> table(40);
    Table t(table.data(), HFQ_BF16, {5, 8});
    auto ym = mat(y.data(), 2, 8);
    auto im = vec(ids.data(), 3);
    report(e.embedding[kCuda](&ym, &im, &t.ref) != 0 &&
               contains(lastError(),
                        "hfq_embedding: ids has sizes [3], expected [2]") &&
               untouched(),
           "error: embedding ids of the wrong size", lastError());
    Table wide(table.data(), HFQ_BF16, {4, 10});
    auto im2 = vec(ids.data(), 2);
    report(e.embedding[kCuda](&ym, &im2, &wide.ref) != 0 &&
               contains(lastError(),
                        "the embedding table must be [V, 8], got [4, 10]") &&
               untouched(),
           "error: embedding table of the wrong width", lastError());
  }
  {
    // Attention: k of the wrong width; then a layer outside the cache; then
    // a head_dim the kernels are not built for; then a misaligned cache.
    std::vector<Half> cache(2 * 2 * 4 * 64 + 8);
    std::vector<int64_t> positions(1);
    auto om = mat(y.data(), 1, 64), qm = mat(a.data(), 1, 64);
    auto km = mat(b.data(), 1, 32), vm = mat(b.data(), 1, 64);
    auto pm = vec(positions.data(), 1);
    StridedMemRefType<Half, 5> cm{
        cache.data(), cache.data(), 0, {2, 2, 4, 1, 64}, {512, 256, 64, 64, 1}};
    Args args({0, 1, 1, 64, 0.125, 0});
    report(
        e.attention[kCuda](&om, &qm, &km, &vm, &pm, &cm, &args.ref) != 0 &&
            contains(lastError(),
                     "hfq_attention: k has sizes [1, 32], expected [1, 64]") &&
            untouched(),
        "error: attention k of the wrong width", lastError());
    auto km2 = mat(b.data(), 1, 64);
    Args layer({2, 1, 1, 64, 0.125, 0});
    report(e.attention[kCuda](&om, &qm, &km2, &vm, &pm, &cm, &layer.ref) != 0 &&
               contains(lastError(), "layer 2 is outside the cache's [0, 2)") &&
               untouched(),
           "error: attention layer outside the cache", lastError());
    auto om48 = mat(y.data(), 1, 48), qm48 = mat(a.data(), 1, 48),
         km48 = mat(b.data(), 1, 48);
    StridedMemRefType<Half, 5> c48{
        cache.data(), cache.data(), 0, {2, 2, 4, 1, 48}, {384, 192, 48, 48, 1}};
    Args d48({0, 1, 1, 48, 0.125, 0});
    report(e.attention[kCuda](&om48, &qm48, &km48, &km48, &pm, &c48,
                              &d48.ref) != 0 &&
               contains(
                   lastError(),
                   "head_dim 48 is not one the CUDA attention is built for") &&
               untouched(),
           "error: attention head_dim 48", lastError());
    StridedMemRefType<Half, 5> shifted = cm;
    shifted.offset = 1;
    report(e.attention[kCuda](&om, &qm, &km2, &vm, &pm, &shifted, &args.ref) !=
                   0 &&
               contains(lastError(), "16-byte aligned") && untouched(),
           "error: attention misaligned cache", lastError());
  }
  {
    std::vector<Half> w(8 * 5);
    Table table(w.data(), HFQ_BF16, {8, 5});
    Args none({});
    auto ym = mat(y.data(), 2, 8), xm = mat(a.data(), 2, 4);
    auto bm = vec(b.data(), 0);
    report(e.linear[kCuda](&ym, &xm, &bm, &none.ref, &table.ref) != 0 &&
               contains(lastError(), "hfq_linear: weight must be") &&
               untouched(),
           "error: linear weight of the wrong shape", lastError());
    auto bm3 = vec(b.data(), 3);
    auto xm5 = mat(a.data(), 2, 5);
    report(
        e.linear[kCuda](&ym, &xm5, &bm3, &none.ref, &table.ref) != 0 &&
            contains(lastError(), "bias has 3 elements, expected 0 or N = 8") &&
            untouched(),
        "error: linear bias of the wrong size", lastError());
  }
}

} // namespace

int main(int argc, char **argv) {
  unsigned seed = std::random_device{}();
  const char *libraryPath = HFQ_MODEL_OPS_CUDA_LIB;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--small"))
      small = true;
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc)
      seed = unsigned(std::strtoul(argv[++i], nullptr, 10));
    else if (!std::strcmp(argv[i], "--lib") && i + 1 < argc)
      libraryPath = argv[++i];
  }
  std::printf("seed %u\n", seed);
  rng.seed(seed);
  library = dlopen(libraryPath, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    std::fprintf(stderr, "cannot open %s: %s\n", libraryPath, dlerror());
    return 1;
  }
  bindEntries();

  testErrors();
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    // The library says so too, before touching anything.
    std::vector<Half> y(4, 0x1234);
    auto ym = mat(y.data(), 2, 2);
    const int32_t status = entries[BF16].add[kCuda](&ym, &ym, &ym);
    report(status != 0 && contains(lastError(), "no CUDA device"),
           "no GPU: the library refuses", lastError());
    std::printf("%d checks, %d failed\nSKIPPED: no CUDA device\n", checks,
                failures);
    return failures ? 1 : 77;
  }

  const std::vector<int64_t> ts = small ? std::vector<int64_t>{1, 3, 17}
                                        : std::vector<int64_t>{1, 3, 17, 200};
  for (Act act : {F16, BF16}) {
    for (int64_t t : ts) {
      testElementwise(act, t, 1003, t == 3 ? 5 : 0);
      testEmbedding(act, t, t == 1 ? HFQ_F32 : (t == 3 ? HFQ_F16 : HFQ_BF16));
      testRmsNorm(act, t, t == 17 ? 4103 : 100,
                  t == 3 ? HFQ_F32 : (act == F16 ? HFQ_F16 : HFQ_BF16));
      testRotary(act, t, 3, t == 3 ? 64 : 128, t == 1 ? 8191 : 37,
                 t == 17 ? 0.7 : 1.0);
      testLinear(act, t, 136, 100, t % 2 == 1, t == 17);
    }
    if (!small)
      testLinear(act, 64, 4096, 4096, true, false);
    int index = 0;
    for (int64_t d : {32, 64, 128})
      for (auto [heads, kv] :
           {std::pair<int64_t, int64_t>{4, 4}, {8, 2}, {16, 2}})
        for (int64_t t : ts) {
          const int64_t before =
              std::vector<int64_t>{0, 37, 300}[size_t(index % 3)];
          const int64_t window = index % 4 == 3 ? 24 : 0;
          testAttention(act, {d, heads, kv, t, before, window, index % 7 == 5});
          ++index;
        }
    testAttention(act, {128, 32, 8, 1, small ? 700 : 5000, 0});
    testAttention(act, {128, 32, 8, 1, 700, 256});
    testPrefillThenDecode(act);
  }
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
