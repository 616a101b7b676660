//===- KernelContract.h - The kernels' contract, from the specs -*- C++ -*-===//
//
// What every kernel of a method needs to know about it at run time, read
// from the specs so that no runtime restates it: the layout `args` as a
// struct of typed fields with a checking decoder, the tensor names when
// they are fixed, and which kernels each runtime must define.
// hfq-spec-compile --kernel-contract writes it as one C++ header
// (kernels/generated/MethodArgs.h in the build tree); docs/kernels.md, "The
// args of a kernel", describes its shape and the typing rule.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_TOOLS_HFQ_SPEC_COMPILE_KERNELCONTRACT_H
#define HFQ_TOOLS_HFQ_SPEC_COMPILE_KERNELCONTRACT_H

#include "spec/MethodRegistry.h"

#include <string>

namespace hfq::speccompile {

/// The header for every quantizer of `registry`, or false with `error`
/// ("<file>: <json-pointer>: <what>") when a spec breaks what the kernels
/// rely on: layouts of one quantizer passing different args, an arg that is
/// not a number or a bool, a CUDA kernel shared by several methods.
bool generateKernelContract(const spec::MethodRegistry &registry,
                            std::string &header, std::string &error);

} // namespace hfq::speccompile

#endif // HFQ_TOOLS_HFQ_SPEC_COMPILE_KERNELCONTRACT_H
