#!/usr/bin/env python3
"""Records what the real transformers decides for every case of cases.json.

For each case this runs the steps of transformers 5.17's `from_pretrained`
that lead to the quantizer decision, and nothing after them (no model, no
weights):

  config     = AutoConfig.from_pretrained(<dir holding the case's config.json>)
  user       = AutoQuantizationConfig.from_dict(<user quantization_config>)
  device_map = check_and_set_device_map(<device_map>)
  hf_quantizer, config, device_map = get_hf_quantizer(config, user, device_map,
                                                      weights_only, user_agent)
  config, dtype = _get_dtype(<dtype>, None, config, None, None, weights_only,
                             hf_quantizer)

get_hf_quantizer is transformers' own: supports_quant_method,
merge_quantization_configs, AutoHfQuantizer.from_config, validate_environment,
update_device_map, update_tp_plan, update_ep_plan, in its order; _get_dtype
calls update_dtype. Every warnings.warn and log record on the way is kept in
order, with its level and logger.

Cases are grouped by target, by the stub packages they need and by method
key; each group runs in a fresh interpreter (one per core at a time), so a
target other than the real GPU is emulated by patching torch.cuda before
transformers is imported, and the module-level caches (is_*_available, ...)
never see two targets. See README.md.

  python3 record.py --out recorded.json           # on the GPU machine
  python3 record.py --emulate-gpu --out /tmp/r.json  # a CPU machine, to debug
"""

import argparse
import contextlib
import copy
import enum
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_cases(path):
    with open(path) as f:
        data = json.load(f)
    ids = [case["id"] for case in data["cases"]]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        sys.exit(f"duplicate case ids: {sorted(duplicates)}")
    return data


def case_stubs(data, case):
    """The probe-only packages a case runs with (cases.json `stubs_by_key`)."""
    if "stubs" in case:
        return sorted(case["stubs"])
    return sorted(data["stubs_by_key"].get(case["key"], []))


# --- the parent: groups, stubs, one interpreter per group ------------------


def write_stubs(root, data, names):
    """A dist-info and a package that refuses to be imported, per stub.

    transformers only probes these (importlib.util.find_spec and
    importlib.metadata.version); an import means the recording is not
    faithful, and its ImportError says so in the record.
    """
    for name in names:
        stub = data["stubs"][name]
        module, version = stub["module"], stub["version"]
        (root / module).mkdir(parents=True, exist_ok=True)
        (root / module / "__init__.py").write_text(
            f"raise ImportError('fidelity stub: {name} is installed for "
            f"transformers to probe only, and was imported')\n")
        info = root / f"{module}-{version}.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "top_level.txt").write_text(module + "\n")
        (info / "RECORD").write_text(
            f"{module}/__init__.py,,\n{info.name}/METADATA,,\n")


def run_groups(args, data, cases):
    """One interpreter per (target, stubs) group, all at once."""
    groups = {}
    for case in cases:
        key = (case.get("target", "sm_90"), tuple(case_stubs(data, case)), case["key"])
        groups.setdefault(key, []).append(case)
    records, environments = {}, []
    with tempfile.TemporaryDirectory(prefix="fidelity-") as tmp:
        jobs = []
        for n, ((target, stubs, _), group) in enumerate(sorted(groups.items())):
            stub_dir = Path(tmp) / f"stubs{n}"
            write_stubs(stub_dir, data, stubs)
            job = Path(tmp) / f"group{n}.json"
            job.write_text(json.dumps({"target": target, "stubs": list(stubs),
                                       "emulate_gpu": args.emulate_gpu, "cases": group}))
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (env.get("PYTHONPATH"), str(stub_dir)) if p)
            env.update(data["environment_variables"])
            jobs.append((n, job, env, group))
        deadline = time.time() + args.timeout
        waiting, running = list(jobs), []
        while waiting or running:
            while waiting and len(running) < args.jobs:
                n, job, env, group = waiting.pop(0)
                proc = subprocess.Popen([sys.executable, __file__, "--worker", str(job)], env=env)
                running.append((n, proc, job, group))
            time.sleep(0.2)
            for item in list(running):
                n, proc, job, group = item
                code = proc.poll()
                if code is None and time.time() < deadline:
                    continue
                if code is None:
                    proc.kill()
                    code = "killed at the timeout"
                running.remove(item)
                done = json.loads(job.read_text()).get("done", {})
                for case in group:
                    records[case["id"]] = done.get("records", {}).get(
                        case["id"], {"harness_error": f"group {n}: worker exited {code}"})
                if "environment" in done:
                    environments.append(done["environment"])
                print(f"group {n} ({group[0]['key']}, {group[0].get('target', 'sm_90')}): "
                      f"{len(group)} cases, exit {code}", flush=True)
    return records, environments


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=str(HERE / "cases.json"))
    parser.add_argument("--out", help="the recording to write (recorded.json)")
    parser.add_argument("--only", nargs="*", help="record these case ids only")
    parser.add_argument("--emulate-gpu", action="store_true",
                        help="debugging on a CPU machine: pretend a CUDA GPU "
                             "for sm_NN targets (never for a real recording)")
    parser.add_argument("--timeout", type=int, default=240,
                        help="seconds all groups together may take")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(),
                        help="interpreters at a time (default: one per core)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(Path(args.worker))
    if not args.out:
        parser.error("--out is required")

    data = load_cases(args.cases)
    cases = [c for c in data["cases"] if not args.only or c["id"] in args.only]
    records, environments = run_groups(args, data, cases)
    first = environments[0] if environments else {}
    environment = {"python": first.get("python"), "packages": first.get("packages"),
                   "stubs": data["stubs"], "environment_variables": data["environment_variables"],
                   "emulated_gpu": args.emulate_gpu,
                   "groups": [{k: e[k] for k in ("target", "stubs", "cuda")} for e in environments]}
    out = {"environment": environment,
           "records": {c["id"]: records[c["id"]] for c in cases}}
    Path(args.out).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    failed = [i for i, r in out["records"].items() if "harness_error" in r]
    print(f"recorded {len(cases)} cases into {args.out}"
          + (f"; harness errors: {failed}" if failed else ""))
    return 1 if failed else 0


# --- the worker: one target, one interpreter --------------------------------


def emulate_target(target, emulate_gpu):
    """Patches torch.cuda so that transformers sees `target` (sm_NN or cpu)."""
    import torch

    if target == "cpu":
        torch.cuda.is_available = lambda: False
        torch.cuda.device_count = lambda: 0
        torch.accelerator.is_available = lambda: False
        torch.accelerator.current_accelerator = lambda *a, **k: None
        return
    capability = (int(target[3:-1]), int(target[-1]))
    if torch.cuda.is_available():
        if torch.cuda.get_device_capability() == capability:
            return  # the real GPU is the target
    elif emulate_gpu:
        torch.cuda.is_available = lambda: True
        torch.cuda.device_count = lambda: 1
        torch.cuda.current_device = lambda: 0
        torch.accelerator.is_available = lambda: True
        torch.accelerator.current_accelerator = lambda *a, **k: torch.device("cuda")
        torch.cuda.get_device_properties = lambda device=None: types.SimpleNamespace(
            name="emulated", major=capability[0], minor=capability[1],
            total_memory=80 << 30, multi_processor_count=132)
    else:
        raise RuntimeError(f"target {target} needs a CUDA GPU "
                           "(or --emulate-gpu, for debugging only)")
    torch.cuda.get_device_capability = lambda device=None: capability


def jsonable(value):
    """JSON for what to_dict() and device maps hold; key order kept."""
    import torch

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (torch.dtype, torch.device)):
        return str(value)
    return f"<{type(value).__name__}: {value!r}>"


class Messages:
    """warnings.warn and logging records, in the order they were emitted."""

    def __init__(self):
        import logging

        self.events = []
        messages = self

        class Handler(logging.Handler):
            def emit(self, record):
                messages.events.append({"source": "logging", "level": record.levelname,
                                        "logger": record.name, "text": record.getMessage()})

        self.handler = Handler(level=logging.INFO)

    def showwarning(self, message, category, filename, lineno, file=None, line=None):
        self.events.append({"source": "warnings", "level": category.__name__,
                            "logger": None, "text": str(message)})

    def loguru_sink(self, message):
        record = message.record
        self.events.append({"source": "loguru", "level": record["level"].name,
                            "logger": record["name"], "text": record["message"]})

    @contextlib.contextmanager
    def capture(self):
        import logging
        import warnings

        from transformers.utils import logging as hf_logging

        hf_logging.warning_once.cache_clear()
        hf_logging.info_once.cache_clear()
        self.events = []
        loggers = [logging.getLogger(), logging.getLogger("transformers")]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.addHandler(self.handler)
            lg.setLevel(logging.INFO)
        sink = None
        if "loguru" in sys.modules:
            sink = sys.modules["loguru"].logger.add(self.loguru_sink, level="INFO")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = self.showwarning
                yield self.events
        finally:
            for lg, level in zip(loggers, levels):
                lg.removeHandler(self.handler)
                lg.setLevel(level)
            if sink is not None:
                sys.modules["loguru"].logger.remove(sink)


def record_case(case, messages):
    import torch  # noqa: F401  (transformers needs it first)
    from transformers import AutoConfig
    from transformers.integrations.accelerate import check_and_set_device_map
    from transformers.modeling_utils import _get_dtype
    from transformers.quantizers.auto import AutoQuantizationConfig, get_hf_quantizer
    from transformers.utils.quantization_config import QuantizationConfigMixin

    model_config = case["config"]
    dtype = case.get("dtype", "auto")
    if dtype == "auto" and "torch_dtype" not in model_config and "dtype" not in model_config:
        # _get_dtype would read the checkpoint's weights, which a case has not.
        return {"harness_error": "dtype 'auto' needs torch_dtype in the case's config"}
    weights_only = case.get("weights_only", True)
    rec = {"quant_method": None, "quantizer_class": None, "config_class": None,
           "pre_quantized": False, "config": None, "dtype": None, "device_map": None,
           "error": None}
    with tempfile.TemporaryDirectory() as tmp:
        # Loading config.json is not part of the decision; its logs are not kept.
        (Path(tmp) / "config.json").write_text(json.dumps(model_config))
        config = AutoConfig.from_pretrained(tmp)
    with messages.capture() as events:
        try:
            step, user = "user quantization_config", None
            if "user_quantization_config" in case:
                step = "AutoQuantizationConfig.from_dict(user quantization_config)"
                user = AutoQuantizationConfig.from_dict(copy.deepcopy(case["user_quantization_config"]))
            step = "check_and_set_device_map"
            device_map = check_and_set_device_map(case.get("device_map"))
            step = "get_hf_quantizer"
            hf_quantizer, config, device_map = get_hf_quantizer(
                config, user, device_map, weights_only, {})
            step = "_get_dtype"
            config, dtype = _get_dtype(dtype, None, config, None, None, weights_only, hf_quantizer)
            rec["dtype"] = str(dtype).removeprefix("torch.")
            rec["device_map"] = jsonable(device_map)
            if hf_quantizer is not None:
                qc = hf_quantizer.quantization_config
                key = jsonable(qc.quant_method)
                if key == "bitsandbytes":
                    key += "_8bit" if qc.load_in_8bit else "_4bit"
                rec.update(quant_method=key, quantizer_class=type(hf_quantizer).__name__,
                           config_class=type(qc).__name__,
                           pre_quantized=hf_quantizer.pre_quantized,
                           config=jsonable(qc.to_dict()))
        except Exception as e:  # the decision is the exception
            rec["error"] = {"type": type(e).__name__, "message": str(e), "step": step}
            held = getattr(config, "quantization_config", None)
            if isinstance(held, QuantizationConfigMixin):
                # What merge_quantization_configs had built when it failed later.
                rec["config_at_error"] = jsonable(held.to_dict())
        rec["messages"] = list(events)
    return rec


def environment(target, stubs):
    import platform

    import torch

    names = ["transformers", "torch", "accelerate", "safetensors", "huggingface-hub",
             "triton", "numpy", "bitsandbytes", "compressed-tensors", "pydantic",
             "pydantic-core", "torchao", "hqq", "optimum", "optimum-quanto", "kernels",
             "gguf", "fp-quant", "auto-round", "amd-quark", "sinq", "spqr-quant", "aqlm",
             "vptq", "loguru", "typing-extensions"]
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    cuda = None
    if torch.cuda.is_available():
        cuda = {"device": torch.cuda.get_device_name(0),
                "capability_seen": list(torch.cuda.get_device_capability())}
    return {"python": platform.python_version(), "packages": versions,
            "target": target, "stubs": stubs, "cuda": cuda}


def worker(job_path):
    job = json.loads(job_path.read_text())
    emulate_target(job["target"], job["emulate_gpu"])
    import transformers.quantizers.auto  # noqa: F401  (imports before any case)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_default_handler()  # records are captured, not printed
    messages = Messages()
    done = {"records": {}, "environment": environment(job["target"], job["stubs"])}
    for case in job["cases"]:
        # The first run pays for lazy imports (their warnings, one-time logs);
        # the second is the record. Both start from cleared *_once caches.
        first = record_case(case, messages)
        second = record_case(case, messages)
        decision = lambda r: {k: v for k, v in r.items() if k != "messages"}  # noqa: E731
        if decision(first) != decision(second):
            # A decision a second import changes (a failed import leaves half a
            # module behind): the fresh process's first run is the truth.
            first["second_run"] = decision(second)
            second = first
        elif first["messages"] != second["messages"]:
            second["messages_first_run"] = first["messages"]
        done["records"][case["id"]] = second
        job_path.write_text(json.dumps({**job, "done": done}))  # kept if killed
    return 0


if __name__ == "__main__":
    sys.exit(main())
