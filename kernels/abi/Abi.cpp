//===- Abi.cpp - The kernel ABI, decoded, for every runtime ---------------===//

#include "kernels/abi/Abi.h"

#include <cstdio>
#include <cstdlib>

namespace {
thread_local std::string lastError;
} // namespace

extern "C" const char *hfq_kernel_last_error(void) { return lastError.c_str(); }

extern "C" void hfq_kernel_fail(int32_t status) {
  std::fprintf(stderr, "hfq: kernel failed (status %d): %s\n", status,
               lastError.empty() ? "(no message)" : lastError.c_str());
  std::fflush(stderr);
  std::abort();
}

namespace hfq::kernels {

int32_t failKernel(const char *kernel, const std::string &message) {
  lastError = std::string(kernel) + ": " + message;
  return 1;
}

namespace {

bool decodeDType(int64_t code, DType &dtype) {
  switch (code) {
  case HFQ_I8: dtype = DType::I8; return true;
  case HFQ_U8: dtype = DType::U8; return true;
  case HFQ_I16: dtype = DType::I16; return true;
  case HFQ_I32: dtype = DType::I32; return true;
  case HFQ_F16: dtype = DType::F16; return true;
  case HFQ_BF16: dtype = DType::BF16; return true;
  case HFQ_F32: dtype = DType::F32; return true;
  case HFQ_F8E4M3FN: dtype = DType::F8E4M3FN; return true;
  case HFQ_F8E5M2: dtype = DType::F8E5M2; return true;
  default: return false;
  }
}

} // namespace

bool decodeTable(const StridedMemRefType<int64_t, 2> *table,
                 std::vector<TensorView> &views, std::string &error) {
  if (!table || table->sizes[1] != HFQ_TABLE_COLUMNS) {
    error = "the tensor table must have " + std::to_string(HFQ_TABLE_COLUMNS) +
            " columns";
    return false;
  }
  for (int64_t row = 0; row < table->sizes[0]; ++row) {
    auto at = [&](int64_t col) {
      return table->data[table->offset + row * table->strides[0] +
                         col * table->strides[1]];
    };
    TensorView view;
    if (!decodeDType(at(1), view.dtype)) {
      error = "packed tensor #" + std::to_string(row) +
              " has unknown element type code " + std::to_string(at(1));
      return false;
    }
    int64_t rank = at(2);
    if (rank < 0 || rank > HFQ_MAX_RANK) {
      error = "packed tensor #" + std::to_string(row) + " has rank " +
              std::to_string(rank);
      return false;
    }
    for (int64_t d = 0; d < rank; ++d) {
      if (at(3 + d) < 0) {
        error = "packed tensor #" + std::to_string(row) + " has a negative size";
        return false;
      }
      view.shape.push_back(at(3 + d));
    }
    view.data = reinterpret_cast<const void *>(static_cast<intptr_t>(at(0)));
    if (!view.data && view.numel() != 0) {
      error = "packed tensor #" + std::to_string(row) + " has no data";
      return false;
    }
    views.push_back(std::move(view));
  }
  return true;
}

std::vector<double> decodeArgs(const StridedMemRefType<double, 1> *args) {
  std::vector<double> out;
  if (args)
    for (int64_t i = 0; i < args->sizes[0]; ++i)
      out.push_back(args->data[args->offset + i * args->strides[0]]);
  return out;
}

bool expectTensorCount(size_t got, size_t count, const char *names,
                       std::string &error) {
  if (got == count)
    return true;
  error = "expected " + std::to_string(count) + " packed tensors (" + names +
          "), got " + std::to_string(got);
  return false;
}

} // namespace hfq::kernels
