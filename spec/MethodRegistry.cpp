//===- MethodRegistry.cpp - The quantizer registry -------------------------===//

#include "spec/MethodRegistry.h"
#include "spec/Input.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace hfq::spec {

bool MethodRegistry::add(std::unique_ptr<MethodSpec> spec, SpecError &error) {
  // Check every conflict before changing anything, so a failed add leaves the
  // registry as it was.
  bool overridesAny = false;
  for (size_t i = 0; i < spec->quantizers.size(); ++i) {
    const QuantizerSpec &quantizer = spec->quantizers[i];
    overridesAny = overridesAny || quantizer.overrides;
    auto it = byKey.find(quantizer.key);
    if (it != byKey.end() && !quantizer.overrides) {
      error = {spec->file, "/quantizers/" + std::to_string(i) + "/key",
               "Quantizer '" + quantizer.key +
                   "' already registered (by " + it->second->method->file +
                   "); set \"overrides\": true to replace it"};
      return false;
    }
  }
  auto cfg = configs.find(spec->config.quantMethod);
  if (cfg != configs.end() && !overridesAny) {
    error = {spec->file, "/config/quant_method",
             "Config '" + spec->config.quantMethod +
                 "' already registered (by " +
                 configFiles[spec->config.quantMethod] +
                 "); set \"overrides\": true on its quantizers to replace it"};
    return false;
  }
  configs[spec->config.quantMethod] = &spec->config;
  configFiles[spec->config.quantMethod] = spec->file;
  for (const QuantizerSpec &quantizer : spec->quantizers)
    byKey[quantizer.key] = &quantizer;
  specs.push_back(std::move(spec));
  return true;
}

bool MethodRegistry::addText(const std::string &text,
                             const std::string &fileName, SpecError &error) {
  std::unique_ptr<MethodSpec> spec = parseMethodSpec(text, fileName, error);
  return spec && add(std::move(spec), error);
}

/// A spec file's text: a regular file within kMaxJsonFileBytes
/// (spec/Input.h), so `--hfq-spec-path=/dev/zero` is an error, not a hang.
static bool readFile(const std::string &path, std::string &text,
                     SpecError &error) {
  std::string message;
  if (readInputFile(path, "spec file", text, message))
    return true;
  error = {path, "", message};
  return false;
}

bool MethodRegistry::loadPath(const std::string &path, SpecError &error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    error = {path, "", "no such spec file or directory"};
    return false;
  }
  std::vector<std::string> files;
  if (fs::is_directory(status)) {
    for (fs::directory_iterator it(path, ec), end; !ec && it != end;
         it.increment(ec))
      if (it->path().extension() == ".json")
        files.push_back(it->path().string());
    if (ec) {
      error = {path, "", "cannot list spec directory: " + ec.message()};
      return false;
    }
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  for (const std::string &file : files) {
    std::string text;
    if (!readFile(file, text, error) || !addText(text, file, error))
      return false;
  }
  return true;
}

const QuantizerSpec *MethodRegistry::lookup(const std::string &key) const {
  auto it = byKey.find(key);
  return it == byKey.end() ? nullptr : it->second;
}

const ConfigSpec *
MethodRegistry::lookupConfig(const std::string &quantMethod) const {
  auto it = configs.find(quantMethod);
  return it == configs.end() ? nullptr : it->second;
}

std::vector<const QuantizerSpec *> MethodRegistry::quantizers() const {
  // Registration order breaks ties, so run-time additions with the same
  // order follow the built-in ones.
  std::vector<std::pair<int64_t, size_t>> ranks;
  std::vector<const QuantizerSpec *> live;
  for (const auto &spec : specs)
    for (const QuantizerSpec &quantizer : spec->quantizers)
      if (lookup(quantizer.key) == &quantizer) {
        ranks.emplace_back(quantizer.order, live.size());
        live.push_back(&quantizer);
      }
  std::sort(ranks.begin(), ranks.end());
  std::vector<const QuantizerSpec *> all;
  for (const auto &rank : ranks)
    all.push_back(live[rank.second]);
  return all;
}

std::vector<std::string> MethodRegistry::keys() const {
  std::vector<std::string> out;
  for (const QuantizerSpec *quantizer : quantizers())
    out.push_back(quantizer->key);
  return out;
}

} // namespace hfq::spec
