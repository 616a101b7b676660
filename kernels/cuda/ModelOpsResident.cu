//===- ModelOpsResident.cu - Checkpoint weights copied to the device once -===//
//
// The tensor table of a model op names a weight by address. Lowered code
// passes the run-time loader's memory-mapped checkpoint (host memory); a
// test or a runtime that uploaded the weight itself passes device memory.
// residentWeight serves both: device memory as is, host memory copied to
// the device on first use and reused from then on (the load-time upload of
// docs/runtime.md, "The GPU target"). The cache is keyed by (address,
// size): the loader's mapping is immutable for the life of the store, and
// hfq_cuda_model_ops_release_weights drops the copies when it closes.
//
//===----------------------------------------------------------------------===//

#include "kernels/cuda/DeviceReadable.h"
#include "kernels/cuda/ModelOpsInternal.h"

#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <utility>

namespace hfq::cuda::model_ops {

namespace {

struct ResidentCache {
  std::mutex mutex;
  std::map<std::pair<const void *, size_t>, void *> copies;
};

ResidentCache &residentCache() {
  static ResidentCache *cache = new ResidentCache;
  return *cache;
}

} // namespace

bool residentWeight(const void *data, size_t bytes, const void *&out,
                    std::string &error) {
  ResidentCache &cache = residentCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto found = cache.copies.find({data, bytes});
  if (found != cache.copies.end()) {
    out = found->second;
    return true;
  }
  if (bytes == 0 || hfq::cuda::deviceReadable(data)) {
    out = data;
    return true;
  }
  void *copy = nullptr;
  if (!cudaOk(cudaMalloc(&copy, bytes), "allocating a weight on the device",
              error))
    return false;
  if (!cudaOk(cudaMemcpy(copy, data, bytes, cudaMemcpyHostToDevice),
              "copying a weight to the device", error)) {
    (void)cudaFree(copy);
    return false;
  }
  cache.copies[{data, bytes}] = copy;
  out = copy;
  return true;
}

void releaseResidentWeights() {
  ResidentCache &cache = residentCache();
  std::lock_guard<std::mutex> lock(cache.mutex);
  for (auto &[key, copy] : cache.copies)
    (void)cudaFree(copy);
  cache.copies.clear();
}

} // namespace hfq::cuda::model_ops
