//===- Abi.cpp - The kernel ABI, decoded, for every runtime ---------------===//

#include "kernels/abi/Abi.h"

#include "kernels/abi/StoredTensor.h"

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
  // Exit status 1 without unwinding: the failing call is deep inside
  // compiled code (and maybe a CUDA stream's work), where running static
  // destructors or atexit handlers is not safe. A precondition failure is
  // an error of the input, not a crash: no abort, no core dump.
  std::_Exit(1);
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
  case HFQ_I64: dtype = DType::I64; return true;
  default: return false;
  }
}

} // namespace

bool checkDescriptor(const void *data, int64_t offset, const int64_t *sizes,
                     const int64_t *strides, int rank, size_t elementBytes,
                     const char *name, std::string &error) {
  auto fail = [&](const std::string &why) {
    error = std::string(name) + " " + why;
    return false;
  };
  std::vector<int64_t> shape(sizes, sizes + rank);
  int64_t count = 1, bytes = 0;
  for (int64_t size : shape)
    if (size < 0)
      return fail("has a negative size in " + shapeString(shape));
  for (int64_t size : shape)
    if (__builtin_mul_overflow(count, size, &count))
      return fail("has sizes " + shapeString(shape) +
                  " whose element count overflows 64 bits");
  if (__builtin_mul_overflow(count, static_cast<int64_t>(elementBytes),
                             &bytes))
    return fail("has " + std::to_string(count) +
                " elements, whose byte size overflows 64 bits");
  if (count == 0)
    return true;
  if (!data)
    return fail("has no data");
  // The lowest and highest element index the descriptor reaches.
  int64_t lo = offset, hi = offset;
  for (int d = 0; d < rank; ++d) {
    int64_t reach;
    if (__builtin_mul_overflow(sizes[d] - 1, strides[d], &reach) ||
        __builtin_add_overflow(reach < 0 ? lo : hi, reach,
                               reach < 0 ? &lo : &hi))
      return fail("has offset " + std::to_string(offset) + " and strides " +
                  shapeString(std::vector<int64_t>(strides, strides + rank)) +
                  " whose element indices overflow 64 bits");
  }
  uintptr_t end;
  int64_t lastByte;
  if (lo < 0)
    return fail("has offset " + std::to_string(offset) + " and strides " +
                shapeString(std::vector<int64_t>(strides, strides + rank)) +
                " that reach before its data");
  if (__builtin_mul_overflow(hi, static_cast<int64_t>(elementBytes),
                             &lastByte) ||
      __builtin_add_overflow(reinterpret_cast<uintptr_t>(data),
                             static_cast<uint64_t>(lastByte) + elementBytes,
                             &end))
    return fail("reaches past the end of the address space");
  return true;
}

bool decodeTable(const StridedMemRefType<int64_t, 2> *table,
                 std::vector<TensorView> &views, std::string &error) {
  const std::string columns =
      "the tensor table must have " + std::to_string(HFQ_TABLE_COLUMNS) +
      " columns";
  if (!table) {
    error = columns + ", not a null memref descriptor";
    return false;
  }
  if (!checkMemRef(table, "the tensor table", error))
    return false;
  if (table->sizes[1] != HFQ_TABLE_COLUMNS) {
    error = columns + ", got " + std::to_string(table->sizes[1]);
    return false;
  }
  if (table->sizes[0] > kMaxTableRows) {
    error = "the tensor table has " + std::to_string(table->sizes[0]) +
            " rows (limit: " + std::to_string(kMaxTableRows) +
            ", kMaxTableRows in kernels/abi/Abi.h)";
    return false;
  }
  for (int64_t row = 0; row < table->sizes[0]; ++row) {
    auto at = [&](int64_t col) {
      return table->data[table->offset + row * table->strides[0] +
                         col * table->strides[1]];
    };
    const std::string tensor = "packed tensor #" + std::to_string(row);
    TensorView view;
    if (!decodeDType(at(1), view.dtype)) {
      error = tensor + " has unknown element type code " +
              std::to_string(at(1));
      return false;
    }
    int64_t rank = at(2);
    if (rank < 0 || rank > HFQ_MAX_RANK) {
      error = tensor + " has rank " + std::to_string(rank) + " (at most " +
              std::to_string(HFQ_MAX_RANK) + ")";
      return false;
    }
    for (int64_t d = 0; d < rank; ++d)
      view.shape.push_back(at(3 + d));
    view.data = reinterpret_cast<const void *>(static_cast<intptr_t>(at(0)));
    // A contiguous row-major buffer: its descriptor has the row-major
    // strides, so checkDescriptor checks its size and address range.
    std::vector<int64_t> strides(view.shape.size(), 1);
    for (size_t d = view.shape.size(); d-- > 1;)
      if (__builtin_mul_overflow(strides[d], view.shape[d], &strides[d - 1]))
        strides[d - 1] = 0; // the element count overflows: refused below
    if (!checkDescriptor(view.data, 0, view.shape.data(), strides.data(),
                         static_cast<int>(rank), dtypeSize(view.dtype),
                         tensor.c_str(), error))
      return false;
    views.push_back(std::move(view));
  }
  return true;
}

bool decodeArgs(const StridedMemRefType<double, 1> *args,
                std::vector<double> &out, std::string &error) {
  out.clear();
  if (!args)
    return true;
  if (!checkMemRef(args, "args", error))
    return false;
  if (args->sizes[0] > kMaxKernelArgs) {
    error = "args has " + std::to_string(args->sizes[0]) +
            " values (limit: " + std::to_string(kMaxKernelArgs) +
            ", kMaxKernelArgs in kernels/abi/Abi.h)";
    return false;
  }
  for (int64_t i = 0; i < args->sizes[0]; ++i)
    out.push_back(args->data[args->offset + i * args->strides[0]]);
  return true;
}

std::vector<double> decodeArgs(const StridedMemRefType<double, 1> *args) {
  std::vector<double> out;
  std::string error;
  if (!decodeArgs(args, out, error))
    out.clear();
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
