/*===- hfq_runtime.h - The run-time weight loader, for C hosts -----*- C -*-===
 *
 * The C face of runtime/WeightStore.h for hosts that are not built against
 * it (a GPU runtime compiled with nvcc alone): open a checkpoint directory's
 * safetensors files, memory-mapped, and install them as the weights that
 * lowered code's _mlir_ciface_hfq_weight_<dt>_<rank> calls return.
 * docs/runtime.md describes the loader.
 *
 *===----------------------------------------------------------------------===*/

#ifndef HFQ_RUNTIME_H
#define HFQ_RUNTIME_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the checkpoint in `dir` (WeightStore::open). Returns the store, or
 * NULL with the message in `error` (cut to errorSize - 1 bytes and
 * NUL-terminated; `error` may be NULL when errorSize is 0). */
void *hfq_weights_open(const char *dir, char *error, size_t errorSize);

/* Makes `store` the one the entry points read (NULL uninstalls). */
void hfq_weights_install(void *store);

/* Unmaps and frees `store`, uninstalling it first if it is installed.
 * NULL is ignored. */
void hfq_weights_close(void *store);

#ifdef __cplusplus
}
#endif

#endif /* HFQ_RUNTIME_H */
