//===- GenerationTest.cpp - The generation loop, on the host and a device -===//
//
// runtime::generate drives compiled entry points; here they are a model
// written by hand whose greedy choice is known: the logits of token `id` at
// position `p` are one-hot at (3 * id + p + 1) mod V (and the KV cache
// records every id at its position). The same model runs with host buffers
// (the CPU target) and through a device runtime (runtime/hfq_device.h)
// backed by host memory that behaves as a CUDA graph does: during capture
// the entry point only records its operands; each replay runs the recorded
// call again on whatever the recorded ids and positions buffers hold then.
// What a GPU run needs of the loop is thus checked without a GPU: the inputs
// are placed before the capture, in the same buffers at every step, the
// captured logits keep their address, every buffer the loop allocates goes
// through the runtime, and a runtime that is not capturable runs eagerly.
//
//===----------------------------------------------------------------------===//

#include "runtime/Generation.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

namespace {

constexpr int64_t kVocab = 37;

using Logits = StridedMemRefType<float, 2>;
using Ids = StridedMemRefType<int64_t, 1>;
using Cache = StridedMemRefType<float, 5>;

/// The fake device: host memory, a log of what went through it.
struct FakeDevice {
  std::set<void *> live;
  int64_t allocs = 0, toDevice = 0, toHost = 0, argmaxes = 0, replays = 0;
  bool capturable = true, capturing = false, captured = false;
  // The recorded call of a capture.
  Logits recordedLogits{};
  Ids recordedIds{}, recordedPositions{};
  Cache recordedCache{};
};
FakeDevice device;

/// The hand-written model: what the compiled code computes.
void forward(Logits *logits, Ids *ids, Ids *positions, Cache *cache) {
  const int64_t t = ids->sizes[0];
  for (int64_t i = 0; i < t; ++i) {
    int64_t id = ids->data[ids->offset + i];
    int64_t p = positions->data[positions->offset + i];
    float *row = logits->data + logits->offset + i * logits->strides[0];
    for (int64_t v = 0; v < kVocab; ++v)
      row[v] = v == (3 * id + p + 1) % kVocab ? 1.0f : 0.0f;
    cache->data[cache->offset + p * cache->strides[2]] = static_cast<float>(id);
  }
}

/// An entry point: allocates its logits (malloc, as the CPU target's code
/// does; the fake device's release frees them), then runs, or only records
/// while the device captures.
void entry(Logits *logits, Ids *ids, Ids *positions, Cache *cache) {
  const int64_t t = ids->sizes[0];
  auto *data = static_cast<float *>(std::malloc(sizeof(float) * t * kVocab));
  *logits = {data, data, 0, {t, kVocab}, {kVocab, 1}};
  if (device.capturing) {
    device.captured = true;
    device.recordedLogits = *logits;
    device.recordedIds = *ids;
    device.recordedPositions = *positions;
    device.recordedCache = *cache;
    return;
  }
  forward(logits, ids, positions, cache);
}

// The runtime's table over FakeDevice.
const char *name() { return "fake"; }
void *alloc(size_t bytes) {
  ++device.allocs;
  void *p = std::calloc(bytes ? bytes : 1, 1);
  device.live.insert(p);
  return p;
}
void release(void *p) {
  device.live.erase(p);
  std::free(p);
}
int32_t toDevice(void *dst, const void *src, size_t bytes) {
  EXPECT_FALSE(device.capturing) << "an input copied during the capture";
  ++device.toDevice;
  std::memcpy(dst, src, bytes);
  return 0;
}
int32_t toHost(void *dst, const void *src, size_t bytes) {
  ++device.toHost;
  std::memcpy(dst, src, bytes);
  return 0;
}
int32_t argmax(const void *row, int64_t n, int32_t type, int64_t *out) {
  EXPECT_EQ(type, HFQ_DEVICE_F32);
  ++device.argmaxes;
  const float *v = static_cast<const float *>(row);
  *out = 0;
  for (int64_t i = 1; i < n; ++i)
    if (v[i] > v[*out])
      *out = i;
  return 0;
}
int32_t capturable() { return device.capturable; }
int32_t captureBegin() {
  device.capturing = true;
  return 0;
}
int32_t captureEnd() {
  device.capturing = false;
  return device.captured ? 0 : 1;
}
int32_t replay() {
  ++device.replays;
  // A graph records addresses (the descriptors were the host's, gone by
  // now); its allocation keeps its address: the recorded logits.
  Logits logits = device.recordedLogits;
  Ids ids = device.recordedIds, positions = device.recordedPositions;
  Cache cache = device.recordedCache;
  forward(&logits, &ids, &positions, &cache);
  return 0;
}
void graphRelease() {}
int64_t peakBytes() { return 0; }

const hfq_device_runtime kFake = {
    "fake",  name,    alloc,        release,    toDevice,
    toHost,  argmax,  capturable,   captureBegin, captureEnd,
    replay,  graphRelease, peakBytes};

/// The greedy ids the model must produce after `prompt`.
std::vector<int64_t> expectedIds(const std::vector<int64_t> &prompt,
                                 int64_t steps) {
  std::vector<int64_t> out;
  int64_t id = prompt.back(), p = static_cast<int64_t>(prompt.size()) - 1;
  for (int64_t s = 0; s < steps; ++s) {
    id = (3 * id + p + 1) % kVocab;
    out.push_back(id);
    ++p;
  }
  return out;
}

hfq::runtime::ModelShape shape() {
  return {/*layers=*/1, /*kvHeads=*/1, /*headDim=*/1, kVocab, "float32"};
}

TEST(Generation, HostBuffers) {
  hfq::runtime::EntryPoints entries{reinterpret_cast<void *>(entry),
                                    reinterpret_cast<void *>(entry)};
  hfq::runtime::GenerateResult result;
  std::string error;
  std::vector<int64_t> prompt{5, 9, 11};
  ASSERT_TRUE(hfq::runtime::generate(shape(), entries, prompt, 9, {}, result,
                                     error))
      << error;
  EXPECT_EQ(result.generated, expectedIds(prompt, 9));
  ASSERT_EQ(result.promptLogits.size(), 3u);
  EXPECT_EQ(result.promptLogits[1][(3 * 9 + 1 + 1) % kVocab], 1.0f);
  EXPECT_EQ(result.graphSteps, 0);
}

TEST(Generation, DeviceBuffersAndGraphReplay) {
  device = FakeDevice();
  hfq::runtime::EntryPoints entries{reinterpret_cast<void *>(entry),
                                    reinterpret_cast<void *>(entry), &kFake};
  entries.allPromptLogits = false;
  hfq::runtime::GenerateResult result;
  std::string error;
  std::vector<int64_t> prompt{5, 9, 11, 2};
  {
    ASSERT_TRUE(hfq::runtime::generate(shape(), entries, prompt, 12, {},
                                       result, error))
        << error;
  }
  EXPECT_EQ(result.generated, expectedIds(prompt, 12));
  // Step 1 (the first sampled id) comes from the prefill, step 2 runs
  // eagerly, step 3 is captured and replayed, and so is every later one.
  EXPECT_EQ(result.graphSteps, 12 - 2);
  EXPECT_EQ(device.replays, 12 - 2);
  // Only the last prompt position comes back without allPromptLogits.
  ASSERT_EQ(result.promptLogits.size(), 1u);
  // The cache, ids and positions came from the runtime, and went back.
  EXPECT_EQ(device.allocs, 3);
  EXPECT_TRUE(device.live.empty());
  // Every decode step moved its id and position in and one argmax out.
  EXPECT_EQ(device.toDevice, 2 + 2 * 11);
  EXPECT_EQ(device.argmaxes, 11);
}

TEST(Generation, DeviceWithoutGraphsStaysEager) {
  device = FakeDevice();
  device.capturable = false;
  hfq::runtime::EntryPoints entries{reinterpret_cast<void *>(entry),
                                    reinterpret_cast<void *>(entry), &kFake};
  hfq::runtime::GenerateResult result;
  std::string error;
  std::vector<int64_t> prompt{1};
  ASSERT_TRUE(hfq::runtime::generate(shape(), entries, prompt, 6, {3}, result,
                                     error))
      << error;
  // Stops after the EOS id, as transformers' generate does.
  std::vector<int64_t> want = expectedIds(prompt, 6);
  auto eos = std::find(want.begin(), want.end(), 3);
  if (eos != want.end())
    want.erase(eos + 1, want.end());
  EXPECT_EQ(result.generated, want);
  EXPECT_EQ(result.graphSteps, 0);
  EXPECT_FALSE(device.captured);
  EXPECT_TRUE(device.live.empty());
}

} // namespace
