//===- MethodRegistry.h - The quantizer registry ---------------*- C++ -*-===//
//
// hfq's counterpart of transformers' AUTO_QUANTIZER_MAPPING and
// AUTO_QUANTIZATION_CONFIG_MAPPING: every loaded spec registers its config
// class (by quant_method) and its quantizer keys. Registering a key twice is
// an error naming both files, unless the later spec says it overrides.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_METHODREGISTRY_H
#define HFQ_SPEC_METHODREGISTRY_H

#include "spec/MethodSpec.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hfq::spec {

class MethodRegistry {
public:
  /// Registers a parsed spec. On a conflict returns false and fills `error`.
  bool add(std::unique_ptr<MethodSpec> spec, SpecError &error);

  /// Parses `text` (named `fileName` in messages) and registers it.
  bool addText(const std::string &text, const std::string &fileName,
               SpecError &error);

  /// Loads a spec file, or every `*.json` of a directory in name order.
  bool loadPath(const std::string &path, SpecError &error);

  /// The quantizer registered under `key`, or null.
  const QuantizerSpec *lookup(const std::string &key) const;

  /// The config class registered for a quant_method value, or null.
  const ConfigSpec *lookupConfig(const std::string &quantMethod) const;

  /// All quantizers in registry order (transformers' mapping order, then
  /// run-time additions in load order).
  std::vector<const QuantizerSpec *> quantizers() const;

  /// The keys, in registry order: the list transformers prints as
  /// "supported types are: [...]".
  std::vector<std::string> keys() const;

private:
  std::vector<std::unique_ptr<MethodSpec>> specs;
  std::map<std::string, const QuantizerSpec *> byKey;
  std::map<std::string, const ConfigSpec *> configs;
  /// The file each config class was registered from (for messages).
  std::map<std::string, std::string> configFiles;
};

} // namespace hfq::spec

#endif // HFQ_SPEC_METHODREGISTRY_H
