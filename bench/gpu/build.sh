#!/usr/bin/env bash
# Builds, on the GPU machine (no LLVM, no CMake of the project: the host
# compiler and nvcc alone), what runs a compiled artifact there:
#   lib/libhfq_kernel_abi.so      the ABI runtime (last error, table decoding)
#   lib/libhfq_kernels_ref.so     the CPU reference kernels
#   lib/libhfq_model_ops_cuda.so  the model ops on the device
#   lib/libhfq_kernels_cuda.so    the weight-only kernels behind the ABI
#   lib/libhfq_runtime_cuda.so    the device runtime (runtime/hfq_device.h)
#   lib/libhfq_runtime.so         the weight loader and generation loop
#   bin/hfq-exec                  the host
# into $HFQ_GPU_BUILD (default /tmp/hfq-gpu), every library linked with
# --no-undefined (a source missing here fails the build, not the first run). The libraries are composed as
# CMake composes them (kernels/CMakeLists.txt, kernels/cuda/CMakeLists.txt,
# runtime/CMakeLists.txt). MLIR's memref descriptor comes from bench/shim,
# the kernel contract from .device/gen (bench/gpu/artifacts.sh copies it
# there) or from hfq-spec-compile built here.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
B=${HFQ_GPU_BUILD:-/tmp/hfq-gpu}
mkdir -p "$B/obj" "$B/lib" "$B/bin"
NVCC=${NVCC:-nvcc}
GENCODE="-gencode=arch=compute_90a,code=sm_90a"
GEN=$(bash bench/gpu/contract.sh "$B")
INC="-I$ROOT -I$ROOT/bench/shim -I$GEN"
obj() { echo "$B/obj/$(echo "$1" | tr / _).o"; }

# Every object, in parallel.
SOURCES=(kernels/abi/*.cpp kernels/ref/*.cpp kernels/repack/*.cpp kernels/cuda/Entry.cpp
         runtime/WeightStore.cpp runtime/Generation.cpp runtime/Host.cpp runtime/Tokenizer.cpp
         runtime/cuda/Staging.cpp checkpoint/*.cpp spec/*.cpp spec/expr/*.cpp
         tools/hfq-exec/hfq-exec.cpp)
# The weight-only kernels: every .cu of kernels/cuda but the model ops'.
WEIGHT_ONLY=()
for src in kernels/cuda/*.cu; do
  [[ "$src" == kernels/cuda/ModelOps* ]] || WEIGHT_ONLY+=("$src")
done
CUDA_SOURCES=(kernels/cuda/ModelOps*.cu "${WEIGHT_ONLY[@]}" runtime/cuda/DeviceRuntime.cu)
pids=()
for src in "${SOURCES[@]}"; do
  g++ -std=c++17 -O2 -fPIC -fexceptions $INC -I/usr/local/cuda/include -c "$src" -o "$(obj "$src")" &
  pids+=($!)
done
for src in "${CUDA_SOURCES[@]}"; do
  $NVCC -std=c++17 -O3 $INC $GENCODE -Xcompiler -fPIC -c "$src" -o "$(obj "$src")" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done

objs() { for s in "$@"; do obj "$s"; done; }
L="-L$B/lib -Wl,-rpath,$B/lib"
CUDA_L="-L/usr/local/cuda/lib64 -lcudart -lcublas"
g++ -shared -Wl,--no-undefined -o "$B/lib/libhfq_kernel_abi.so" $(objs kernels/abi/*.cpp)
g++ -shared -Wl,--no-undefined -o "$B/lib/libhfq_kernels_ref.so" $(objs kernels/ref/*.cpp) $L -lhfq_kernel_abi
g++ -shared -Wl,--no-undefined -o "$B/lib/libhfq_model_ops_cuda.so" $(objs kernels/cuda/ModelOps*.cu) \
  "$(obj kernels/ref/ModelOps.cpp)" $L -lhfq_kernel_abi $CUDA_L
g++ -shared -Wl,--no-undefined -o "$B/lib/libhfq_kernels_cuda.so" $(objs kernels/cuda/Entry.cpp kernels/repack/*.cpp \
  "${WEIGHT_ONLY[@]}") \
  $L -lhfq_kernels_ref -lhfq_kernel_abi $CUDA_L
g++ -shared -Wl,--no-undefined -o "$B/lib/libhfq_runtime_cuda.so" $(objs runtime/cuda/DeviceRuntime.cu runtime/cuda/Staging.cpp) \
  $L -lhfq_model_ops_cuda -lhfq_kernel_abi $CUDA_L -ldl
SPEC=$(objs spec/*.cpp spec/expr/*.cpp)
g++ -shared -Wl,--no-undefined -o "$B/lib/libhfq_runtime.so" $(objs runtime/WeightStore.cpp runtime/Generation.cpp \
  runtime/Host.cpp runtime/Tokenizer.cpp checkpoint/*.cpp) $SPEC $L -lhfq_kernel_abi
g++ -o "$B/bin/hfq-exec" "$(obj tools/hfq-exec/hfq-exec.cpp)" $SPEC $L -lhfq_runtime -lhfq_kernel_abi -ldl
echo "built $B/bin/hfq-exec and $(ls "$B/lib" | wc -l) libraries"
