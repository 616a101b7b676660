//===- MethodSpec.h - A quantization method declared in JSON --*- C++ -*-===//
//
// The in-memory form of one spec file (specs/README.md is the schema): a
// transformers config class and the quantizer keys it serves. Parsing checks
// the whole file — types, unknown keys, expression syntax and every name an
// expression reads — so a spec that loads cannot fail later for a typo.
//
//===----------------------------------------------------------------------===//

#ifndef HFQ_SPEC_METHODSPEC_H
#define HFQ_SPEC_METHODSPEC_H

#include "spec/expr/Expr.h"

// Layout evaluation (resolveLayout, configScope) and the target scope live
// in their own headers; they are included here so that code which reaches
// them through this header compiles unchanged. New code should include
// spec/Layout.h or spec/Target.h for them.
#include "spec/Layout.h"
#include "spec/Target.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hfq::spec {

/// A problem in a spec file: "<file>: <json-pointer>: <message>".
struct SpecError {
  std::string file;
  std::string pointer;
  std::string message;

  std::string str() const;
};

/// The type of a config field.
struct FieldType {
  enum class Kind { Bool, Int, Float, Number, String, Dtype, List, Dict, Any };
  Kind kind = Kind::Any;
  /// Element type of a list.
  std::shared_ptr<const FieldType> element;

  /// Whether `value` (not null) has this type, with Python's isinstance
  /// semantics (a bool is not an int here; 6 is not a float).
  bool accepts(const Json &value) const;
  /// The spelling used in specs: "list<string>".
  std::string str() const;
};

/// An exception transformers raises: kind ("ValueError") and text template.
struct RaisedMessage {
  std::string kind;
  std::string text;
};

struct FieldSpec {
  std::string name;
  FieldType type;
  /// Unset: the field is required.
  std::optional<Json> defaultValue;
  bool nullable = false;
  std::vector<Json> allowed;
  bool lowerCase = false;
  /// Value renames applied after lower-casing (AWQ "autoawq" -> "auto").
  Json valueMap = Json::object();
  RaisedMessage typeError;
  RaisedMessage valueError;
  std::string doc;
  /// A `schemas` entry that normalizes the value (an object); with
  /// `schemaPerValue`, every object value of the dict instead.
  std::string schema;
  bool schemaPerValue = false;
  /// In a schema only: the earlier field of the same object whose string
  /// value names the schema (torchao's `_data` by its `_type`); a name no
  /// schema has leaves the value as given.
  std::string schemaFrom;
  /// With `schema`/`value_schema` under `config.validation`: the other
  /// members of the value's union, after the schema (compressed-tensors'
  /// preset `list[str]`); a value valid as one of them is kept as given.
  std::vector<FieldType> unionTypes;
};

/// One `when`-guarded action of a rule list.
struct Rule {
  /// JSON pointer of the rule, for diagnostics.
  std::string pointer;
  Expr when;
  std::optional<RaisedMessage> error;
  std::optional<std::string> warning;
  std::optional<std::string> info;
  std::vector<std::pair<std::string, Expr>> assignments;
};

/// A nested object a config field holds, normalized the way a pydantic model
/// validates and dumps it (compressed-tensors' QuantizationScheme): declared
/// fields in order with their defaults filled in, `rules` run after them,
/// keys dropped as the model's serializer drops them, other keys dropped.
struct ObjectSchema {
  std::string name;
  std::vector<FieldSpec> fields;
  std::vector<Rule> rules;
  std::vector<std::string> omitIfNull;
  std::vector<std::string> omitIfEmpty;
  std::vector<std::string> omitUnlessGiven;
  /// Undeclared keys are kept, after the declared ones, instead of dropped.
  bool keepExtra = false;
  /// The model's `mode="after"` validators, for its name in a union's error
  /// locations (`function-after[validate_model_after(), QuantizationScheme]`).
  std::vector<std::string> afterValidators;
};

/// `config.validation`: schema values are validated as pydantic does and
/// their problems raised together as one ValidationError in its text.
struct ValidationStyle {
  /// The model the error is "for" ("QuantizationConfig").
  std::string title;
  /// Prefix of each error's docs link; the error type is appended.
  std::string docsUrl;
  /// Error type -> message template (`{model}` and the like).
  std::map<std::string, std::string> messages;
  /// input_value reprs longer than `reprLimit` code points keep the first
  /// `reprHead` and last `reprTail` around "...".
  int64_t reprLimit = 50;
  int64_t reprHead = 25;
  int64_t reprTail = 24;
};

struct LegacyKey {
  std::string from;
  std::string to;
};

/// One `to_dict()` entry: a field written under its own name, or a computed
/// value under `key`.
struct SerializedKey {
  std::string key;
  std::optional<Expr> value;
  /// The entry is written only when this holds.
  std::optional<Expr> when;
};

struct ConfigSpec {
  std::string className;
  std::string quantMethod;
  /// The `QuantizationMethod` member `quant_method` holds, as str() prints
  /// it in messages ("AWQ": "QuantizationMethod.AWQ"). Default: the value
  /// upper-cased with '-' as '_'.
  std::string quantMethodEnum;
  std::vector<FieldSpec> fields;
  std::vector<LegacyKey> legacyKeys;
  std::vector<std::string> droppedKeys;
  std::vector<std::string> strictKeys;
  /// `__init__`'s `**kwargs` log (bnb's "Unused kwargs: [...]"): the info
  /// template emitted, before post_init, when the dict has keys that are
  /// no field (nor legacy key); `unused_kwargs` is their list in dict order.
  std::optional<std::string> unusedKwargsInfo;
  std::vector<Rule> rules;
  std::vector<std::string> loadingAttributes;
  bool loadingAttributesClass = false;
  /// "warning" or "info".
  std::string mergeMessage = "warning";
  std::vector<SerializedKey> serializedKeys;
  /// `__init__` keeps every other keyword as an attribute (AutoRoundConfig's
  /// setattr loop): the resolved config carries the dict's other keys, and
  /// to_dict() writes them after `serializedKeys`, in the dict's order. A
  /// `quant_method` the dict has is one of them: setattr puts it there
  /// before `__init__` reassigns it (the resolved config then has it after
  /// the fields, not first).
  bool serializeExtraKwargs = false;
  std::vector<ObjectSchema> schemas;
  /// Set: schema values are validated pydantic-style (Validation.h).
  std::optional<ValidationStyle> validation;
  /// A `from_dict` override's checks and edits of the raw dict, before
  /// `__init__`: `dict` in scope; `set` writes keys of the dict.
  std::vector<Rule> fromDictRules;
  /// merge_quantization_configs builds the checkpoint's config with this
  /// class (not the checkpoint's) when the user passes one of it
  /// (AutoRoundConfig converting a GPTQ or AWQ dict).
  bool mergeConvertsFileConfig = false;

  const FieldSpec *findField(const std::string &name) const;
  const ObjectSchema *findSchema(const std::string &name) const;
};

struct TensorSpec {
  std::string name;
  /// An MLIR element type name, or an expression yielding one.
  Expr dtype;
  std::vector<Expr> shape;
  std::optional<Expr> when;
};

struct Requirement {
  Expr when;
  std::string message;
};

struct LayoutSpec {
  std::string pointer;
  std::optional<Expr> when;
  std::vector<std::pair<std::string, Expr>> params;
  std::vector<Requirement> requirements;
  std::vector<TensorSpec> tensors;
  /// The scalars every kernel of this layout receives (the ABI's `args`), in
  /// order: how to read the tensors (bits, group size, zero convention...).
  std::vector<std::pair<std::string, Expr>> args;
};

struct KernelRule {
  std::string name;
  Expr when;
  std::string doc;
  /// Non-empty for a kernel the specs plan but no runtime provides yet (what
  /// it waits for): selection passes over it, recording why, and forcing it
  /// is an error, so lowered IR never calls a symbol that does not exist.
  std::string planned;
};

struct SkipPolicy {
  enum class Defaults { IfUnset, Always, Never };
  enum class Match { Module, Weight };
  std::optional<std::string> field;
  Defaults defaults = Defaults::IfUnset;
  bool keepInFp32 = false;
  Match match = Match::Module;
  /// Only modules under these blocks are converted (optimum's GPTQ): the
  /// config field naming the block(s), and the patterns tried in order when
  /// it is None (the first that prefixes some module name wins).
  std::optional<std::string> blockField;
  std::vector<std::string> blockDefaults;
};

/// A bool that is either fixed or computed from the config.
struct BoolOrExpr {
  bool constant = false;
  std::optional<Expr> expr;
};

struct MethodSpec;

struct QuantizerSpec {
  std::string key;
  std::string className;
  int64_t order = 0;
  std::optional<Expr> selectedWhen;
  int64_t selectionPriority = 0;
  bool overrides = false;
  bool requiresCalibration = false;
  BoolOrExpr serializable;
  BoolOrExpr trainable;
  std::vector<Rule> environment;
  std::vector<Rule> dtypeRules;
  std::optional<std::string> deviceMapDefault;
  SkipPolicy skipModules;
  std::optional<std::string> moduleScheme;
  std::vector<LayoutSpec> layouts;
  std::vector<KernelRule> kernels;

  /// The spec this quantizer came from (its config class and file name).
  const MethodSpec *method = nullptr;
};

struct MethodSpec {
  /// The file the spec was read from (for builtin specs: "specs/<name>").
  std::string file;
  ConfigSpec config;
  std::vector<QuantizerSpec> quantizers;
};

/// Parses JSON text; nullopt when it is not valid JSON. All JSON parsing in
/// hfq goes through here, so nlohmann's parser is only instantiated in the
/// spec library (built with exceptions), never in -fno-exceptions code.
std::optional<Json> parseJson(const std::string &text);

/// Parses and checks a spec file's text. Returns null and fills `error` on
/// the first problem. (Implemented by SpecParser, spec/SpecParser.h.)
std::unique_ptr<MethodSpec> parseMethodSpec(const std::string &text,
                                            const std::string &fileName,
                                            SpecError &error);

} // namespace hfq::spec

#endif // HFQ_SPEC_METHODSPEC_H
