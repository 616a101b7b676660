//===- Host.cpp - What every host of a compiled model shares --------------===//

#include "runtime/Host.h"

#include "spec/Input.h"

#include <chrono>
#include <filesystem>

namespace hfq::runtime {

namespace {

std::string idList(const std::vector<int64_t> &ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i)
    out += (i ? ", " : "") + std::to_string(ids[i]);
  return out + "]";
}

} // namespace

std::unique_ptr<WeightStore> openCheckedStore(const std::string &dir,
                                              const std::vector<WeightUse> &uses,
                                              const char *tool,
                                              std::string &error) {
  auto progress = [tool](uint64_t done, uint64_t total,
                         const std::string &file) {
    if (total >= (uint64_t(1) << 30))
      std::fprintf(stderr, "%s: mapped %.1f of %.1f GB (%s)\n", tool,
                   done / 1e9, total / 1e9, file.c_str());
  };
  std::unique_ptr<WeightStore> store = WeightStore::open(dir, error, progress);
  if (!store)
    return nullptr;
  for (const WeightUse &use : uses)
    if (!store->validate(use.name, use.dtype, use.shape, error))
      return nullptr;
  return store;
}

std::vector<int64_t> eosTokens(const std::string &modelDir) {
  spec::Json source;
  std::string ignored;
  std::error_code ec;
  std::string generation = modelDir + "/generation_config.json";
  if (!(std::filesystem::exists(generation, ec) &&
        spec::readJsonFile(generation, "generation_config.json", source,
                           ignored)) &&
      !spec::readJsonFile(modelDir + "/config.json", "config.json", source,
                          ignored))
    return {};
  std::vector<int64_t> eos;
  auto it = source.find("eos_token_id");
  if (it == source.end())
    return eos;
  if (it->is_number_integer())
    eos.push_back(it->get<int64_t>());
  else if (it->is_array())
    for (const auto &id : *it)
      if (id.is_number_integer())
        eos.push_back(id.get<int64_t>());
  return eos;
}

bool writeLogits(const std::string &path, const std::vector<int64_t> &prompt,
                 const GenerateResult &result, std::string &error) {
  std::FILE *out = std::fopen(path.c_str(), "w");
  if (!out) {
    error = "cannot write '" + path + "'";
    return false;
  }
  std::fprintf(out, "{\"input_ids\": %s,\n \"generated_ids\": %s,\n \"logits\": [",
               idList(prompt).c_str(), idList(result.generated).c_str());
  for (size_t t = 0; t < result.promptLogits.size(); ++t) {
    std::fputs(t ? ",\n  [" : "\n  [", out);
    for (size_t v = 0; v < result.promptLogits[t].size(); ++v)
      std::fprintf(out, "%s%.9g", v ? ", " : "", result.promptLogits[t][v]);
    std::fputs("]", out);
  }
  std::fputs("]}\n", out);
  bool ok = std::fclose(out) == 0;
  if (!ok)
    error = "cannot write '" + path + "'";
  return ok;
}

void printRunSummary(std::FILE *out, const RunSummary &s) {
  const GenerateResult &r = *s.result;
  size_t steps = r.generated.size();
  std::fprintf(out, "model      %s\n", s.model.c_str());
  std::fprintf(out, "run        dtype %s, target %s\n", s.dtype.c_str(),
               s.target.c_str());
  std::fprintf(out, "prompt     %s\n", idList(s.prompt).c_str());
  std::fprintf(out, "generated  %s\n", idList(r.generated).c_str());
  if (!s.text.empty())
    std::fprintf(out, "text       %s\n", s.text.c_str());
  std::fprintf(out,
               "load       %.1f ms (%zu tensors, %.1f MB mapped, %.1f MB "
               "copied for alignment)\n",
               s.loadMs, s.store->tensorCount(), s.store->mappedBytes() / 1e6,
               s.store->copiedBytes() / 1e6);
  std::fprintf(out, "%-10s %.1f ms\n", s.compileLabel, s.compileMs);
  std::fprintf(out, "prefill    %.2f ms (%zu tokens, %.1f tokens/s)\n",
               r.prefillMs, s.prompt.size(),
               s.prompt.size() * 1000.0 / r.prefillMs);
  if (steps > 1)
    std::fprintf(out, "decode     %.2f ms/token (%.1f tokens/s)\n",
                 r.decodeMs / double(steps - 1),
                 double(steps - 1) * 1000.0 / r.decodeMs);
  if (!s.device.empty())
    std::fprintf(out,
                 "device     %s: %lld of %zu decode steps replayed from a "
                 "graph, peak %.2f GB in use\n",
                 s.device.c_str(), static_cast<long long>(r.graphSteps),
                 steps > 1 ? steps - 1 : 0, s.peakDeviceBytes / 1e9);
}

} // namespace hfq::runtime
