// A spec with a problem stops hfq-opt before it reads any IR, with exactly
// one line "error: <file>: <json-pointer>: <message>" and exit status 1.
// Each malformed spec is one file of Inputs/bad/. For each, the first RUN
// checks the line; the second checks the status is 1 (not a crash, not 2)
// and that nothing else was printed: the IR below would add an "unknown
// quantization method" error if it were read.

// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/invalid-json.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=JSON
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/invalid-json.json %s 2>&1; test $? -eq 1' | count 1
// JSON: error: {{.*}}/Inputs/bad/invalid-json.json: /: invalid JSON: parse error at line 9, column 3: syntax error while parsing value - unexpected ']'; expected '[', '{', or a literal

// A value of the wrong JSON type ("order": "first").
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/type-error.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=TYPE
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/type-error.json %s 2>&1; test $? -eq 1' | count 1
// TYPE: error: {{.*}}/Inputs/bad/type-error.json: /quantizers/0/order: expected an integer, got str

// An expression that does not parse: the message has the column.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/bad-expression.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=EXPR
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/bad-expression.json %s 2>&1; test $? -eq 1' | count 1
// EXPR: error: {{.*}}/Inputs/bad/bad-expression.json: /quantizers/0/kernels/0/when: bad expression 'target.cuda and (M >= 1 and M <= 8': expected ')' at column 35

// A message template that does not parse.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/bad-template.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=TEMPLATE
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/bad-template.json %s 2>&1; test $? -eq 1' | count 1
// TEMPLATE: error: {{.*}}/Inputs/bad/bad-template.json: /quantizers/0/layouts/0/require/0/message: bad message template: unbalanced '{' at column 4

// A typo in a name an expression reads is caught at load time...
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/unknown-name.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=NAME
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/unknown-name.json %s 2>&1; test $? -eq 1' | count 1
// NAME: error: {{.*}}/Inputs/bad/unknown-name.json: /quantizers/0/layouts/0/require/1/when: unknown name 'groupsize' (not a field of this config nor a name in scope here)

// ...and so is a name used where it is not in scope (M is for kernel rules).
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/out-of-scope-name.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=SCOPE
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/out-of-scope-name.json %s 2>&1; test $? -eq 1' | count 1
// SCOPE: error: {{.*}}/Inputs/bad/out-of-scope-name.json: /quantizers/0/layouts/0/when: unknown name 'M' (not a field of this config nor a name in scope here)

// An unknown key ("kernals").
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/unknown-key.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=KEY
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/unknown-key.json %s 2>&1; test $? -eq 1' | count 1
// KEY: error: {{.*}}/Inputs/bad/unknown-key.json: /quantizers/0/kernals: unknown key 'kernals' (expected one of: key, class, order, selected_when, selection_priority, overrides, requires_calibration, serializable, trainable, environment, dtype_rules, device_map_default, skip_modules, module_scheme, layouts, kernels)

// A key twice in one JSON object, which JSON parsers silently collapse.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/duplicate-json-key.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=DUPJSON
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/duplicate-json-key.json %s 2>&1; test $? -eq 1' | count 1
// DUPJSON: error: {{.*}}/Inputs/bad/duplicate-json-key.json: /quantizers/0/order: duplicate key in JSON object

// A planned kernel must say what it waits for.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/empty-planned.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=PLANNED
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/empty-planned.json %s 2>&1; test $? -eq 1' | count 1
// PLANNED: error: {{.*}}/Inputs/bad/empty-planned.json: /quantizers/0/kernels/0/planned: expected a non-empty string saying what the planned kernel waits for

// A guard layout (no tensors) must say why it stops.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/guard-without-require.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=GUARD
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/guard-without-require.json %s 2>&1; test $? -eq 1' | count 1
// GUARD: error: {{.*}}/Inputs/bad/guard-without-require.json: /quantizers/0/layouts/0/tensors: a layout without tensors must have 'require' entries saying why

// A schema version this hfq does not read.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/version.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=VERSION
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/version.json %s 2>&1; test $? -eq 1' | count 1
// VERSION: error: {{.*}}/Inputs/bad/version.json: /hfq_spec: unsupported spec version 2 (this hfq reads version 1)

// A quantizer key a built-in spec already registers...
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/duplicate-builtin-key.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=BUILTINKEY
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/duplicate-builtin-key.json %s 2>&1; test $? -eq 1' | count 1
// BUILTINKEY: error: {{.*}}/Inputs/bad/duplicate-builtin-key.json: /quantizers/0/key: Quantizer 'gptq' already registered (by specs/gptq.json); set "overrides": true to replace it

// ...or a config class (quant_method 'gptq') one registers.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/duplicate-builtin-config.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=BUILTINCFG
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/duplicate-builtin-config.json %s 2>&1; test $? -eq 1' | count 1
// BUILTINCFG: error: {{.*}}/Inputs/bad/duplicate-builtin-config.json: /config/quant_method: Config 'gptq' already registered (by specs/gptq.json); set "overrides": true on its quantizers to replace it

// A key registered by an earlier run-time spec: the message names both files.
// duplicate-runtime-key.json is valid alone.
// RUN: hfq-opt --hfq-spec-path=%S/Inputs/bad/duplicate-runtime-key.json --hfq-list-methods | FileCheck %s --check-prefix=ALONE
// ALONE: int3_toy{{ +}}Int3ToyV2Config
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/good --hfq-spec-path=%S/Inputs/bad/duplicate-runtime-key.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=TWOFILES
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/good --hfq-spec-path=%S/Inputs/bad/duplicate-runtime-key.json %s 2>&1; test $? -eq 1' | count 1
// TWOFILES: error: {{.*}}/Inputs/bad/duplicate-runtime-key.json: /quantizers/0/key: Quantizer 'int3_toy' already registered (by {{.*}}/Inputs/good/int3_toy.json); set "overrides": true to replace it

// A path that does not exist.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/no-such-spec.json %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=MISSING
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad/no-such-spec.json %s 2>&1; test $? -eq 1' | count 1
// MISSING: error: {{.*}}/Inputs/bad/no-such-spec.json: /: no such spec file or directory

// A directory loads its *.json in name order and stops at the first bad one.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad %s 2>&1 | FileCheck %s --match-full-lines --check-prefix=DIR
// RUN: sh -c 'hfq-opt --hfq-spec-path=%S/Inputs/bad %s 2>&1; test $? -eq 1' | count 1
// DIR: error: {{.*}}/Inputs/bad/bad-expression.json: /quantizers/0/kernels/0/when: bad expression {{.*}}

// --hfq-list-methods also loads the specs first.
// RUN: not hfq-opt --hfq-spec-path=%S/Inputs/bad/type-error.json --hfq-list-methods 2>&1 | FileCheck %s --match-full-lines --check-prefix=TYPE

func.func @never_read(%x: tensor<1x64xf16>, %w: tensor<128x64xi8>) -> tensor<1x128xf16> {
  %y = hfq.qlinear "l" %x, packed(%w) method <"not_a_method", {}>
      : tensor<1x64xf16>, (tensor<128x64xi8>) -> tensor<1x128xf16>
  return %y : tensor<1x128xf16>
}
