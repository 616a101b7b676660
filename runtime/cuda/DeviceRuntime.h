//===- DeviceRuntime.h - What the CUDA runtime's files share ----*- C++ -*-===//

#ifndef HFQ_RUNTIME_CUDA_DEVICERUNTIME_H
#define HFQ_RUNTIME_CUDA_DEVICERUNTIME_H

#include <stdint.h>

extern "C" {
/// How many linear calls ran through the host (Staging.cpp); a step with
/// any cannot be captured into a graph.
int64_t hfq_runtime_cuda_staged_calls(void);
}

#endif // HFQ_RUNTIME_CUDA_DEVICERUNTIME_H
