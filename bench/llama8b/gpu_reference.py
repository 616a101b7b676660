#!/usr/bin/env python3
"""Re-records transformers' reference outputs of the test/models corpus on a GPU.

    gpu_reference.py --models test/models --out DIR [--cases C ...] [--device cuda|cpu]
    gpu_reference.py --checkpoint DIR --prompt 1,2,3 --new-tokens N --out FILE.json

The second form is the large model's reference (bench/gpu/run.sh bench8b): a
GPTQ/AWQ checkpoint of any size dequantized tensor by tensor on the device
into a float32 model built there (no CPU copy of the whole model), its
prompt logits and greedy ids written to FILE.json in the same fields.

For each case (a folder of --models with an expected.json) it builds what
expected.json's "reference" says and runs, on --device (default cuda):

- "transformers": the checkpoint loaded with from_pretrained
  (attn_implementation "eager", the recorded dtype, which is the checkpoint's;
  on-the-fly cases add expected.json's user_quantization_config);
- "transformers dense model with the dequantized weights" (gptq, awq): a dense
  float32 model of the same config over the checkpoint's unquantized tensors
  (upcast) and the dequantized linears, as test/models/gen/make_corpus.py
  builds it; other methods with such a reference are skipped (no dequantizer
  here).

It records model(input_ids).logits[0] (every prompt position, the full vocab,
6 significant digits) and generate(max_new_tokens=16, do_sample=False) and
writes DIR/<case>.json with expected.json's fields (case, reference, device,
dtype, input_ids, logits, greedy_ids, greedy_margins) plus generated_ids, so
that test/models/compare.py takes it either as the EXPECTED file or as the
HFQ_OUT file. A case that cannot be loaded or run is skipped with its reason;
DIR/summary.json lists every case with its status, its agreement with the
recorded CPU expected.json, and the reason of any skip.
"""
import argparse
import importlib.metadata
import json
import math
import os
import sys
import time
import traceback

import torch

NEW_TOKENS = 16
DENSE_REF = "transformers dense model with the dequantized weights"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def log(msg):
    print(msg, flush=True)


def sig6(v):
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"non-finite logit {v}")
    return float(f"{v:.6g}")


def versions():
    out = {"torch": torch.__version__}
    for name in ("transformers", "safetensors", "accelerate"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


# --- dequantization of the packed GPTQ / AWQ layouts (specs/gptq.json, specs/awq.json) ---

AWQ_ORDER = (0, 2, 4, 6, 1, 3, 5, 7)


def unpack4(words, order=None):
    """int32 [..., W] -> int64 [..., 8W]: the eight 4-bit fields of each word,
    LSB first; with `order`, field i is column 8j + order[i]."""
    w = words.to(torch.int64) & 0xFFFFFFFF
    shifts = torch.arange(0, 32, 4, device=words.device)
    q = (w.unsqueeze(-1) >> shifts) & 15
    if order is not None:
        inv = [order.index(c) for c in range(8)]
        q = q[..., inv]
    return q.reshape(*words.shape[:-1], -1)


def dequant_gptq(t, key, qc):
    """W [N, K] float32 of a 4-bit GPTQ linear: (q - z) * s per g_idx group;
    format 'gptq' (v1) stores z - 1."""
    if qc.get("bits") != 4:
        raise NotImplementedError(f"GPTQ bits {qc.get('bits')}: only 4-bit is dequantized here")
    fmt = qc.get("checkpoint_format", qc.get("format", "gptq"))
    q = unpack4(t[key + ".qweight"].t().contiguous())                # [N, K]
    z = unpack4(t[key + ".qzeros"]) + (1 if fmt == "gptq" else 0)      # [G, N]
    g = t[key + ".g_idx"].long()                                       # [K]
    return (q - z[g].t()).float() * t[key + ".scales"].float()[g].t()


def dequant_awq(t, key, qc):
    """W [N, K] float32 of an AutoAWQ GEMM linear: W^T[k, n] = (q - z) * s."""
    fmt = qc.get("version", qc.get("format", "gemm"))
    if qc.get("bits", 4) != 4 or fmt != "gemm":
        raise NotImplementedError(f"AWQ bits {qc.get('bits')} version {fmt}: only 4-bit gemm here")
    q = unpack4(t[key + ".qweight"], AWQ_ORDER)                        # [K, N]
    z = unpack4(t[key + ".qzeros"], AWQ_ORDER)                         # [G, N]
    k = q.shape[0]
    group = qc.get("group_size", 128)
    g = torch.arange(k, device=q.device) // (k if group == -1 else group)
    return ((q - z[g]).float() * t[key + ".scales"].float()[g]).t().contiguous()


DEQUANT = {"gptq": dequant_gptq, "awq": dequant_awq}


def read_tensors(case_dir):
    """Every tensor of the checkpoint (single file or sharded)."""
    from safetensors.torch import load_file
    out = {}
    for f in sorted(os.listdir(case_dir)):
        if f.endswith(".safetensors"):
            out.update(load_file(os.path.join(case_dir, f)))
    return out


def dense_reference(case_dir, cfg_dict, device):
    """The dense float32 LlamaForCausalLM over the dequantized linears."""
    from transformers import AutoConfig, AutoModelForCausalLM
    qc = cfg_dict["quantization_config"]
    method = qc["quant_method"]
    if method not in DEQUANT:
        raise NotImplementedError(f"no dequantizer for '{method}' here (only {sorted(DEQUANT)})")
    t = read_tensors(case_dir)
    sd = {}
    for name, v in t.items():
        if name.endswith(".qweight"):
            key = name[: -len(".qweight")]
            sd[key + ".weight"] = DEQUANT[method](t, key, qc)
        elif not name.endswith((".qzeros", ".scales", ".g_idx")):
            sd[name] = v.float()
    d = {k: v for k, v in cfg_dict.items() if k not in ("quantization_config", "torch_dtype")}
    d["dtype"] = "float32"
    cfg = AutoConfig.for_model(d.pop("model_type"), **d)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if "rotary" not in m and not (m == "lm_head.weight" and cfg.tie_word_embeddings)]
    if missing or unexpected:
        raise RuntimeError(f"dense reference: missing {missing}, unexpected {unexpected}")
    return model.to(device).eval()


def loaded_model(case_dir, exp, device):
    """The checkpoint loaded by transformers (quantizer included)."""
    from transformers import AutoModelForCausalLM
    kw = {}
    if exp.get("user_quantization_config"):
        from transformers.quantizers.auto import AutoQuantizationConfig
        kw["quantization_config"] = AutoQuantizationConfig.from_dict(dict(exp["user_quantization_config"]))
    dtype = DTYPES.get(exp.get("dtype"), "auto")
    m = AutoModelForCausalLM.from_pretrained(case_dir, attn_implementation="eager", dtype=dtype,
                                             device_map=device, **kw)
    return m.eval()


# --- running -------------------------------------------------------------------------

@torch.no_grad()
def outputs(model, ids_list, device):
    """Prompt logits [positions x vocab], 16 greedy ids and their margins."""
    ids = torch.tensor([ids_list], device=device)
    logits = model(ids).logits[0].float().cpu()
    out = model.generate(ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False,
                         output_logits=True, return_dict_in_generate=True, pad_token_id=0,
                         eos_token_id=None)
    new = out.sequences[0, len(ids_list):].tolist()
    margins = []
    for step, l in enumerate(out.logits):
        row = l[0].float().clone()
        chosen = row[new[step]].item()
        row[new[step]] = -math.inf
        margins.append(round(chosen - row.max().item(), 6))
    return logits, new, margins


def agreement(exp, rows, greedy):
    """Max |diff| of the rounded logits against the recorded expected.json and
    whether the greedy ids agree."""
    ref = torch.tensor(exp["logits"], dtype=torch.float64)
    got = torch.tensor(rows, dtype=torch.float64)
    diff = (got - ref).abs().max().item() if ref.shape == got.shape else None
    steps = next((i for i, (a, b) in enumerate(zip(greedy, exp["greedy_ids"])) if a != b), None)
    return {"max_abs_diff_vs_expected": diff, "greedy_equal_vs_expected": steps is None,
            "first_greedy_difference": steps}


def run_case(case, models_dir, out_dir, device):
    """Writes out_dir/<case>.json; returns the case's summary entry."""
    case_dir = os.path.join(models_dir, case)
    exp = json.load(open(os.path.join(case_dir, "expected.json")))
    cfg = json.load(open(os.path.join(case_dir, "config.json")))
    reference = exp.get("reference", "transformers")
    t0 = time.time()
    if reference == DENSE_REF:
        model = dense_reference(case_dir, cfg, device)
    elif reference == "transformers":
        model = loaded_model(case_dir, exp, device)
    else:
        raise NotImplementedError(f"unknown reference '{reference}'")
    logits, greedy, margins = outputs(model, exp["input_ids"], device)
    dtype = str(model.dtype).replace("torch.", "")
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    rows = [[sig6(v) for v in row] for row in logits.tolist()]
    doc = {
        "case": case, "reference": reference, "device": device, "device_name": device_name(device),
        "dtype": dtype, "attn_implementation": "eager", "seed": exp.get("seed"),
        "input_ids": exp["input_ids"],
        "logits": rows,
        "greedy_ids": greedy, "generated_ids": greedy, "greedy_margins": margins,
        "versions": versions(), "recorded_cpu_expected": agreement(exp, rows, greedy),
    }
    with open(os.path.join(out_dir, f"{case}.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return dict(status="ok", dtype=dtype, seconds=round(time.time() - t0, 2), **doc["recorded_cpu_expected"])


def large_dense_reference(ckpt, device):
    """The float32 dense model of a (possibly sharded, many-GB) GPTQ / AWQ
    checkpoint, built on `device` and filled tensor by tensor."""
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM
    cfg_dict = json.load(open(os.path.join(ckpt, "config.json")))
    qc = cfg_dict["quantization_config"]
    dequant = DEQUANT[qc["quant_method"]]
    d = {k: v for k, v in cfg_dict.items() if k not in ("quantization_config", "torch_dtype")}
    d["dtype"] = "float32"
    cfg = AutoConfig.for_model(d.pop("model_type"), **d)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager",
                                                 dtype=torch.float32)
    params = dict(model.named_parameters())
    loaded = set()
    for f in sorted(os.listdir(ckpt)):
        if not f.endswith(".safetensors"):
            continue
        with safe_open(os.path.join(ckpt, f), framework="pt", device=device) as st:
            names = set(st.keys())
            for name in sorted(names):
                if name.endswith(".qweight"):
                    key = name[: -len(".qweight")]
                    parts = {key + s: st.get_tensor(key + s)
                             for s in (".qweight", ".qzeros", ".scales", ".g_idx")
                             if key + s in names}
                    target, value = key + ".weight", dequant(parts, key, qc)
                elif name.endswith((".qzeros", ".scales", ".g_idx")):
                    continue
                else:
                    target, value = name, st.get_tensor(name)
                with torch.no_grad():
                    params[target].copy_(value.float())
                loaded.add(target)
    missing = [n for n in params if n not in loaded and not (n == "lm_head.weight" and cfg.tie_word_embeddings)]
    if missing:
        raise RuntimeError(f"large reference: {len(missing)} parameters not in the checkpoint: {missing[:5]}")
    return model.eval()


def run_checkpoint(args):
    """The --checkpoint form: FILE.json for one large checkpoint."""
    global NEW_TOKENS
    NEW_TOKENS = args.new_tokens
    t0 = time.time()
    model = large_dense_reference(args.checkpoint, args.device)
    log(f"dense float32 reference built in {time.time() - t0:.1f} s")
    ids = [int(v) for v in args.prompt.split(",")]
    logits, greedy, margins = outputs(model, ids, args.device)
    doc = {"case": os.path.basename(os.path.normpath(args.checkpoint)), "reference": DENSE_REF,
           "device": args.device, "device_name": device_name(args.device), "dtype": "float32",
           "input_ids": ids, "logits": [[sig6(v) for v in row] for row in logits.tolist()],
           "greedy_ids": greedy, "generated_ids": greedy, "greedy_margins": margins,
           "versions": versions()}
    with open(args.out, "w") as f:
        json.dump(doc, f)
    log(f"wrote {args.out}: greedy {greedy}, margins {margins}")
    return 0


def device_name(device):
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return "cpu"


def list_cases(models_dir):
    return sorted(c for c in os.listdir(models_dir)
                  if os.path.exists(os.path.join(models_dir, c, "expected.json")))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="test/models")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", nargs="*", default=None, help="default: every folder with an expected.json")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--checkpoint", help="one large GPTQ/AWQ checkpoint instead of the corpus")
    ap.add_argument("--prompt", default="1,17,42,99,3,250,7,64")
    ap.add_argument("--new-tokens", type=int, default=8)
    args = ap.parse_args(argv)
    torch.backends.cuda.matmul.allow_tf32 = False
    if args.checkpoint:
        return run_checkpoint(args)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.backends.cuda.matmul.allow_tf32 = False        # float32 cases stay float32
    torch.backends.cudnn.allow_tf32 = False
    os.makedirs(args.out, exist_ok=True)
    summary = {"device": args.device, "device_name": device_name(args.device), "versions": versions(),
               "cases": {}}
    for case in args.cases or list_cases(args.models):
        log(f"[{case}] ...")
        try:
            entry = run_case(case, args.models, args.out, args.device)
            log(f"[{case}] ok in {entry['seconds']} s: max |diff| vs the recorded CPU run "
                f"{entry['max_abs_diff_vs_expected']}, greedy equal {entry['greedy_equal_vs_expected']}")
        except Exception as e:  # noqa: BLE001 (a case that cannot run is reported, not fatal)
            reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
            entry = {"status": "skipped", "reason": reason[:2000],
                     "traceback": traceback.format_exc(limit=6)[-4000:]}
            log(f"[{case}] skipped: {reason[:300]}")
            if args.device.startswith("cuda"):
                torch.cuda.empty_cache()
        summary["cases"][case] = entry
        with open(os.path.join(args.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
            f.write("\n")
    ok = sum(e["status"] == "ok" for e in summary["cases"].values())
    log(f"{ok} of {len(summary['cases'])} cases recorded; {args.out}/summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
