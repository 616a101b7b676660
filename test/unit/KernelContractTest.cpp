//===- KernelContractTest.cpp - The kernels' contract, from the specs -----===//
//
// hfq-spec-compile --kernel-contract (tools/hfq-spec-compile) and what it
// generates (kernels/generated/MethodArgs.h, compiled in here from the
// builtin specs): the typing rule of layout args, the generator's refusals,
// the generated decoders' messages, and that every kernel the builtin specs
// name (not `planned`) is defined by the library meant to provide it
// (dlsym on libhfq_kernels_ref.so, and on libhfq_kernels_cuda.so where it
// was built).
//
//===----------------------------------------------------------------------===//

#include "tools/hfq-spec-compile/KernelContract.h"
#include "kernels/generated/MethodArgs.h"
#include "spec/BuiltinSpecs.h"
#include "spec/MethodRegistry.h"
#include "tools/hfq-spec-compile/ArgTypes.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cmath>
#include <map>
#include <string>

using namespace hfq;
using hfq::speccompile::ArgType;
using Kind = ArgType::Kind;

namespace {

//===----------------------------------------------------------------------===//
// The typing rule
//===----------------------------------------------------------------------===//

ArgType typeOf(const std::string &text,
               const std::map<std::string, ArgType> &scope = {}) {
  ArgType type;
  std::string error;
  EXPECT_TRUE(speccompile::inferArgType(text, scope, type, error))
      << text << ": " << error;
  return type;
}

TEST(ArgTypes, LiteralsOperatorsAndNames) {
  std::map<std::string, ArgType> scope = {
      {"bits", ArgType::of(Kind::Int)}, {"threshold", ArgType::of(Kind::Float)},
      {"sym", ArgType::of(Kind::Bool)}, {"format", ArgType::of(Kind::String)},
      {"N", ArgType::of(Kind::Int)},    {"K", ArgType::of(Kind::Int)}};
  auto element = std::make_shared<spec::FieldType>();
  element->kind = spec::FieldType::Kind::Int;
  spec::FieldType listOfInt;
  listOfInt.kind = spec::FieldType::Kind::List;
  listOfInt.element = element;
  scope["block"] = speccompile::fieldArgType(listOfInt);

  EXPECT_EQ(typeOf("4").kind, Kind::Int);
  EXPECT_EQ(typeOf("1.58").kind, Kind::Float);
  EXPECT_EQ(typeOf("1e3").kind, Kind::Float);
  EXPECT_EQ(typeOf("true").kind, Kind::Bool);
  EXPECT_EQ(typeOf("bits", scope).kind, Kind::Int);
  EXPECT_EQ(typeOf("threshold", scope).kind, Kind::Float);
  EXPECT_EQ(typeOf("sym", scope).kind, Kind::Bool);
  EXPECT_EQ(typeOf("format == 'gptq'", scope).kind, Kind::Bool);
  EXPECT_EQ(typeOf("'x' not in format", scope).kind, Kind::Bool);
  EXPECT_EQ(typeOf("not sym and bits > 2", scope).kind, Kind::Bool);
  EXPECT_EQ(typeOf("K * bits // 32", scope).kind, Kind::Int);
  EXPECT_EQ(typeOf("K % 8 - -1", scope).kind, Kind::Int);
  EXPECT_EQ(typeOf("K / 2", scope).kind, Kind::Float);
  EXPECT_EQ(typeOf("bits * threshold", scope).kind, Kind::Float);
  EXPECT_EQ(typeOf("ceil_div(N, 8) * 8", scope).kind, Kind::Int);
  EXPECT_EQ(typeOf("len(format)", scope).kind, Kind::Int);
  EXPECT_EQ(typeOf("block[0]", scope).kind, Kind::Int);
  EXPECT_EQ(typeOf("max(bits, 4)", scope).kind, Kind::Int);
  // Read out of a dict (or a name the scope does not type): Unknown, which
  // the contract passes as a double.
  EXPECT_EQ(typeOf("scheme.weights.num_bits").kind, Kind::Unknown);
  EXPECT_EQ(typeOf("max(scheme.g, 4)").kind, Kind::Unknown);
}

TEST(ArgTypes, TernariesJoinLenientlyAndKeepCodes) {
  ArgType code = typeOf("x == 'a' ? 1 : (x == 'b' ? 2 : 3)");
  EXPECT_EQ(code.kind, Kind::Int);
  ASSERT_TRUE(code.codes);
  EXPECT_EQ(*code.codes, (std::set<int64_t>{1, 2, 3}));
  EXPECT_EQ(*typeOf("-(2)").codes, (std::set<int64_t>{-2}));
  // Unknown takes the other side's type, but is not a code.
  ArgType orZero = typeOf("g == null ? 0 : g");
  EXPECT_EQ(orZero.kind, Kind::Int);
  EXPECT_FALSE(orZero.codes);
  EXPECT_EQ(typeOf("'o' in wq ? wq.o : true").kind, Kind::Bool);
  EXPECT_EQ(typeOf("c ? 1 : 0.5").kind, Kind::Float);
  EXPECT_EQ(typeOf("c ? true : 2").kind, Kind::Int);
  EXPECT_EQ(typeOf("c ? 'a' : 2").kind, Kind::Unknown);

  ArgType a = typeOf("0"), b = typeOf("c ? 1 : 2");
  EXPECT_EQ(*speccompile::joinArgTypes(a, b).codes,
            (std::set<int64_t>{0, 1, 2}));
  EXPECT_FALSE(speccompile::joinArgTypes(a, typeOf("K")).codes);
}

TEST(ArgTypes, ReportsWhatItCannotFollow) {
  ArgType type;
  std::string error;
  EXPECT_FALSE(speccompile::inferArgType("a ? b", {}, type, error));
  EXPECT_EQ(error, "expected ':'");
  EXPECT_FALSE(speccompile::inferArgType("a $ b", {}, type, error));
  EXPECT_NE(error.find("unexpected character"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// The generator
//===----------------------------------------------------------------------===//

/// A one-quantizer spec whose layouts pass `argsA` and `argsB` (JSON
/// objects) and whose kernel rules are `kernels` (a JSON array).
std::string toySpec(const std::string &key, const std::string &argsA,
                    const std::string &argsB, const std::string &kernels) {
  return R"({
  "hfq_spec": 1,
  "config": {
    "class": "Toy)" +
         key + R"(Config", "quant_method": ")" + key + R"(",
    "fields": [
      {"name": "bits", "type": "int", "default": 4},
      {"name": "sym", "type": "bool", "default": true},
      {"name": "format", "type": "string", "default": "a"}
    ]
  },
  "quantizers": [{
    "key": ")" +
         key + R"(", "class": "ToyHfQuantizer", "order": 100,
    "skip_modules": {"field": null, "default_skips": "never"},
    "layouts": [
      {"when": "format == 'a'", "tensors": [{"name": "w", "dtype": "i32", "shape": ["N", "K"]}],
       "args": )" +
         argsA + R"(},
      {"tensors": [{"name": "w", "dtype": "i32", "shape": ["N", "K"]}],
       "args": )" +
         argsB + R"(},
      {"tensors": [], "require": [{"when": "true", "message": "a guard"}]}
    ],
    "kernels": )" +
         kernels + R"(
  }]
})";
}

bool generateContract(const std::vector<std::string> &specs,
                      std::string &header, std::string &error) {
  spec::MethodRegistry registry;
  spec::SpecError specError;
  for (size_t i = 0; i < specs.size(); ++i)
    if (!registry.addText(specs[i], "toy" + std::to_string(i) + ".json",
                          specError)) {
      error = specError.str();
      return false;
    }
  return speccompile::generateKernelContract(registry, header, error);
}

TEST(KernelContract, AStructPerQuantizerAndTheKernelLists) {
  std::string header, error;
  ASSERT_TRUE(generateContract(
      {toySpec(
          "toy", R"({"bits": "bits", "mode": "0", "sym": "sym"})",
          R"({"bits": "bits", "mode": "format == 'b' ? 1 : 2", "sym": "not sym"})",
          R"([{"name": "hfq_toy_w4a16_gemv", "when": "target.cuda"},
                   {"name": "hfq_toy_planned", "when": "true", "planned": "later"},
                   {"name": "hfq_ref_toy", "when": "true"}])")},
      header, error))
      << error;
  for (const char *expected : {
           "struct ToyArgs {",
           "static constexpr const char *kMethod = \"toy\";",
           "static constexpr const char *kNames = \"bits, mode, sym\";",
           "static constexpr const char *kTensorNames = \"w\";",
           "int64_t bits = 0; ///< int: bits",
           "int64_t mode = 0; ///< int code, one of 0, 1, 2",
           "bool sym = false; ///< bool: sym (first layout)",
           "decodeIntArg(args[1], \"mode\", 0, 2, out.mode, error)",
           "using hfq_ref_toy = ToyArgs;",
           "X(hfq_ref_toy, ToyArgs)",
           "X(hfq_toy_w4a16_gemv, \"toy\")",
           "{\"hfq_ref_toy\", KernelRuntime::Reference, \"toy\", true},",
           "{\"hfq_toy_w4a16_gemv\", KernelRuntime::Cuda, \"toy\", false},",
       })
    EXPECT_NE(header.find(expected), std::string::npos) << expected;
  EXPECT_EQ(header.find("hfq_toy_planned"), std::string::npos);
}

TEST(KernelContract, ASharedKernelReadsTheCommonPrefix) {
  std::string header, error;
  const char *kernels = R"([{"name": "hfq_shared_dequant", "when": "sym"},
                            {"name": "hfq_ref_x", "when": "true"}])";
  const std::string a = toySpec("one", R"({"block": "bits", "x": "0"})",
                                R"({"block": "2", "x": "1"})", kernels);
  std::string b = toySpec("two", R"({"block": "bits", "y": "sym"})",
                          R"({"block": "8", "y": "sym"})", kernels);
  // Each quantizer names its own reference kernel.
  b.replace(b.find("hfq_ref_x"), 9, "hfq_ref_y");
  ASSERT_TRUE(generateContract({a, b}, header, error)) << error;
  for (const char *expected : {
           "struct SharedDequantArgs {",
           "static constexpr const char *kNames = \"block\";",
           "return expectArgPrefix(args, kCount, kNames, error)",
           "using hfq_shared_dequant = SharedDequantArgs;",
           // A kernel that can be chosen without a CUDA target is the CPU
           // reference's, whatever its name.
           "{\"hfq_shared_dequant\", KernelRuntime::Reference, \"one, two\", "
           "false},",
       })
    EXPECT_NE(header.find(expected), std::string::npos) << expected;
}

/// The generator's error for a one-quantizer spec whose two layouts pass
/// `argsA` and `argsB`.
std::string refusal(const std::string &argsA, const std::string &argsB) {
  std::string header, error;
  EXPECT_FALSE(generateContract(
      {toySpec("toy", argsA, argsB,
               R"([{"name": "hfq_ref_toy", "when": "true"}])")},
      header, error));
  return error;
}

TEST(KernelContract, RefusesWhatTheKernelsCannotDecode) {
  EXPECT_EQ(refusal(R"({"bits": "bits"})", R"({"group": "bits"})")
                .rfind("toy0.json: /quantizers/0/layouts/1/args: passes "
                       "(group) where /quantizers/0/layouts/0 passes (bits)",
                       0),
            0u);
  EXPECT_NE(refusal(R"({"f": "format"})", R"({"f": "format"})")
                .find("/args/f: a kernel arg must be a number or a bool, "
                      "this one is a string"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"class": "bits"})", R"({"class": "bits"})")
                .find("must be a C++ identifier"),
            std::string::npos);
  std::string header, error;
  const char *shared =
      R"([{"name": "hfq_shared_w4a16_gemv", "when": "target.cuda"}])";
  std::string two =
      toySpec("two", R"({"bits": "bits"})", R"({"bits": "bits"})", shared);
  EXPECT_FALSE(generateContract(
      {toySpec("one", R"({"bits": "bits"})", R"({"bits": "bits"})", shared),
       two},
      header, error));
  EXPECT_NE(error.find("CUDA kernel 'hfq_shared_w4a16_gemv' is named by one, "
                       "two"),
            std::string::npos)
      << error;
}

//===----------------------------------------------------------------------===//
// The generated decoders (from the builtin specs)
//===----------------------------------------------------------------------===//

std::string decodeError(const std::vector<double> &args) {
  kernels::GptqArgs out;
  std::string error;
  EXPECT_FALSE(kernels::GptqArgs::decode(args, out, error));
  return error;
}

TEST(MethodArgs, DecodersCheckCountFinitenessIntegralityAndRange) {
  kernels::GptqArgs gptq;
  std::string error;
  ASSERT_TRUE(kernels::GptqArgs::decode({4, -1, 1}, gptq, error)) << error;
  EXPECT_EQ(gptq.bits, 4);
  EXPECT_EQ(gptq.group_size, -1);
  EXPECT_TRUE(gptq.zero_stored_minus_one);
  EXPECT_EQ(decodeError({4, 32}),
            "expected 3 arguments (bits, group_size, zero_stored_minus_one), "
            "got 2");
  EXPECT_EQ(decodeError({4.5, 32, 1}),
            "bits must be an integer in [-2147483648, 2147483647], got "
            "4.500000");
  EXPECT_EQ(decodeError({NAN, 32, 1}).substr(0, 23), "bits must be an integer");
  EXPECT_EQ(decodeError({4, 1e12, 1}).substr(0, 29),
            "group_size must be an integer");
  EXPECT_EQ(decodeError({4, 32, 2}),
            "zero_stored_minus_one must be 0 or 1, got 2.000000");

  kernels::AwqArgs awq;
  EXPECT_FALSE(kernels::AwqArgs::decode({4, 32, 3}, awq, error));
  EXPECT_EQ(error, "version must be an integer in [0, 2], got 3.000000");
  kernels::Bitsandbytes8bitArgs bnb8;
  EXPECT_FALSE(kernels::Bitsandbytes8bitArgs::decode({INFINITY}, bnb8, error));
  EXPECT_EQ(error, "llm_int8_threshold must be a finite number, got inf");
  kernels::HqqArgs hqq;
  ASSERT_TRUE(kernels::HqqArgs::decode({1.58, 64, 1, 0, 0, 1}, hqq, error))
      << error;
  EXPECT_DOUBLE_EQ(hqq.nbits, 1.58);
  kernels::Fp8DequantBf16Args fp8;
  ASSERT_TRUE(kernels::Fp8DequantBf16Args::decode(
      {128, 128, 3, 8, 1, 0, 0, 0, 0}, fp8, error))
      << error;
  EXPECT_FALSE(kernels::Fp8DequantBf16Args::decode({128}, fp8, error));
  EXPECT_EQ(error,
            "expected at least 2 arguments (block_n, block_k, ...), got 1");
}

//===----------------------------------------------------------------------===//
// Every kernel of the builtin specs, where it belongs
//===----------------------------------------------------------------------===//

const kernels::KernelSymbol *findSymbol(const std::string &name) {
  for (const kernels::KernelSymbol &symbol : kernels::kKernelSymbols)
    if (name == symbol.name)
      return &symbol;
  return nullptr;
}

TEST(KernelSymbols, TheGeneratedListIsTheSpecsKernels) {
  spec::MethodRegistry registry;
  spec::SpecError error;
  ASSERT_TRUE(spec::loadBuiltinSpecs(registry, error)) << error.str();
  std::set<std::string> named;
  for (const spec::QuantizerSpec *q : registry.quantizers())
    for (const spec::KernelRule &rule : q->kernels) {
      const kernels::KernelSymbol *symbol = findSymbol(rule.name);
      if (!rule.planned.empty()) {
        // Planned for this quantizer; the same name may be implemented for
        // another one (hfq_fp8_scaled_mm: fp8's, planned for
        // compressed-tensors and torchao), never for this one.
        EXPECT_TRUE(symbol == nullptr ||
                    std::string(symbol->methods).find(q->key) ==
                        std::string::npos)
            << rule.name << " is planned for " << q->key;
        continue;
      }
      named.insert(rule.name);
      ASSERT_NE(symbol, nullptr) << rule.name;
      EXPECT_NE(std::string(symbol->methods).find(q->key), std::string::npos)
          << rule.name;
      if (rule.name.rfind("hfq_ref_", 0) == 0)
        EXPECT_EQ(symbol->runtime, kernels::KernelRuntime::Reference);
      if (&rule == &q->kernels.back())
        EXPECT_TRUE(symbol->quantize) << rule.name;
    }
  EXPECT_EQ(named.size(), std::size(kernels::kKernelSymbols));
}

/// dlopen of `path`, closed at the end of the scope.
struct Library {
  void *handle;
  explicit Library(const char *path) : handle(dlopen(path, RTLD_NOW)) {}
  ~Library() {
    if (handle)
      dlclose(handle);
  }
  bool defines(const std::string &symbol) const {
    return handle && dlsym(handle, symbol.c_str()) != nullptr;
  }
};

TEST(KernelSymbols, TheCpuReferenceDefinesItsKernels) {
  Library ref(HFQ_KERNELS_REF_LIBRARY);
  ASSERT_NE(ref.handle, nullptr) << dlerror();
  size_t checked = 0;
  for (const kernels::KernelSymbol &symbol : kernels::kKernelSymbols) {
    if (symbol.runtime != kernels::KernelRuntime::Reference)
      continue;
    const std::string base = std::string("_mlir_ciface_") + symbol.name;
    for (const char *act : {"_f32", "_f16", "_bf16"}) {
      EXPECT_TRUE(ref.defines(base + act)) << base << act;
      if (symbol.quantize)
        EXPECT_TRUE(ref.defines(base + "_quantize" + act))
            << base << "_quantize" << act;
    }
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

TEST(KernelSymbols, TheCudaLibraryDefinesItsKernels) {
#ifndef HFQ_KERNELS_CUDA_LIBRARY
  GTEST_SKIP() << "the CUDA library is not built (no nvcc)";
#else
  Library cuda(HFQ_KERNELS_CUDA_LIBRARY);
  ASSERT_NE(cuda.handle, nullptr) << dlerror();
  size_t checked = 0;
  for (const kernels::KernelSymbol &symbol : kernels::kKernelSymbols) {
    if (symbol.runtime != kernels::KernelRuntime::Cuda)
      continue;
    for (const char *act : {"_f16", "_bf16", "_f32"})
      EXPECT_TRUE(
          cuda.defines(std::string("_mlir_ciface_") + symbol.name + act))
          << symbol.name << act;
    ++checked;
  }
  EXPECT_GT(checked, 0u);
  // The ABI runtime is not the CUDA library's own: one last error per
  // process, from libhfq_kernel_abi.so.
  void *own = dlsym(cuda.handle, "hfq_kernel_last_error");
  Dl_info info;
  ASSERT_NE(own, nullptr);
  ASSERT_NE(dladdr(own, &info), 0);
  EXPECT_NE(std::string(info.dli_fname).find("libhfq_kernel_abi"),
            std::string::npos)
      << info.dli_fname;
#endif
}

} // namespace
