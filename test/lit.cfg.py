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

# Under --sanitize (build-asan/), hfq's tools carry ASan and UBSan
# themselves; mlir-runner does not, so the ASan runtime is preloaded into it
# before it loads the instrumented libhfq_kernels_ref.so (leak checking stays
# off there: the leaks would be the JIT's, not hfq's).
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons its slabs when it
# is compiled with ASan, so hfq's instrumented inline copies (attribute
# storage of the hfq dialect) poison slabs that the uninstrumented libMLIR.so
# then allocates from without unpoisoning: a false use-after-poison, which
# docs/limits.md reproduces without any hfq code. Heap, stack and global
# redzones are all still checked.
mlir_runner = "mlir-runner"
if config.hfq_enable_sanitizers:
    config.available_features.add("sanitizers")
    asan_options = ["allow_user_poisoning=0"]
    config.environment["ASAN_OPTIONS"] = ":".join(asan_options)
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    runner = os.path.join(config.llvm_tools_dir, "mlir-runner")
    mlir_runner = ToolSubst(
        "mlir-runner",
        command="env",
        extra_args=[
            "LD_PRELOAD=" + config.hfq_asan_runtime,
            "ASAN_OPTIONS=" + ":".join(asan_options + ["detect_leaks=0"]),
            runner,
        ],
    )

tools = [
    "not",
    "count",
    "split-file",
    "hfq-opt",
    "hfq-spec-compile",
    "hfq-plan",
    "hfq-import",
    "hfq-run",
    "hfq-compile",
    "hfq-exec",
    mlir_runner,
    "mlir-translate",
    "llc",
    "llvm-nm",
] + [
    ToolSubst("%hfq-" + name + "-fuzzer", os.path.join(config.hfq_tools_dir, "hfq-" + name + "-fuzzer"), unresolved="ignore")
    for name in ["spec", "expr", "safetensors", "dispatch", "ir"]
]
llvm_config.add_tool_substitutions(tools, [config.hfq_tools_dir, config.llvm_tools_dir])

# Text prompts: SentencePiece's command-line tools (setup.sh installs them
# with the library hfq-run reads tokenizer.model with).
import shutil
if shutil.which("spm_train") and shutil.which("spm_encode"):
    config.available_features.add("sentencepiece")

if config.hfq_enable_fuzzers:
    config.available_features.add("fuzzer")
if config.mlir_enable_execution_engine:
    config.available_features.add("jit")

# End-to-end tests run lowered IR with mlir-runner against the CPU reference
# kernels (the same C ABI the CUDA kernels implement).
config.substitutions.append(("%hfq_test_host_device", os.path.join(config.hfq_obj_root, "lib", "libhfq_test_host_device" + config.llvm_shlib_ext)))
config.substitutions.append(("%hfq_kernels_ref", os.path.join(config.hfq_obj_root, "lib", "libhfq_kernels_ref" + config.llvm_shlib_ext)))
config.substitutions.append(("%mlir_runner_utils", os.path.join(config.llvm_lib_dir, "libmlir_runner_utils" + config.llvm_shlib_ext)))
config.substitutions.append(("%mlir_c_runner_utils", os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils" + config.llvm_shlib_ext)))
