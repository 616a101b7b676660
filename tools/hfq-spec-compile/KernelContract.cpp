//===- KernelContract.cpp - The kernels' runtime contract, from the specs -===//
//
// Two steps: read the contract out of the registry (one args struct per
// quantizer, one entry per kernel a runtime provides), then print it. The
// rules it applies are in KernelContract.h, ArgTypes.h and docs/kernels.md.
//
//===----------------------------------------------------------------------===//

#include "tools/hfq-spec-compile/KernelContract.h"

#include "tools/hfq-spec-compile/ArgTypes.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace hfq::speccompile {

using spec::KernelRule;
using spec::LayoutSpec;
using spec::MethodRegistry;
using spec::QuantizerSpec;
using spec::SpecError;
using Kind = ArgType::Kind;

namespace {

//===----------------------------------------------------------------------===//
// The contract
//===----------------------------------------------------------------------===//

struct ContractArg {
  std::string name;
  ArgType type;
  /// The expression of the first layout that passes it (for the comment),
  /// and whether another layout writes a different one.
  std::string source;
  bool sourcesDiffer = false;
};

/// The args one kernel decodes: a quantizer's, or the prefix several
/// quantizers' layouts share (a kernel that serves several methods).
struct ArgsStruct {
  std::string typeName;
  std::string doc;
  /// The quantizer key (kMethod), empty for a shared prefix.
  std::string method;
  bool prefix = false;
  std::vector<ContractArg> args;
  /// The layouts' tensors when every layout has the same, unconditionally.
  std::optional<std::vector<std::string>> tensors;
};

struct ContractKernel {
  std::string name;
  std::vector<std::string> methods;
  bool cuda = false;
  /// Lowered hfq.quantize calls <name>_quantize_<wt>: the last kernel rule.
  bool quantize = false;
  std::string argsType;
};

struct Contract {
  std::vector<ArgsStruct> structs;
  std::vector<ContractKernel> kernels;
};

std::string fileOf(const QuantizerSpec &q) {
  return q.method ? q.method->file : std::string("<spec>");
}

/// "compressed-tensors" -> "CompressedTensorsArgs".
std::string structName(const std::string &base) {
  std::string out;
  bool upper = true;
  for (char c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    out += upper
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
               : c;
    upper = false;
  }
  return out + "Args";
}

bool isIdentifier(const std::string &name) {
  static const std::set<std::string> kKeywords = {
      "auto",    "bool",      "break",    "case",     "char",     "class",
      "const",   "continue",  "default",  "delete",   "do",       "double",
      "else",    "enum",      "explicit", "extern",   "false",    "float",
      "for",     "friend",    "goto",     "if",       "inline",   "int",
      "long",    "namespace", "new",      "operator", "private",  "protected",
      "public",  "register",  "return",   "short",    "signed",   "sizeof",
      "static",  "struct",    "switch",   "template", "this",     "throw",
      "true",    "try",       "typedef",  "union",    "unsigned", "using",
      "virtual", "void",      "volatile", "while",    "out",      "args",
      "error"};
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return !kKeywords.count(name);
}

/// The names a layout's expressions read, typed: the config's fields,
/// `quant_method`, N and K (params are added in order by the caller;
/// `scheme` stays Unknown).
std::map<std::string, ArgType> layoutScope(const QuantizerSpec &q) {
  std::map<std::string, ArgType> scope;
  if (q.method)
    for (const spec::FieldSpec &field : q.method->config.fields)
      scope[field.name] = fieldArgType(field.type);
  scope["quant_method"] = ArgType::of(Kind::String);
  scope["N"] = ArgType::of(Kind::Int);
  scope["K"] = ArgType::of(Kind::Int);
  return scope;
}

bool typeLayoutArgs(const QuantizerSpec &q, const LayoutSpec &layout,
                    std::vector<ContractArg> &args, std::string &error) {
  std::map<std::string, ArgType> scope = layoutScope(q);
  std::string why;
  for (const auto &[name, expr] : layout.params) {
    ArgType type;
    if (!inferArgType(expr.text(), scope, type, why)) {
      error = SpecError{fileOf(q), layout.pointer + "/params/" + name,
                        "cannot type this expression: " + why}
                  .str();
      return false;
    }
    scope[name] = type;
  }
  for (const auto &[name, expr] : layout.args) {
    ContractArg arg{name, {}, expr.text()};
    if (!inferArgType(expr.text(), scope, arg.type, why)) {
      error = SpecError{fileOf(q), layout.pointer + "/args/" + name,
                        "cannot type this expression: " + why}
                  .str();
      return false;
    }
    args.push_back(std::move(arg));
  }
  return true;
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &name : names)
    out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::vector<std::string> argNames(const std::vector<ContractArg> &args) {
  std::vector<std::string> names;
  for (const ContractArg &arg : args)
    names.push_back(arg.name);
  return names;
}

/// Checks that every arg is a number or a bool and a C++ name.
bool checkArgs(const std::string &file, const std::string &pointer,
               const std::vector<ContractArg> &args, std::string &error) {
  for (const ContractArg &arg : args) {
    const Kind kind = arg.type.kind;
    std::string problem;
    if (!isIdentifier(arg.name))
      problem = "a kernel arg name must be a C++ identifier (it names a field "
                "of the generated args struct)";
    else if (kind != Kind::Bool && kind != Kind::Int && kind != Kind::Float &&
             kind != Kind::Unknown)
      problem = std::string("a kernel arg must be a number or a bool, this "
                            "one is a ") +
                arg.type.name();
    if (!problem.empty()) {
      error = SpecError{file, pointer + "/args/" + arg.name, problem}.str();
      return false;
    }
  }
  return true;
}

/// One quantizer's args struct: its layouts (guards aside) must pass the
/// same args in the same order, since its kernels decode them without
/// knowing which layout matched.
bool quantizerStruct(const QuantizerSpec &q, ArgsStruct &out,
                     std::string &error) {
  out.typeName = structName(q.key);
  out.method = q.key;
  out.doc = q.key + " (" + fileOf(q) + ")";
  const LayoutSpec *first = nullptr;
  bool sameTensors = true;
  std::vector<std::string> tensors;
  for (const LayoutSpec &layout : q.layouts) {
    if (layout.tensors.empty())
      continue; // a guard: no kernel ever receives its (absent) args
    std::vector<ContractArg> args;
    if (!typeLayoutArgs(q, layout, args, error))
      return false;
    std::vector<std::string> names;
    for (const spec::TensorSpec &tensor : layout.tensors) {
      names.push_back(tensor.name);
      sameTensors = sameTensors && !tensor.when;
    }
    if (!first) {
      first = &layout;
      out.args = std::move(args);
      tensors = std::move(names);
      continue;
    }
    sameTensors = sameTensors && names == tensors;
    if (argNames(args) != argNames(out.args)) {
      error = SpecError{fileOf(q), layout.pointer + "/args",
                        "passes (" + joinNames(argNames(args)) + ") where " +
                            first->pointer + " passes (" +
                            joinNames(argNames(out.args)) +
                            "); every layout of a quantizer must pass the "
                            "same args in the same order: its kernels "
                            "decode them without knowing the layout"}
                  .str();
      return false;
    }
    for (size_t i = 0; i < args.size(); ++i) {
      out.args[i].type = joinArgTypes(out.args[i].type, args[i].type);
      out.args[i].sourcesDiffer =
          out.args[i].sourcesDiffer || args[i].source != out.args[i].source;
    }
  }
  if (first && sameTensors)
    out.tensors = tensors;
  return !first || checkArgs(fileOf(q), first->pointer, out.args, error);
}

/// The args every one of `structs` starts with, for a kernel they share.
ArgsStruct prefixStruct(const std::string &kernel,
                        const std::vector<const ArgsStruct *> &structs) {
  ArgsStruct out;
  out.typeName =
      structName(kernel.substr(kernel.rfind("hfq_", 0) == 0 ? 4 : 0));
  out.prefix = true;
  std::vector<std::string> methods;
  for (const ArgsStruct *s : structs)
    methods.push_back(s->method);
  out.doc = "the args " + kernel + " reads: the prefix the layouts of " +
            joinNames(methods) + " share";
  out.args = structs.front()->args;
  for (const ArgsStruct *s : structs) {
    size_t common = 0;
    while (common < out.args.size() && common < s->args.size() &&
           out.args[common].name == s->args[common].name) {
      out.args[common].type =
          joinArgTypes(out.args[common].type, s->args[common].type);
      ++common;
    }
    out.args.resize(common);
  }
  return out;
}

/// Whether every rule naming a kernel reads `target`: one that does not can
/// be chosen for the CPU, so the CPU reference must provide it.
bool onlyForTargets(const std::vector<const KernelRule *> &rules) {
  return std::all_of(rules.begin(), rules.end(), [](const KernelRule *rule) {
    return rule->when.freeNames().count("target") != 0;
  });
}

bool readContract(const MethodRegistry &registry, Contract &contract,
                  std::string &error) {
  std::map<std::string, size_t> structOf; // quantizer key -> index
  std::map<std::string, size_t> kernelOf; // kernel name -> index
  std::map<std::string, std::vector<const KernelRule *>> rulesOf;
  std::map<std::string, std::string> fileOfKernel;
  for (const QuantizerSpec *q : registry.quantizers()) {
    ArgsStruct s;
    if (!quantizerStruct(*q, s, error))
      return false;
    structOf[q->key] = contract.structs.size();
    contract.structs.push_back(std::move(s));
    for (const KernelRule &rule : q->kernels) {
      if (!rule.planned.empty())
        continue;
      auto [at, added] = kernelOf.emplace(rule.name, contract.kernels.size());
      if (added) {
        contract.kernels.push_back({rule.name, {}, false, false, ""});
        fileOfKernel[rule.name] = fileOf(*q);
      }
      ContractKernel &kernel = contract.kernels[at->second];
      if (std::find(kernel.methods.begin(), kernel.methods.end(), q->key) ==
          kernel.methods.end())
        kernel.methods.push_back(q->key);
      kernel.quantize = kernel.quantize || &rule == &q->kernels.back();
      rulesOf[rule.name].push_back(&rule);
    }
  }
  std::set<std::string> typeNames;
  for (const ArgsStruct &s : contract.structs)
    typeNames.insert(s.typeName);
  for (ContractKernel &kernel : contract.kernels) {
    kernel.cuda = kernel.name.rfind("hfq_ref_", 0) != 0 &&
                  onlyForTargets(rulesOf[kernel.name]);
    if (kernel.cuda && kernel.methods.size() > 1) {
      error = SpecError{fileOfKernel[kernel.name], "/quantizers",
                        "CUDA kernel '" + kernel.name + "' is named by " +
                            joinNames(kernel.methods) +
                            "; its load-time repack converts one method's "
                            "tensors, so each CUDA kernel serves one method"}
                  .str();
      return false;
    }
    if (kernel.methods.size() == 1) {
      kernel.argsType = contract.structs[structOf[kernel.methods[0]]].typeName;
      continue;
    }
    std::vector<const ArgsStruct *> shared;
    for (const std::string &key : kernel.methods)
      shared.push_back(&contract.structs[structOf[key]]);
    ArgsStruct prefix = prefixStruct(kernel.name, shared);
    if (!typeNames.insert(prefix.typeName).second) {
      error = SpecError{fileOfKernel[kernel.name], "/quantizers",
                        "kernel '" + kernel.name + "' needs an args struct " +
                            prefix.typeName + ", a name already taken"}
                  .str();
      return false;
    }
    kernel.argsType = prefix.typeName;
    contract.structs.push_back(std::move(prefix));
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

/// Whether an int arg is a code: every layout writes it as an integer
/// literal, with two values at least (a single literal, bnb's blocksize 64,
/// is a constant the spec passes today, not the only value a kernel takes).
bool isCode(const ArgType &type) {
  return type.kind == Kind::Int && type.codes && type.codes->size() >= 2;
}

const char *cppType(const ArgType &type) {
  switch (type.kind) {
  case Kind::Bool:
    return "bool";
  case Kind::Int:
    return "int64_t";
  default:
    return "double";
  }
}

/// The field's comment: its type and where it comes from ("bool: format ==
/// 'gptq'", "int code, one of 0, 1, 2", "float, untyped in the spec: ...").
std::string describe(const ContractArg &arg) {
  std::string source =
      arg.source.size() > 56 ? arg.source.substr(0, 53) + "..." : arg.source;
  if (arg.sourcesDiffer)
    source += " (first layout)";
  switch (arg.type.kind) {
  case Kind::Bool:
    return "bool: " + source;
  case Kind::Int:
    if (isCode(arg.type)) {
      std::string values;
      for (int64_t v : *arg.type.codes)
        values += (values.empty() ? "" : ", ") + std::to_string(v);
      return "int code, one of " + values;
    }
    return "int: " + source;
  case Kind::Float:
    return "float: " + source;
  default:
    return "float, untyped in the spec: " + source;
  }
}

std::string quoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text)
    out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

std::string decodeCall(const ContractArg &arg, size_t index) {
  const std::string value = "args[" + std::to_string(index) + "]";
  const std::string name = quoted(arg.name);
  switch (arg.type.kind) {
  case Kind::Bool:
    return "decodeBoolArg(" + value + ", " + name + ", out." + arg.name +
           ", error)";
  case Kind::Int: {
    std::string lo = "kIntArgMin", hi = "kIntArgMax";
    if (isCode(arg.type)) {
      lo = std::to_string(*arg.type.codes->begin());
      hi = std::to_string(*arg.type.codes->rbegin());
    }
    return "decodeIntArg(" + value + ", " + name + ", " + lo + ", " + hi +
           ", out." + arg.name + ", error)";
  }
  default:
    return "decodeNumberArg(" + value + ", " + name + ", out." + arg.name +
           ", error)";
  }
}

void printStruct(std::ostream &os, const ArgsStruct &s) {
  os << "/// " << s.doc << ".\n"
     << "struct " << s.typeName << " {\n";
  if (!s.method.empty())
    os << "  static constexpr const char *kMethod = " << quoted(s.method)
       << ";\n";
  os << "  static constexpr size_t kCount = " << s.args.size() << ";\n"
     << "  static constexpr const char *kNames = "
     << quoted(joinNames(argNames(s.args))) << ";\n";
  if (s.tensors)
    os << "  /// Its layouts' tensors (the same in every layout).\n"
       << "  static constexpr size_t kTensorCount = " << s.tensors->size()
       << ";\n"
       << "  static constexpr const char *kTensorNames = "
       << quoted(joinNames(*s.tensors)) << ";\n";
  os << "\n";
  for (const ContractArg &arg : s.args)
    os << "  " << cppType(arg.type) << " " << arg.name
       << (arg.type.kind == Kind::Bool ? " = false" : " = 0") << "; ///< "
       << describe(arg) << "\n";
  os << "\n"
     << "  /// Decodes the ABI's args; false with `error` naming the arg.\n"
     << "  static bool decode(const std::vector<double> &args, " << s.typeName
     << " &out,\n"
     << "                     std::string &error) {\n";
  if (s.args.empty())
    os << "    (void)out;\n";
  os << "    return " << (s.prefix ? "expectArgPrefix" : "expectArgCount")
     << "(args, kCount, kNames, error)";
  for (size_t i = 0; i < s.args.size(); ++i)
    os << " &&\n           " << decodeCall(s.args[i], i);
  os << ";\n  }\n};\n\n";
}

void printKernels(std::ostream &os, const Contract &contract) {
  os << "/// The args struct of every kernel a runtime provides, by kernel "
        "name.\n"
     << "namespace kernel_args {\n";
  for (const ContractKernel &k : contract.kernels)
    os << "using " << k.name << " = " << k.argsType << ";\n";
  os << "} // namespace kernel_args\n\n";

  os << "/// X(kernel, args struct): the kernels the CPU reference "
        "(libhfq_kernels_ref)\n"
     << "/// provides: _mlir_ciface_<kernel>_<f32|f16|bf16>, and\n"
     << "/// _mlir_ciface_<kernel>_quantize_<f32|f16|bf16> where "
        "kKernelSymbols says\n"
     << "/// `quantize`.\n"
     << "#define HFQ_REF_KERNELS(X)";
  for (const ContractKernel &k : contract.kernels)
    if (!k.cuda)
      os << " \\\n  X(" << k.name << ", " << k.argsType << ")";
  os << "\n\n"
     << "/// X(kernel, method key): the kernels the CUDA library "
        "(libhfq_kernels_cuda)\n"
     << "/// provides: _mlir_ciface_<kernel>_<f16|bf16|f32>.\n"
     << "#define HFQ_CUDA_KERNELS(X)";
  for (const ContractKernel &k : contract.kernels)
    if (k.cuda)
      os << " \\\n  X(" << k.name << ", " << quoted(k.methods[0]) << ")";
  os << "\n\n";

  os << "enum class KernelRuntime { Reference, Cuda };\n\n"
     << "struct KernelSymbol {\n"
     << "  const char *name;\n"
     << "  KernelRuntime runtime;\n"
     << "  /// The quantizer keys whose kernel rules name it, \", "
        "\"-separated.\n"
     << "  const char *methods;\n"
     << "  /// The last rule of a quantizer: lowered hfq.quantize calls\n"
     << "  /// <name>_quantize_<wt>.\n"
     << "  bool quantize;\n"
     << "};\n\n"
     << "/// Every kernel the specs name that is not `planned`, in registry "
        "order.\n"
     << "inline constexpr KernelSymbol kKernelSymbols[] = {\n";
  for (const ContractKernel &k : contract.kernels)
    os << "    {" << quoted(k.name)
       << ", KernelRuntime::" << (k.cuda ? "Cuda" : "Reference") << ", "
       << quoted(joinNames(k.methods)) << ", "
       << (k.quantize ? "true" : "false") << "},\n";
  os << "};\n\n";
}

} // namespace

bool generateKernelContract(const MethodRegistry &registry, std::string &header,
                            std::string &error) {
  Contract contract;
  if (!readContract(registry, contract, error))
    return false;
  std::ostringstream os;
  os << "// Generated by hfq-spec-compile --kernel-contract from "
        "specs/*.json. Do not edit.\n"
     << "//\n"
     << "// The runtime contract of every method's kernels, as the specs "
        "state it: one\n"
     << "// struct per quantizer with its layout `args` as typed fields and "
        "a decoder\n"
     << "// from the ABI's doubles (count, finiteness, integrality, range), "
        "and the\n"
     << "// kernels each runtime provides. docs/kernels.md (\"The args of a "
        "kernel\")\n"
     << "// gives the typing rule.\n\n"
     << "#ifndef HFQ_KERNELS_GENERATED_METHODARGS_H\n"
     << "#define HFQ_KERNELS_GENERATED_METHODARGS_H\n\n"
     << "#include \"kernels/abi/Args.h\"\n\n"
     << "#include <cstddef>\n#include <cstdint>\n#include <string>\n"
     << "#include <vector>\n\n"
     << "namespace hfq::kernels {\n\n";
  for (const ArgsStruct &s : contract.structs)
    printStruct(os, s);
  printKernels(os, contract);
  os << "} // namespace hfq::kernels\n\n"
     << "#endif // HFQ_KERNELS_GENERATED_METHODARGS_H\n";
  header = os.str();
  return true;
}

} // namespace hfq::speccompile
