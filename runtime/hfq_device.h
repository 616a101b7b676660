/*===- hfq_device.h - A device runtime, as the host sees it ---------*- C -*-===
 *
 * Code compiled for a GPU target (hfq-compile --target=sm_90) keeps every
 * activation in device memory: its buffers come from the device runtime's
 * _mlir_memref_to_llvm_alloc / _free, and the KV cache, ids and positions
 * the host passes must be device buffers too. A device runtime
 * (runtime/cuda/, libhfq_runtime_cuda.so) defines those allocation
 * functions and exports hfq_device_runtime_get(); the host (hfq-exec) finds
 * it among the libraries it loads and hands it to runtime::generate, which
 * then moves only ids and positions in and the logits (prefill) or one
 * argmax id (decode) out, and captures decode steps into a graph.
 * docs/runtime.md, "The GPU target".
 *
 * Every function returns 0 on success, non-zero with the reason in
 * hfq_kernel_last_error() (kernels/include/hfq_kernels.h).
 *
 *===----------------------------------------------------------------------===*/

#ifndef HFQ_DEVICE_H
#define HFQ_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types of hfq_device_runtime.argmax. */
enum { HFQ_DEVICE_F32 = 0, HFQ_DEVICE_F16 = 1, HFQ_DEVICE_BF16 = 2 };

typedef struct hfq_device_runtime {
  /* "cuda" */
  const char *name;
  /* The device's name ("NVIDIA H200"). */
  const char *(*device_name)(void);
  /* A zero-filled device buffer of `bytes` (stream-ordered), or NULL. */
  void *(*alloc)(size_t bytes);
  /* Frees a buffer of alloc or of the compiled code (stream-ordered). */
  void (*release)(void *ptr);
  /* Host to device, ordered on the runtime's stream; `src` may be reused
   * when it returns. */
  int32_t (*to_device)(void *dst, const void *src, size_t bytes);
  /* Device to host: waits for the stream, then checks what the kernels
   * recorded (an id or position out of range) and asynchronous errors. */
  int32_t (*to_host)(void *dst, const void *src, size_t bytes);
  /* *out = the first index of the maximum of the `n` elements at `row`
   * (torch.argmax; NaN counts as the maximum); waits as to_host does. */
  int32_t (*argmax)(const void *row, int64_t n, int32_t type, int64_t *out);
  /* Whether the calls made so far may be captured into a graph (0 once a
   * layer ran through the host, as CPU-reference layers do). */
  int32_t (*capturable)(void);
  /* Starts capturing the stream; the calls until capture_end are recorded,
   * not run. */
  int32_t (*capture_begin)(void);
  /* Ends the capture and instantiates the graph (buffers the captured code
   * allocates keep their addresses at every replay). */
  int32_t (*capture_end)(void);
  /* Launches the captured graph on the stream. */
  int32_t (*replay)(void);
  /* Destroys the graph (no-op without one). */
  void (*graph_release)(void);
  /* The peak of device memory in use since the runtime started, bytes. */
  int64_t (*peak_bytes)(void);
} hfq_device_runtime;

/* The runtime; NULL with hfq_kernel_last_error() set where no device is
 * usable. */
const hfq_device_runtime *hfq_device_runtime_get(void);

#ifdef __cplusplus
}
#endif

#endif /* HFQ_DEVICE_H */
