//===- Report.h - The dispatch report, one serializer -----------*- C++ -*-===//
//
// What dispatch decided and what became of each module, as JSON: the report
// `hfq-plan --json` prints and the passes' `report=` option writes
// (docs/dispatch.md lists the keys). Report is the decision in plain data,
// so it can also ride in the IR (passes/DispatchRecord.h) and be read back.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_QUANTIZER_REPORT_H
#define HFQ_QUANTIZER_REPORT_H

#include "quantizer/GetHfQuantizer.h"
#include "quantizer/KernelRules.h"
#include "quantizer/ModulePlan.h"

#include <optional>
#include <string>
#include <vector>

namespace hfq::spec {

/// One module (or, in hfq-plan, one module repeated across blocks).
struct ModuleReport {
  /// N x K and how many modules the row stands for; hfq-plan only.
  struct Shape {
    int64_t n = 0, k = 0, repeat = 1;
  };
  /// hfq-plan's kernel for a decode and for a prefill step ("": none).
  struct StepKernels {
    std::string decode, prefill;
  };

  std::string name;
  std::optional<Shape> shape;
  bool quantized = false;
  /// The skip rule that matched, or how the module is quantized.
  std::string rule;
  /// The quantizer key; empty when not quantized.
  std::string method;
  /// --hfq-select-kernel's choice.
  std::optional<KernelChoice> kernel;
  std::optional<StepKernels> steps;
};

struct Report {
  /// The quantizer's key and classes; empty when the model loads
  /// unquantized.
  std::string quantMethod, quantizerClass, configClass;
  bool preQuantized = false;
  /// The config exactly as to_dict() writes it (null without one).
  Json config;
  std::vector<DispatchMessage> messages;
  std::optional<RaisedError> error;
  std::string dtype;
  Json deviceMap;
  /// The target dispatch decided for, as given.
  std::string target;
  /// The target kernels were selected for, when they were.
  std::optional<std::string> kernelTarget;
  /// Where hfq-plan found the modules.
  std::optional<std::string> moduleSource;
  std::vector<ModuleReport> modules;
};

/// The report of `decision` on `target`, one module per plan.
Report makeReport(const DispatchDecision &decision, const CompileTarget &target,
                  const std::vector<ModulePlan> &plans);

/// The one serializer. Keys in this order: quant_method, quantizer_class,
/// config_class, pre_quantized, config, warnings, infos, error, dtype,
/// device_map, target, [kernel_target], [module_source], modules; per
/// module: name, [n, k, repeat], action, rule, method, [kernel,
/// rejected_kernels], [kernel_decode, kernel_prefill] (bracketed keys only
/// where the report has them).
Json reportToJson(const Report &report);

/// Reads back what reportToJson wrote; nullopt (and `error`) for anything
/// else.
std::optional<Report> reportFromJson(const Json &json, std::string &error);

} // namespace hfq::spec

#endif // HFQ_QUANTIZER_REPORT_H
