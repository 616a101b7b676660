# lit configuration for hfq's regression tests.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "HFQ"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.hfq_obj_root, "test")

# Captured variables do not leak across CHECK-LABELs; an unused prefix fails.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope --allow-unused-prefixes=false"

llvm_config.use_default_substitutions()
config.substitutions.append(("%hfq_src_root", config.hfq_src_root))
config.substitutions.append(("%specs", os.path.join(config.hfq_src_root, "specs")))

tools = [
    "not",
    "count",
    "split-file",
    "hfq-opt",
    "hfq-spec-compile",
    "hfq-plan",
    "mlir-runner",
    "mlir-translate",
    "llc",
    "llvm-nm",
    ToolSubst("%hfq-spec-fuzzer", os.path.join(config.hfq_tools_dir, "hfq-spec-fuzzer"), unresolved="ignore"),
    ToolSubst("%hfq-expr-fuzzer", os.path.join(config.hfq_tools_dir, "hfq-expr-fuzzer"), unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, [config.hfq_tools_dir, config.llvm_tools_dir])

if config.hfq_enable_fuzzers:
    config.available_features.add("fuzzer")
if config.mlir_enable_execution_engine:
    config.available_features.add("jit")

# End-to-end tests run lowered IR with mlir-runner against the CPU reference
# kernels (the same C ABI the CUDA kernels implement).
config.substitutions.append(("%hfq_kernels_ref", os.path.join(config.hfq_obj_root, "lib", "libhfq_kernels_ref" + config.llvm_shlib_ext)))
config.substitutions.append(("%mlir_runner_utils", os.path.join(config.llvm_lib_dir, "libmlir_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(("%mlir_c_runner_utils", os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils" + config.llvm_shlib_ext)))
