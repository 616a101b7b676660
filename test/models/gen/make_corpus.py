#!/usr/bin/env python3
"""Writes the model corpus of test/models/ with the real transformers 5.17.

Runs on the GPU machine (torch 2.11, transformers 5.17, safetensors,
accelerate; the quantization packages carried as wheels, see
test/models/README.md). For each case it builds a tiny model with seeded
random weights through the transformers classes, saves it with
save_pretrained(safe_serialization=True) (quantized ones: loads the saved
dense base with from_pretrained(base, quantization_config=...) and saves the
quantized model), loads the saved checkpoint back and records transformers'
own outputs on a fixed prompt:

  logits       model(input_ids).logits[0]           (every position, all vocab)
  greedy_ids   model.generate(input_ids, max_new_tokens=16, do_sample=False)
  margins      top-1 minus top-2 logit of every greedy step

A seed is kept only where every greedy margin is clear (> 0.05 for float32,
> 0.5 otherwise), the 16 new ids hold no EOS and at least 4 distinct ids, and
(for half-precision models) the float32-upcast model makes the same greedy
choices; otherwise the next seed is tried.

  python3 make_corpus.py --out DIR [--cases NAME...] [--tar FILE]

writes DIR/<case>/{config.json, generation_config.json, model.safetensors,
expected.json}, DIR/summary.json, and with --tar one tar.gz of DIR.
"""
import argparse
import contextlib
import copy
import importlib.metadata
import importlib.util
import io
import json
import math
import os
import shutil
import sys
import tarfile
import time
import traceback
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
GEN = HERE.parent.parent / "e2e" / "gen"

PROMPT = [1, 17, 42, 99, 3, 250, 7, 64]
NEW_TOKENS = 16
EOS = 2
ARCH = dict(hidden_size=128, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
            intermediate_size=256, num_hidden_layers=2, vocab_size=256,
            max_position_embeddings=256, rms_norm_eps=1e-6)
# Weight init: transformers' own (normal(0, initializer_range) for linears and
# embeddings), then every RMSNorm weight 1 + 0.1 * randn and the final norm
# scaled by FINAL_NORM_SCALE, which spreads the logits (std ~ 13) so that greedy
# decoding has clear top-1/top-2 margins.
INIT_RANGE = 0.1
FINAL_NORM_SCALE = 12.0
ATTN = "eager"
KEEP = ("config.json", "generation_config.json", "model.safetensors")
MAX_SEEDS = 200
QUANT_TRIES = 30


def gen_module(name):
    """test/e2e/gen/<name>.py, imported under an alias (gen's
    compressed_tensors.py would otherwise shadow the real package)."""
    if "common" not in sys.modules:
        spec = importlib.util.spec_from_file_location("common", GEN / "common.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules["common"] = mod
        spec.loader.exec_module(mod)
    alias = f"hfq_gen_{name}"
    if alias not in sys.modules:
        spec = importlib.util.spec_from_file_location(alias, GEN / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[alias] = mod
        spec.loader.exec_module(mod)
    return sys.modules[alias]


def versions(*extra):
    import transformers
    out = {"torch": torch.__version__, "transformers": transformers.__version__}
    for name in ("safetensors", "accelerate") + extra:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def sig6(v):
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"non-finite logit {v}")
    return float(f"{v:.6g}")


# --- models -----------------------------------------------------------------

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def make_config(arch, dtype, **extra):
    import transformers
    cls = {"llama": transformers.LlamaConfig, "mistral": transformers.MistralConfig,
           "qwen2": transformers.Qwen2Config, "qwen3": transformers.Qwen3Config}[arch]
    kw = dict(ARCH, initializer_range=INIT_RANGE, bos_token_id=1, eos_token_id=EOS,
              pad_token_id=None, use_cache=True)
    kw.update(extra)
    cfg = cls(**kw)
    cfg.dtype = dtype
    return cfg


def build_dense(arch, dtype, seed, **extra):
    """A randomly initialised model (on the CPU), in `dtype`."""
    from transformers import AutoModelForCausalLM
    cfg = make_config(arch, dtype, **extra)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation=ATTN, dtype=torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):          # input/post-attention/final, q_norm/k_norm
                p.copy_(1 + 0.1 * torch.randn_like(p))
            if arch == "qwen3" and (name.endswith("q_norm.weight") or name.endswith("k_norm.weight")):
                p.copy_(1 + 0.3 * torch.randn_like(p))
            if name.endswith("_proj.bias"):           # qwen2's q/k/v biases (zeros from init)
                p.copy_(0.1 * torch.randn_like(p))
        model.model.norm.weight.mul_(FINAL_NORM_SCALE)
    model = model.to(DTYPES[dtype]).eval()
    return model


def load(path, device=None, dtype="auto", **kw):
    from transformers import AutoModelForCausalLM
    m = AutoModelForCausalLM.from_pretrained(path, attn_implementation=ATTN, dtype=dtype,
                                             device_map=device, **kw)
    return m.eval()


@torch.no_grad()
def outputs(model, device):
    ids = torch.tensor([PROMPT], device=device)
    logits = model(ids).logits[0].float().cpu()
    out = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False, output_logits=True,
                         return_dict_in_generate=True, pad_token_id=0, eos_token_id=None,
                         min_new_tokens=NEW_TOKENS)
    new = out.sequences[0, len(PROMPT):].tolist()
    margins = []
    for step, l in enumerate(out.logits):
        row = l[0].float()
        chosen = row[new[step]].item()
        others = row.clone()
        others[new[step]] = -math.inf
        # chosen - best other: <= 0 where the step was a tie (rejected)
        margins.append(chosen - others.max().item())
    return {"logits": logits, "greedy_ids": new, "greedy_margins": margins}


def upcast_outputs(model, device):
    """The same weights in float32: the scale of the half-precision noise."""
    m32 = model.to(torch.float32)
    r = outputs(m32, device)
    return r


def acceptable(res, threshold, ref32=None):
    why = []
    if min(res["greedy_margins"]) <= threshold:
        why.append(f"min margin {min(res['greedy_margins']):.3g} <= {threshold}")
    if EOS in res["greedy_ids"]:
        why.append("EOS in greedy ids")
    if len(set(res["greedy_ids"])) < 4:
        why.append(f"only {len(set(res['greedy_ids']))} distinct greedy ids")
    if ref32 is not None and ref32["greedy_ids"] != res["greedy_ids"]:
        why.append("float32-upcast greedy ids differ")
    if not torch.isfinite(res["logits"]).all():
        why.append("non-finite logits")
    return why


def keep_files(src, dst):
    dst.mkdir(parents=True, exist_ok=True)
    for f in os.listdir(src):
        if f in KEEP:
            shutil.copy2(src / f, dst / f)
    missing = [f for f in ("config.json", "model.safetensors") if not (dst / f).exists()]
    if missing:
        raise RuntimeError(f"save_pretrained wrote no {missing} (wrote {sorted(os.listdir(src))})")


def write_expected(dst, case, reference, device, dtype, seed, res, vers, **extra):
    doc = {
        "case": case,
        "reference": reference,
        "device": device,
        "dtype": dtype,
        "attn_implementation": ATTN,
        "seed": seed,
        "input_ids": PROMPT,
        "logits": [[sig6(v) for v in row] for row in res["logits"].tolist()],
        "greedy_ids": res["greedy_ids"],
        "greedy_margins": [round(m, 6) for m in res["greedy_margins"]],
        "versions": vers,
    }
    doc.update(extra)
    with open(dst / "expected.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return doc


class Search:
    """The seed search of one case: rejected seeds, and the best seed that
    failed on its margin alone (written, flagged, when no seed passes within
    the case's limit of tries or the run's deadline)."""
    deadline = math.inf

    def __init__(self, name, limit):
        self.name, self.limit, self.tried, self.best = name, limit, [], None

    def reject(self, seed, res, why):
        """Records a rejected seed; True while the search may go on."""
        self.tried.append((seed, why))
        if all(w.startswith("min margin") for w in why):
            m = min(res["greedy_margins"])
            if self.best is None or m > self.best[0]:
                self.best = (m, seed)
        return len(self.tried) < self.limit and time.time() < Search.deadline

    def give_up(self):
        if self.best is None:
            raise RuntimeError(f"{self.name}: no seed passes: {self.tried}")
        print(f"[{self.name}] no seed passes in {len(self.tried)} tries; writing seed {self.best[1]} "
              f"(min margin {self.best[0]:.3g}), flagged", flush=True)
        return self.best[1]

    def extra(self, force):
        doc = {"seeds_rejected": len(self.tried)}
        if force:
            doc["margin_requirement_met"] = False
        return doc


def max_abs(a, b):
    return (a["logits"] - b["logits"]).abs().max().item()


# --- dense cases --------------------------------------------------------------

DENSE = {
    "llama-f32": ("llama", "float32", dict(rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                                           tie_word_embeddings=False)),
    "llama3-bf16": ("llama", "bfloat16", dict(rope_parameters={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64, "rope_theta": 500000.0}, tie_word_embeddings=True)),
    "mistral-bf16": ("mistral", "bfloat16", dict(sliding_window=6, tie_word_embeddings=False)),
    "qwen2-f16": ("qwen2", "float16", dict(tie_word_embeddings=False)),
    "qwen3-bf16": ("qwen3", "bfloat16", dict(tie_word_embeddings=False)),
}


def dense_case(name, work, out, first_seed, force=False):
    arch, dtype, extra = DENSE[name]
    threshold = 0.05 if dtype == "float32" else 0.5
    search = Search(name, MAX_SEEDS)
    for seed in (range(first_seed, first_seed + MAX_SEEDS) if not force else [first_seed]):
        model = build_dense(arch, dtype, seed, **extra)
        d = work / name
        shutil.rmtree(d, ignore_errors=True)
        model.save_pretrained(d, safe_serialization=True)
        m = load(d, None, dtype=DTYPES[dtype])
        res = outputs(m, "cpu")
        ref32 = upcast_outputs(m, "cpu") if dtype != "float32" else None
        why = acceptable(res, threshold, ref32)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        extra_doc = search.extra(force)
        if ref32 is not None:
            extra_doc["noise"] = {
                "float32_upcast_max_abs_logit_diff": round(max_abs(res, ref32), 6),
                "note": f"the same {dtype} weights run in float32 by transformers (CPU): "
                        "the scale of the half-precision compute noise",
            }
        if arch == "mistral":
            extra_doc["sliding_window"] = extra["sliding_window"]
        return write_expected(out / name, name, "transformers", "cpu", dtype, seed, res,
                              versions(), **extra_doc)
    return dense_case(name, work, out, search.give_up(), force=True)


# --- quantized cases ------------------------------------------------------------

def base_candidates(dtype, first_seed, count, work):
    """Seeds of the Llama base ranked by the dense base's own minimum margin:
    quantization noise is least likely to flip a greedy step there."""
    ranked = []
    for seed in range(first_seed, first_seed + count):
        model = build_dense("llama", dtype, seed, tie_word_embeddings=False)
        res = outputs(model, "cpu")
        if EOS in res["greedy_ids"] or len(set(res["greedy_ids"])) < 4:
            continue
        ranked.append((min(res["greedy_margins"]), seed))
    ranked.sort(reverse=True)
    return [s for _, s in ranked]


def save_base(dtype, seed, work):
    d = work / f"base-{dtype}-{seed}"
    if not d.exists():
        build_dense("llama", dtype, seed, tie_word_embeddings=False).save_pretrained(d, safe_serialization=True)
    return d


def quant_configs():
    """name -> (base dtype, packages, make the transformers config).
    Each runs where its library needs: bitsandbytes, fp8 and hqq on CUDA,
    quanto and torchao on the CPU (QUANT_DEVICE)."""
    import transformers as T
    return {
        "bnb-4bit-nf4": ("bfloat16", ("bitsandbytes",), lambda: T.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True)),
        "bnb-8bit": ("float16", ("bitsandbytes",), lambda: T.BitsAndBytesConfig(load_in_8bit=True)),
        "fp8": ("bfloat16", (), lambda: T.FineGrainedFP8Config()),
        "hqq": ("bfloat16", ("hqq",), lambda: T.HqqConfig(nbits=4, group_size=64)),
        "quanto": ("bfloat16", ("optimum-quanto",), lambda: T.QuantoConfig(weights="int8")),
        "torchao": ("bfloat16", ("torchao",), lambda: T.TorchAoConfig(
            __import__("torchao.quantization", fromlist=["Int8WeightOnlyConfig"]).Int8WeightOnlyConfig())),
    }


QUANT_DEVICE = {"bnb-4bit-nf4": "cuda", "bnb-8bit": "cuda", "fp8": "cuda", "hqq": "cuda",
                "quanto": "cpu", "torchao": "cpu", "compressed-tensors": "cpu"}


def check_fp8(d):
    """Whether every linear weight of the saved fp8 checkpoint is fp8 with its scale.

    Also flags weights the configured weight_block_size does not tile: 5.17's
    Fp8Quantize passes those through unquantized, but the FP8Linear they are
    loaded into still has an F8_E4M3 weight (the bf16 values are cast to fp8
    unscaled) and a ceil-shaped weight_scale_inv that nothing fills (the load
    report says MISSING: newly initialised), so save_pretrained writes an F8
    weight with a meaningless scale, which dtype alone does not reveal."""
    from safetensors import safe_open
    block = (json.load(open(d / "config.json")).get("quantization_config") or {}).get("weight_block_size")
    bad = []
    with safe_open(d / "model.safetensors", "pt") as f:
        keys = set(f.keys())
        for k in keys:
            if k.endswith("_proj.weight"):
                if f.get_slice(k).get_dtype() != "F8_E4M3" or k[:-len("weight")] + "weight_scale_inv" not in keys:
                    bad.append(k)
                elif block and any(n % b for n, b in zip(f.get_slice(k).get_shape(), block)):
                    bad.append(k)
    return sorted(bad)


@contextlib.contextmanager
def fp8_quantize_on_cpu():
    """transformers 5.17's FineGrainedFP8HfQuantizer.validate_environment
    raises 'No GPU or XPU found. A GPU or XPU is needed for FP8 quantization.'
    for on-the-fly quantization without CUDA/XPU, although the quantization
    itself (Fp8Quantize, the loader's conversion op) is plain torch. For the
    quantizing load only, this skips that check, so that transformers' own
    loader quantizes (Fp8Quantize) and save_pretrained writes the checkpoint,
    on the CPU. Loading it back is not patched (5.17 then dequantizes to
    bf16 on the CPU, its own behaviour without a GPU)."""
    from transformers.quantizers.quantizer_finegrained_fp8 import FineGrainedFP8HfQuantizer
    orig = FineGrainedFP8HfQuantizer.validate_environment
    FineGrainedFP8HfQuantizer.validate_environment = lambda self, *a, **k: None
    try:
        yield
    finally:
        FineGrainedFP8HfQuantizer.validate_environment = orig


def bnb_dequantized(d):
    """The float32 dequantized projections of a saved bitsandbytes checkpoint
    (bitsandbytes' own dequantize_4bit with the stored float32 absmax after
    double-quant; int8 CB * SCB / 127 for 8-bit), from a fresh load that has
    run no forward (bnb's CPU forward repacks 4-bit weights and rounds their
    absmax to bf16)."""
    import bitsandbytes as bnb
    m = load(d, "cpu")
    out = {}
    for name, mod in m.named_modules():
        if isinstance(mod, bnb.nn.Linear4bit):
            qs = copy.deepcopy(mod.weight.quant_state)
            qs.dtype = torch.float32
            out[name + ".weight"] = bnb.functional.dequantize_4bit(mod.weight.data, qs).float()
        elif isinstance(mod, bnb.nn.Linear8bitLt):
            out[name + ".weight"] = mod.weight.data.float() * (mod.weight.SCB.float()[:, None] / 127)
    return out


def fp8_dense_noise(d, res):
    """The dense float32 model of the fp8 checkpoint's dequantized weights
    (weight * weight_scale_inv per block, kept in float32, where 5.17's
    CPU dequantization rounds them to bf16 and computes in bf16)."""
    from safetensors.torch import load_file
    raw = load_file(str(d / "model.safetensors"))
    sd = {k: v for k, v in raw.items() if not any(f"{l}." in k for l in LINEARS)}
    deq = {}
    for k, w in raw.items():
        if k.endswith("_proj.weight"):
            s = raw[k[:-len("weight")] + "weight_scale_inv"].float()
            bn, bk = w.shape[0] // s.shape[0], w.shape[1] // s.shape[1]
            deq[k] = w.float() * s.repeat_interleave(bn, 0).repeat_interleave(bk, 1)
    dense = outputs(dense_reference(sd, deq), "cpu")
    return {"dense_dequantized_float32_max_abs_logit_diff": round(max_abs(res, dense), 6),
            "dense_dequantized_float32_greedy_ids": dense["greedy_ids"],
            "dense_dequantized_float32_note": "the dense float32 model of weight * weight_scale_inv (float32)"}


def bnb_cpu_notes(name, d, res):
    """What bitsandbytes' CPU backend computes, and two noise scales: the
    dense float32 model of the dequantized weights, and (8-bit) LLM.int8()
    fed float32 activations (every module but the Linear8bitLt in float32)."""
    import bitsandbytes as bnb
    from safetensors.torch import load_file
    sd = {k: v for k, v in load_file(str(d / "model.safetensors")).items()
          if not any(f"{l}." in k for l in LINEARS)}
    dense = outputs(dense_reference(sd, bnb_dequantized(d)), "cpu")
    noise = {"dense_dequantized_float32_max_abs_logit_diff": round(max_abs(res, dense), 6),
             "dense_dequantized_float32_greedy_ids": dense["greedy_ids"]}
    if name == "bnb-4bit-nf4":
        how = ("bitsandbytes 0.50.2 CPU backend (this CPU has AVX512-BF16): Linear4bit.forward first repacks the "
               "weight for the CPU (_convert_weight_packed_for_cpu: the double-quantized absmax dequantized to "
               "float32, then rounded to bfloat16) and runs every product, prefill and decode, through "
               "gemv_4bit_inference_cpu_nf4_bf16 (the `kernels` package is not installed, so not its "
               "gemm_4bit_forward); activations bf16")
    else:
        how = ("bitsandbytes 0.50.2 CPU backend: Linear8bitLt in eval runs MatMul8bitLt, i.e. LLM.int8(): "
               "activations cast to float16, columns with any |x| >= llm_int8_threshold 6.0 kept in float16 "
               "against the dequantized weight columns, the rest int8 per-row absmax (int8_vectorwise_quant), "
               "int8 x int8 -> int32 (torch._int_mm on AVX512), dequantized by SCA * SCB / 127^2")
        m = load(d, "cpu")
        for mod in m.modules():
            if not isinstance(mod, bnb.nn.Linear8bitLt):
                for p in mod.parameters(recurse=False):
                    p.data = p.data.float()
        up = outputs(m, "cpu")
        noise["float32_activations_max_abs_logit_diff"] = round(max_abs(res, up), 6)
        noise["float32_activations_greedy_ids"] = up["greedy_ids"]
        noise["float32_activations_note"] = (
            "the same checkpoint, LLM.int8() fed float32 activations (every module but the Linear8bitLt "
            "upcast): float16 rounding differences before the int8 activation rounding")
    return how, noise


def quant_case(name, work, out, candidates, dev, force=False, notes=None):
    base_dtype, pkgs, make = quant_configs()[name]
    notes = {} if notes is None else notes
    search = Search(name, QUANT_TRIES)
    for seed in candidates:
        base = save_base(base_dtype, seed, work)
        qcfg = make()
        if name == "fp8" and notes.get("weight_block_size"):
            qcfg = type(qcfg)(weight_block_size=notes["weight_block_size"])
        if name == "fp8" and str(dev) == "cpu":
            with fp8_quantize_on_cpu():
                model = load(base, dev, dtype=DTYPES[base_dtype], quantization_config=qcfg)
            notes["how"] = (
                "on the CPU: transformers' own quantizing load (FineGrainedFP8HfQuantizer, its Fp8Quantize "
                "conversion op: per block amax, scale = 448 / amax, clamp, cast to float8_e4m3fn, "
                "weight_scale_inv = 1 / scale) and save_pretrained, with only validate_environment's "
                "'No GPU or XPU found' check skipped for that load; loaded back unpatched. Note: 5.17's loader "
                "materialises each bf16 checkpoint weight in the dtype of the FP8Linear's empty weight "
                "(core_model_loading: _dtype = empty_param.dtype), i.e. casts it to float8_e4m3fn unscaled, "
                "before Fp8Quantize runs, so the stored codes are Fp8Quantize(fp8(w)) (amax and scale from the "
                "fp8-rounded w, the codes rounded twice), not Fp8Quantize(w); this is device independent")
        else:
            model = load(base, dev, dtype=DTYPES[base_dtype], quantization_config=qcfg)
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        if name == "quanto":
            # transformers 5.17 cannot save quanto models (is_serializable is
            # False): the case is on the fly, the dense base with the user's
            # quantization_config.
            reloaded = model
            d = base
            notes["on_the_fly"] = True
            notes["user_quantization_config"] = qcfg.to_dict()
            recorded_from = "the base checkpoint loaded with quantization_config (on the fly)"
        else:
            model.save_pretrained(d, safe_serialization=True)
            if name == "fp8":
                bad = check_fp8(d)
                if bad and not notes.get("weight_block_size"):
                    notes["weight_block_size"] = [64, 64]
                    notes["why_block_size"] = (
                        f"the default weight_block_size [128, 128] does not tile {len(bad)} projections "
                        f"(the 64-row k_proj/v_proj: {bad[:2]}...): transformers 5.17's Fp8Quantize passes "
                        "them through unquantized, the FP8Linear they load into casts the bf16 values to "
                        "float8_e4m3fn unscaled and keeps its ceil-shaped [1, 1] weight_scale_inv as initialised "
                        "(load report: MISSING), and save_pretrained writes both, so the case uses [64, 64]")
                    return quant_case(name, work, out, candidates, dev, force, notes)
            try:
                reloaded = load(d, dev)
                recorded_from = "the saved checkpoint, loaded back with from_pretrained"
                if name == "fp8" and str(dev) == "cpu":
                    recorded_from += (" on the CPU: 5.17 has no CPU FP8 kernel and, pre-quantized without a "
                                      "GPU, sets dequantize=True (its warning 'we will default to dequantizing "
                                      "the model to bf16'): Fp8Dequantize folds weight_scale_inv into each "
                                      "weight (float32 product, rounded to bfloat16) and the projections are "
                                      "plain bf16 nn.Linear; no fp8 activation quantization")
            except Exception as e:  # noqa: BLE001 -- recorded, the in-memory model is used
                reloaded = model
                recorded_from = "the in-memory quantized model (reloading failed: " + \
                    f"{type(e).__name__}: {str(e)[:300]})"
        res = outputs(reloaded, dev)
        why = acceptable(res, 0.5)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_m = load(base, "cpu", dtype=DTYPES[base_dtype])
        base_res = outputs(base_m, "cpu")
        extra = dict(notes)
        extra.update({
            "base": f"LlamaForCausalLM {base_dtype}, seed {seed} (the dense model that was quantized)",
            "recorded_from": recorded_from,
            **search.extra(force),
            "noise": {"dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                      "dense_base_greedy_ids": base_res["greedy_ids"],
                      "note": "transformers' dense base (CPU) vs this quantized model: "
                              "the scale of the quantization error"},
            "quantization_config": qcfg.to_dict() if name == "quanto" else
                json.load(open(d / "config.json")).get("quantization_config"),
        })
        extra.pop("why_block_size", None) if not notes.get("weight_block_size") else None
        if name.startswith("bnb-") and str(dev) == "cpu":
            extra["how"], bnb_noise = bnb_cpu_notes(name, d, res)
            extra["noise"].update(bnb_noise)
        if name == "fp8" and str(dev) == "cpu":
            extra["noise"].update(fp8_dense_noise(d, res))
        return write_expected(out / name, name, "transformers", str(dev), base_dtype, seed, res,
                              versions(*pkgs), **extra)
    return quant_case(name, work, out, [search.give_up()], dev, True, notes)


# --- compressed-tensors: quantized with the compressed-tensors library --------

def ct_case(name, work, out, candidates, dev, force=False):
    from compressed_tensors.compressors import ModelCompressor
    from compressed_tensors.quantization import (QuantizationArgs, QuantizationConfig,
                                                 QuantizationScheme, apply_quantization_config)
    from compressed_tensors.quantization.utils import calculate_qparams
    search = Search(name, QUANT_TRIES)
    for seed in candidates:
        base = save_base("bfloat16", seed, work)
        model = load(base, None, dtype=torch.bfloat16)
        wargs = QuantizationArgs(num_bits=4, type="int", symmetric=True, strategy="group", group_size=32)
        qconf = QuantizationConfig(
            config_groups={"group_0": QuantizationScheme(targets=["Linear"], weights=wargs)},
            ignore=["lm_head"])
        apply_quantization_config(model, qconf)
        # Round to nearest: per group of 32 inputs, scale = max|w| / 7.5 (the
        # library's own calculate_qparams), as a min-max observer would.
        with torch.no_grad():
            for mname, mod in model.named_modules():
                if hasattr(mod, "weight_scale") and hasattr(mod, "quantization_scheme"):
                    w = mod.weight.float()
                    n, k = w.shape
                    g = w.view(n, k // 32, 32)
                    scale, zp = calculate_qparams(g.amin(-1), g.amax(-1), wargs)
                    mod.weight_scale.data.copy_(scale.to(mod.weight_scale.dtype).view_as(mod.weight_scale))
                    mod.weight_zero_point.data.copy_(zp.to(mod.weight_zero_point.dtype).view_as(mod.weight_zero_point))
        compressor = ModelCompressor.from_pretrained_model(model, quantization_format="pack-quantized")
        compressor.compress_model(model)
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        model.save_pretrained(d, safe_serialization=True)
        compressor.update_config(str(d))
        reloaded = load(d, dev)
        res = outputs(reloaded, dev)
        why = acceptable(res, 0.5)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(load(base, "cpu", dtype=torch.bfloat16), "cpu")
        return write_expected(
            out / name, name, "transformers", str(dev), "bfloat16", seed, res, versions("compressed-tensors"),
            base=f"LlamaForCausalLM bfloat16, seed {seed}",
            how=("compressed-tensors: apply_quantization_config(W4A16 int4 sym group 32, ignore lm_head), "
                 "weight_scale from calculate_qparams(min, max) per group (round to nearest), "
                 "ModelCompressor(pack-quantized).compress_model, save_pretrained, update_config; "
                 "recorded from the checkpoint loaded back by transformers"),
            recorded_from="the saved checkpoint, loaded back with from_pretrained",
            **search.extra(force),
            noise={"dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"]},
            quantization_config=json.load(open(d / "config.json")).get("quantization_config"))
    return ct_case(name, work, out, [search.give_up()], dev, True)


# --- GPTQ / AWQ: the published layout, a dense reference ------------------------

LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def rtn_gptq(w, group):
    """GPTQ 4-bit sym (round to nearest): zero 8, scale = max|w| / 7.5 per
    group of `group` inputs. Returns q [N, K] (0..15), scales f16 [G, N],
    dequantized W [N, K] (float32, from the f16 scales)."""
    n, k = w.shape
    g = w.float().view(n, k // group, group)
    scale = (g.abs().amax(-1) / 7.5).clamp(min=1e-8).half()            # [N, G]
    s = scale.float().unsqueeze(-1)
    q = torch.clamp(torch.round(g / s) + 8, 0, 15)
    deq = ((q - 8) * s).view(n, k)
    return q.view(n, k).to(torch.int64), scale.t().contiguous(), deq


def rtn_awq(w, group):
    """AWQ 4-bit asym (round to nearest, min-max): per group scale =
    (max - min) / 15, zero = round(-min / scale). Returns q [N, K], zeros
    [G, N], scales f16 [G, N], dequantized W [N, K] (float32)."""
    n, k = w.shape
    g = w.float().view(n, k // group, group)
    mx, mn = g.amax(-1), g.amin(-1)
    scale = ((mx - mn) / 15).clamp(min=1e-8).half()
    s = scale.float()
    z = torch.clamp(torch.round(-mn / s), 0, 15)
    q = torch.clamp(torch.round(g / s.unsqueeze(-1)) + z.unsqueeze(-1), 0, 15)
    deq = ((q - z.unsqueeze(-1)) * s.unsqueeze(-1)).view(n, k)
    return q.view(n, k).to(torch.int64), z.t().to(torch.int64).contiguous(), scale.t().contiguous(), deq


def to_i32(words):
    return torch.tensor(words, dtype=torch.int64).to(torch.int32)


def pack_gptq(q, zero_stored, group):
    """qweight i32 [K/8, N] (column n: the K-stream of q[n, :], LSB first),
    qzeros i32 [G, N/8] (zero - 1 for the gptq v1 format), g_idx [K]."""
    common = gen_module("gptq") and sys.modules["common"]
    n, k = q.shape
    qrows = q.tolist()
    cols = [common.pack_lsb(qrows[j], 4, k) for j in range(n)]
    qweight = to_i32([cols[j][r] for r in range(k // 8) for j in range(n)]).view(k // 8, n)
    G = k // group
    qzeros = to_i32([w for _ in range(G) for w in common.pack_lsb([zero_stored] * n, 4, n)]).view(G, n // 8)
    g_idx = torch.arange(k, dtype=torch.int32) // group
    return qweight, qzeros, g_idx


def pack_awq(q, z):
    """AutoAWQ GEMM: qweight i32 [K, N/8], qzeros i32 [G, N/8] (gen/awq.py's order)."""
    awq = gen_module("awq")
    qt = q.t().tolist()                     # [K][N]
    qweight = to_i32([w for row in qt for w in awq.pack_gemm_row(row)]).view(len(qt), -1)
    zr = z.tolist()                         # [G][N]
    qzeros = to_i32([w for row in zr for w in awq.pack_gemm_row(row)]).view(len(zr), -1)
    return qweight, qzeros


def prequant_case(name, work, out, candidates, force=False):
    import transformers as T
    from safetensors.torch import save_file
    group = 32
    search = Search(name, QUANT_TRIES)
    for seed in candidates:
        base = build_dense("llama", "float16", seed, tie_word_embeddings=False)
        sd = {k: v.detach().clone().contiguous() for k, v in base.state_dict().items()}
        tensors = {k: v for k, v in sd.items() if not any(k.endswith(f"{l}.weight") for l in LINEARS)}
        deq = {}
        for layer in range(ARCH["num_hidden_layers"]):
            for l in LINEARS:
                key = f"model.layers.{layer}.{l}"
                w = sd[key + ".weight"]
                if name == "gptq":
                    q, scales, dq = rtn_gptq(w, group)
                    qweight, qzeros, g_idx = pack_gptq(q, 7, group)   # sym: zero 8 stored as 7
                    tensors.update({key + ".qweight": qweight, key + ".qzeros": qzeros,
                                    key + ".scales": scales, key + ".g_idx": g_idx})
                else:
                    q, z, scales, dq = rtn_awq(w, group)
                    qweight, qzeros = pack_awq(q, z)
                    tensors.update({key + ".qweight": qweight, key + ".qzeros": qzeros,
                                    key + ".scales": scales})
                deq[key + ".weight"] = dq
        if name == "gptq":
            qc = T.GPTQConfig(bits=4, group_size=group, desc_act=False, sym=True, damp_percent=0.01,
                              checkpoint_format="gptq")
            how = ("GPTQ v1 layout (gptq 4-bit sym, group 32, desc_act false) by round to nearest; "
                   "packed with test/e2e/gen/common.py's pack_lsb as test/e2e/gen/gptq.py does")
        else:
            qc = T.AwqConfig(bits=4, group_size=group, zero_point=True, version="gemm")
            how = ("AutoAWQ GEMM layout (4-bit, zero point, group 32) by round to nearest (min-max); "
                   "packed with test/e2e/gen/awq.py's pack_gemm_row")
        qdict = qc.to_dict()
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        cfg = base.config
        cfg.quantization_config = qdict
        cfg.save_pretrained(d)
        base.generation_config.save_pretrained(d)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})

        # The reference: a dense LlamaForCausalLM (float32) over the same
        # float16 embeddings, norms and lm_head and the dequantized linears.
        ref_cfg = make_config("llama", "float32", tie_word_embeddings=False)
        ref = T.AutoModelForCausalLM.from_config(ref_cfg, attn_implementation=ATTN, dtype=torch.float32).eval()
        full = {k: v.float() for k, v in sd.items()}
        full.update(deq)
        missing, unexpected = ref.load_state_dict(full, strict=False)
        assert not unexpected and all("rotary" in m for m in missing), (missing, unexpected)
        res = outputs(ref, "cpu")
        ref16 = outputs(ref.to(torch.float16), "cpu")
        why = acceptable(res, 0.5, ref16)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(base.float(), "cpu")
        return write_expected(
            out / name, name, "transformers dense model with the dequantized weights", "cpu", "float32",
            seed, res, versions(),
            checkpoint_dtype="float16",
            base=f"LlamaForCausalLM float16, seed {seed}",
            how=how,
            why_not_loaded=("transformers 5.17 loads GPTQ/AWQ checkpoints only with gptqmodel, which "
                            "cannot be installed on the GPU machine (see test/fidelity/README.md)"),
            **search.extra(force),
            noise={"float16_max_abs_logit_diff": round(max_abs(res, ref16), 6),
                   "float16_note": "the same dense reference run in float16 by transformers (CPU)",
                   "dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"]},
            quantization_config=qdict)
    return prequant_case(name, work, out, [search.give_up()], True)


# --- AQLM: the published layout, a dense reference --------------------------------

AQLM_SHAPE = dict(num_codebooks=2, nbits_per_codebook=8, in_group_size=8, out_group_size=1)


def kmeans(x, size, iters, gen):
    """Plain Lloyd k-means of the rows of x (float32) into `size` centroids,
    seeded from rows picked by `gen`."""
    c = x[torch.randperm(x.shape[0], generator=gen)[:size]].clone()
    for _ in range(iters):
        a = torch.cdist(x, c).argmin(1)
        for j in range(size):
            m = a == j
            if m.any():
                c[j] = x[m].mean(0)
    return c


def aqlm_quantize(w, gen, iters=8):
    """AQLM 2x8 (two 256-entry codebooks, in_group 8, out_group 1): scales
    = per-row rms, codebook c fitted by k-means on the residual left by
    codebooks < c, codes by greedy nearest entry against the stored float16
    codebooks. Returns codes (stored signed, i8 [N, K/8, 2]), codebooks (f16
    [2, 256, 1, 8]), scales (f16 [N, 1, 1, 1]) and the dequantized W (float32),
    W[o, 8i:8i+8] = scales[o] * sum_c codebooks[c, codes[o, i, c]]."""
    C, nbits, ig = AQLM_SHAPE["num_codebooks"], AQLM_SHAPE["nbits_per_codebook"], AQLM_SHAPE["in_group_size"]
    size = 1 << nbits
    n, k = w.shape
    w = w.float()
    scales = w.pow(2).mean(1).sqrt().clamp(min=1e-6).half()                 # [N]
    v = (w / scales.float()[:, None]).reshape(n * (k // ig), ig)
    res, books, codes = v.clone(), [], []
    for _ in range(C):
        book = kmeans(res, size, iters, gen).half()
        code = torch.cdist(res, book.float()).argmin(1)
        res = res - book.float()[code]
        books.append(book)
        codes.append(code)
    codebooks = torch.stack(books).view(C, size, 1, ig)                      # [C, size, og, ig]
    code = torch.stack(codes, -1).view(n, k // ig, C)                        # [O, I, C] unsigned
    summed = sum(books[c].float()[codes[c]] for c in range(C)).view(n, k)
    deq = scales.float()[:, None] * summed
    stored = torch.where(code >= size // 2, code - size, code).to(torch.int8)
    return stored, codebooks.contiguous(), scales.view(n, 1, 1, 1).contiguous(), deq


def aqlm_case(name, work, out, candidates, force=False):
    import transformers as T
    from safetensors.torch import save_file
    search = Search(name, QUANT_TRIES)
    for seed in candidates:
        base = build_dense("llama", "float16", seed, tie_word_embeddings=False)
        sd = {k: v.detach().clone().contiguous() for k, v in base.state_dict().items()}
        tensors = {k: v for k, v in sd.items() if not any(k.endswith(f"{l}.weight") for l in LINEARS)}
        deq = {}
        gen = torch.Generator().manual_seed(seed)
        for layer in range(ARCH["num_hidden_layers"]):
            for l in LINEARS:
                key = f"model.layers.{layer}.{l}"
                codes, codebooks, scales, dq = aqlm_quantize(sd[key + ".weight"], gen)
                tensors.update({key + ".codes": codes, key + ".codebooks": codebooks, key + ".scales": scales})
                deq[key + ".weight"] = dq
        qc = T.AqlmConfig(**AQLM_SHAPE, linear_weights_not_to_quantize=[
            "model.embed_tokens.weight", "lm_head.weight"])
        qdict = qc.to_dict()
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        cfg = base.config
        cfg.quantization_config = qdict
        cfg.save_pretrained(d)
        base.generation_config.save_pretrained(d)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})
        ref = dense_reference(sd, deq)
        res = outputs(ref, "cpu")
        ref16 = outputs(ref.to(torch.float16), "cpu")
        why = acceptable(res, 0.5, ref16)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(base.float(), "cpu")
        return write_expected(
            out / name, name, "transformers dense model with the dequantized weights", "cpu", "float32",
            seed, res, versions(),
            checkpoint_dtype="float16",
            base=f"LlamaForCausalLM float16, seed {seed}",
            how=("AQLM 2x8 layout (aqlm QuantizedLinear: codes i8 [N, K/8, 2] stored signed, codebooks f16 "
                 "[2, 256, 1, 8], scales f16 [N, 1, 1, 1]) as test/e2e/gen/aqlm.py writes it; scales = per-row "
                 "rms, codebooks by residual k-means (8 Lloyd iterations), codes by greedy nearest entry; "
                 "embed_tokens and lm_head unquantized (linear_weights_not_to_quantize)"),
            why_not_loaded="transformers 5.17 loads AQLM checkpoints only with the aqlm package, which is not installed",
            **search.extra(force),
            noise={"float16_max_abs_logit_diff": round(max_abs(res, ref16), 6),
                   "float16_note": "the same dense reference run in float16 by transformers (CPU)",
                   "dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"]},
            quantization_config=qdict)
    return aqlm_case(name, work, out, [search.give_up()], True)


def dense_reference(sd, deq):
    """A dense float32 LlamaForCausalLM over the checkpoint's unquantized
    tensors (upcast) and the dequantized linears."""
    import transformers as T
    ref_cfg = make_config("llama", "float32", tie_word_embeddings=False)
    ref = T.AutoModelForCausalLM.from_config(ref_cfg, attn_implementation=ATTN, dtype=torch.float32).eval()
    full = {k: v.float() for k, v in sd.items()}
    full.update(deq)
    missing, unexpected = ref.load_state_dict(full, strict=False)
    assert not unexpected and all("rotary" in m for m in missing), (missing, unexpected)
    return ref


# --- BitNet: the published packed-ternary layout, loaded by transformers ---------

def bitnet_pack(t):
    """Ternary t [N, K] in {-1, 0, 1} -> u8 [N/4, K]: t + 1, byte row r holds
    rows r, r + N/4, r + N/2, r + 3N/4 at bits 0-1, 2-3, 4-5, 6-7 (the
    layout of test/e2e/gen/bitnet.py's packed_ternary)."""
    n = t.shape[0]
    q = n // 4
    u = (t + 1).to(torch.int32)
    packed = sum(u[p * q:(p + 1) * q] << (2 * p) for p in range(4))
    return packed.to(torch.uint8)


def bitnet_case(name, work, out, candidates, force=False):
    """BitNet b1.58 offline BitLinear: each projection ternarized by absmean
    (s = 1 / mean|W|, t = clamp(round(W s), -1, 1), weight_scale = s so that
    BitLinear's x_q . t / (s_x * weight_scale) ~ x . W), bf16 base; written
    in the published layout and recorded from transformers' own BitLinear
    (activations quantized per token to int8), checkpoint loaded back."""
    import transformers as T
    from safetensors.torch import save_file
    from transformers.integrations.bitnet import pack_weights
    search = Search(name, QUANT_TRIES)
    for seed in candidates:
        base = save_base("bfloat16", seed, work)
        base_m = load(base, None, dtype=torch.bfloat16)
        sd = {k: v.detach().clone().contiguous() for k, v in base_m.state_dict().items()}
        tensors = {k: v for k, v in sd.items() if not any(k.endswith(f"{l}.weight") for l in LINEARS)}
        for layer in range(ARCH["num_hidden_layers"]):
            for l in LINEARS:
                key = f"model.layers.{layer}.{l}"
                w = sd[key + ".weight"].float()
                s = 1.0 / w.abs().mean().clamp(min=1e-5)
                t = (w * s).round().clamp(-1, 1)
                packed = bitnet_pack(t)
                assert torch.equal(packed, pack_weights(t.clone())), key     # transformers' own packing
                tensors[key + ".weight"] = packed.contiguous()
                tensors[key + ".weight_scale"] = s.reshape(1).to(torch.bfloat16)
        qc = T.BitNetQuantConfig(linear_class="bitlinear", quantization_mode="offline")
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        cfg = base_m.config
        cfg.quantization_config = qc.to_dict()
        cfg.save_pretrained(d)
        base_m.generation_config.save_pretrained(d)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})
        reloaded = load(d, None)
        kinds = {type(m).__name__ for m in reloaded.modules()}
        assert "BitLinear" in kinds, kinds
        res = outputs(reloaded, "cpu")
        why = acceptable(res, 0.5)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(base_m, "cpu")
        return write_expected(
            out / name, name, "transformers", "cpu", "bfloat16", seed, res, versions(),
            base=f"LlamaForCausalLM bfloat16, seed {seed}",
            how=("BitNet offline BitLinear layout (weight u8 [N/4, K], ternary + 1 in 4 planes along N, the "
                 "layout of test/e2e/gen/bitnet.py and transformers' pack_weights; weight_scale bf16 [1]); "
                 "per projection s = 1 / mean|W|, t = clamp(round(W s), -1, 1), weight_scale = s; lm_head "
                 "unquantized (transformers' default skip); written with safetensors.torch.save_file"),
            recorded_from=("the saved checkpoint, loaded back with from_pretrained (transformers' BitLinear: "
                           "int8 per-token absmax activations, y = (x_q . t) / (s_x * weight_scale), bf16)"),
            torch_compile=os.environ.get("TORCHDYNAMO_DISABLE") != "1",
            **search.extra(force),
            noise={"dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"]},
            quantization_config=json.load(open(d / "config.json")).get("quantization_config"))
    return bitnet_case(name, work, out, [search.give_up()], True)


# --- HQQ: the hqq library's own layout, a dense reference -------------------------

def hqq_case(name, work, out, candidates, force=False):
    """HQQ 4-bit, group 64, axis 1 (HqqConfig(nbits=4, group_size=64)'s
    quant_config, optimize on): each projection quantized by the hqq
    library itself (HQQLinear on the CPU, compute_dtype float16), its
    state_dict written as the checkpoint's tensors (W_q, scale, zero and
    hqq's meta tensors). transformers 5.17 cannot load it (the HQQ quantizer
    has no weight conversion: W_q & co. are UNEXPECTED, the projections'
    weight MISSING and randomly initialised, silently), so the reference is
    the dense float32 model over (W_q - zero) * scale computed in float32
    from the stored float16 scale / zero and hqq's own unpacking."""
    import transformers as T
    from hqq.core.quantize import HQQLinear, Quantizer
    from safetensors.torch import save_file
    search = Search(name, QUANT_TRIES)
    hcfg = T.HqqConfig(nbits=4, group_size=64)
    for seed in candidates:
        base = build_dense("llama", "float16", seed, tie_word_embeddings=False)
        sd = {k: v.detach().clone().contiguous() for k, v in base.state_dict().items()}
        tensors = {k: v for k, v in sd.items() if not any(k.endswith(f"{l}.weight") for l in LINEARS)}
        deq, worst = {}, 0.0
        for layer in range(ARCH["num_hidden_layers"]):
            for l in LINEARS:
                key = f"model.layers.{layer}.{l}"
                lin = torch.nn.Linear(1, 1, bias=False)
                lin.weight = torch.nn.Parameter(sd[key + ".weight"].clone())
                lin.in_features, lin.out_features = lin.weight.shape[1], lin.weight.shape[0]
                h = HQQLinear(lin, quant_config=copy.deepcopy(hcfg.quant_config),
                              compute_dtype=torch.float16, device="cpu", del_orig=False)
                for k, v in h.state_dict().items():
                    if torch.is_tensor(v):
                        tensors[f"{key}.{k}"] = v.detach().clone().contiguous()
                q = Quantizer.unpack[h.meta["packing"]](h.W_q, dtype=torch.float32)
                dq = ((q - h.meta["zero"].float()) * h.meta["scale"].float()).reshape(h.meta["shape"])
                worst = max(worst, (dq - h.dequantize().float()).abs().max().item())
                deq[key + ".weight"] = dq
        qdict = hcfg.to_dict()
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        cfg = base.config
        cfg.quantization_config = qdict
        cfg.save_pretrained(d)
        base.generation_config.save_pretrained(d)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})
        ref = dense_reference(sd, deq)
        res = outputs(ref, "cpu")
        ref16 = outputs(ref.to(torch.float16), "cpu")
        why = acceptable(res, 0.5, ref16)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(base.float(), "cpu")
        return write_expected(
            out / name, name, "transformers dense model with the dequantized weights", "cpu", "float32",
            seed, res, versions("hqq"),
            checkpoint_dtype="float16",
            base=f"LlamaForCausalLM float16, seed {seed}",
            how=("hqq's HQQLinear (CPU, compute_dtype float16) with HqqConfig(nbits=4, group_size=64)'s "
                 "weight_quant_params (axis 1, optimize on); each projection's HQQLinear.state_dict() tensors "
                 "written with safetensors.torch.save_file (W_q u8 [N*K/128, 64], scale / zero f16 [N*K/64, 1], "
                 "and hqq's meta tensors); lm_head unquantized (skip_modules)"),
            why_not_loaded=("transformers 5.17's HQQ quantizer has no weight conversion for pre-quantized "
                            "checkpoints: from_pretrained reports W_q/scale/zero/... UNEXPECTED and the "
                            "projections' weight MISSING (randomly initialised) and raises nothing"),
            dequantize_vs_hqq_max_abs=worst,
            **search.extra(force),
            noise={"float16_max_abs_logit_diff": round(max_abs(res, ref16), 6),
                   "float16_note": "the same dense reference run in float16 by transformers (CPU)",
                   "dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"]},
            quantization_config=qdict)
    return hqq_case(name, work, out, [search.give_up()], True)


# --- EETQ: the published (FasterTransformer-preprocessed) layout, a dense reference

def eetq_quantize(w):
    """EETQ's symmetric_quantize (int8, FasterTransformer's cutlass_preprocessors)
    of W [N, K] (float16): on Wt = W^T [K, N], per output column n, scale =
    absmax / 128 (float32), q = round(Wt / scale) half away from zero,
    clipped to [-128, 127]; the stored scale is that float32 value rounded to
    float16. Returns q [K, N] (int8), scales f16 [N], and the dequantized W
    [N, K] (float32, q * f16 scale, exact)."""
    wt = w.float().t().contiguous()                                   # [K, N]
    scale = wt.abs().amax(0) / 128.0                                  # [N] float32
    x = wt / scale.clamp(min=torch.finfo(torch.float32).tiny)[None, :]
    q = (torch.sign(x) * torch.floor(x.abs() + 0.5)).clamp(-128, 127).to(torch.int8)
    s16 = scale.half()
    deq = (q.float() * s16.float()[None, :]).t().contiguous()
    return q, s16, deq


def eetq_pack(q):
    """FasterTransformer's sm80 preprocess_weights_for_mixed_gemm of the
    row-major int8 Wt [K, N], as test/e2e/gen/eetq.py's `preprocess` builds it
    (row permutation in groups of 16, column interleave by 2 in 64-row tiles,
    +128, bytes 1 and 2 of every 32-bit word swapped): i8 [K, N]."""
    k, n = q.shape
    flat = gen_module("eetq").preprocess(q.tolist(), k, n)
    return torch.tensor(flat, dtype=torch.int8).view(k, n)


def eetq_case(name, work, out, candidates, force=False):
    """EETQ int8 (EetqConfig("int8")), float16 base: each projection
    quantized as EETQ's quant_weights does (symmetric per output channel,
    absmax / 128) and written in EetqLinear's layout (weight i8 [K, N]
    FT-preprocessed, weight_scales f16 [N]); lm_head unquantized (default
    skip). transformers 5.17 needs CUDA and the `kernels` package (which
    downloads the EETQ kernels from the Hub), so the reference is the dense
    float32 model over q * weight_scales."""
    import transformers as T
    from safetensors.torch import save_file
    search = Search(name, QUANT_TRIES)
    for seed in candidates:
        base = build_dense("llama", "float16", seed, tie_word_embeddings=False)
        sd = {k: v.detach().clone().contiguous() for k, v in base.state_dict().items()}
        tensors = {k: v for k, v in sd.items() if not any(k.endswith(f"{l}.weight") for l in LINEARS)}
        deq = {}
        for layer in range(ARCH["num_hidden_layers"]):
            for l in LINEARS:
                key = f"model.layers.{layer}.{l}"
                q, s16, dq = eetq_quantize(sd[key + ".weight"])
                tensors[key + ".weight"] = eetq_pack(q)
                tensors[key + ".weight_scales"] = s16.contiguous()
                deq[key + ".weight"] = dq
        qdict = json.loads(json.dumps(T.EetqConfig(weights="int8").to_dict()))
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        cfg = base.config
        # build_dense's from_config(dtype=float32) leaves config.dtype float32
        # (so gptq/awq/aqlm/hqq say float32 over float16 tensors); an EETQ
        # checkpoint says float16, the dtype of its tensors.
        cfg.dtype = torch.float16
        cfg.quantization_config = qdict
        cfg.save_pretrained(d)
        base.generation_config.save_pretrained(d)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})
        ref = dense_reference(sd, deq)
        res = outputs(ref, "cpu")
        ref16 = outputs(ref.to(torch.float16), "cpu")
        why = acceptable(res, 0.5, ref16)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(base.float(), "cpu")
        return write_expected(
            out / name, name, "transformers dense model with the dequantized weights", "cpu", "float32",
            seed, res, versions(),
            checkpoint_dtype="float16",
            base=f"LlamaForCausalLM float16, seed {seed}",
            how=("EETQ int8 (EetqConfig('int8')): per projection, on W^T [K, N], per output channel "
                 "scale = absmax / 128 (float32), q = round(W^T / scale) half away from zero, clipped to "
                 "[-128, 127] (EETQ's symmetric_quantize); weight_scales = scale rounded to float16 [N]; weight "
                 "i8 [K, N] = FasterTransformer's sm80 preprocessing of q (test/e2e/gen/eetq.py's preprocess); "
                 "lm_head unquantized (default skip); written with safetensors.torch.save_file"),
            why_not_loaded=("transformers 5.17's EETQ quantizer needs CUDA and takes quant_weights / "
                            "w8_a16_gemm from the `kernels` package, which downloads them from the Hub"),
            **search.extra(force),
            noise={"float16_max_abs_logit_diff": round(max_abs(res, ref16), 6),
                   "float16_note": "the same dense reference run in float16 by transformers (CPU), about "
                                   "what EETQ's w8_a16_gemm (float16 activations) computes",
                   "dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"]},
            quantization_config=qdict)
    return eetq_case(name, work, out, [search.give_up()], True)


# --- FBGEMM FP8: the published layout, a dense reference and an emulation --------

FP8_MAX = 448.0


def fbgemm_quantize_rows(x, ub=None):
    """fbgemm-gpu's quantize_fp8_per_row (its Python reference
    fp8_row_quantize_ref and the CUDA kernel): per row amax (bounded by
    scale_ub where given), scale = 448 / amax clamped to <= 448 * 512,
    q = e4m3(clamp(x * scale, +-448)) (round to nearest even), and the
    returned scale is 1 / scale. Returns (q float8_e4m3fn, inv_scale f32)."""
    a = x.float()
    amax = a.abs().amax(-1)
    if ub is not None:
        amax = amax.clamp(max=ub)
    scale = (FP8_MAX / amax).clamp(max=FP8_MAX * 512.0)
    q = (a * scale.unsqueeze(-1)).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
    return q, scale.reciprocal().to(torch.float32)


class FbgemmFp8Emulated(torch.nn.Module):
    """transformers 5.17's FbgemmFp8Linear.forward on the CPU: activations
    quantized per row by quantize_fp8_per_row(x, scale_ub=input_scale_ub),
    then f8f8bf16_rowwise (e4m3 x e4m3 products accumulated in float32,
    times x_scale[m] * weight_scale[n], rounded to bf16)."""

    def __init__(self, q, scale, ub):
        super().__init__()
        self.register_buffer("q", q)
        self.register_buffer("scale", scale)
        self.ub = ub

    def forward(self, x):
        shape = x.shape[:-1]
        xq, xs = fbgemm_quantize_rows(x.reshape(-1, x.shape[-1]), self.ub)
        acc = xq.float() @ self.q.float().t()
        y = acc * xs.unsqueeze(-1) * self.scale.float().view(1, -1)
        return y.to(x.dtype).reshape(*shape, -1)


def fbgemm_case(name, work, out, candidates, force=False):
    """FBGEMM FP8 (FbgemmFp8Config(), activation_scale_ub 1200), bf16 base:
    weights per row e4m3 (quantize_fp8_per_row), FbgemmFp8Linear's layout
    (weight F8_E4M3 [N, K], weight_scale f32 [N, 1]); lm_head unquantized.
    transformers 5.17 needs CUDA sm_90 and fbgemm-gpu, so expected.json is
    the dense float32 model over q * weight_scale, and expected-emulated.json
    transformers' bf16 model with every projection replaced by an emulation
    of FbgemmFp8Linear.forward (fp8 per-row activations)."""
    import transformers as T
    from safetensors.torch import save_file
    search = Search(name, QUANT_TRIES)
    qc = T.FbgemmFp8Config()
    ub = qc.activation_scale_ub
    for seed in candidates:
        base_d = save_base("bfloat16", seed, work)
        base_m = load(base_d, None, dtype=torch.bfloat16)
        sd = {k: v.detach().clone().contiguous() for k, v in base_m.state_dict().items()}
        tensors = {k: v for k, v in sd.items() if not any(k.endswith(f"{l}.weight") for l in LINEARS)}
        deq, packed = {}, {}
        for layer in range(ARCH["num_hidden_layers"]):
            for l in LINEARS:
                key = f"model.layers.{layer}.{l}"
                q, s = fbgemm_quantize_rows(sd[key + ".weight"])
                s = s.view(-1, 1).contiguous()
                tensors[key + ".weight"] = q.contiguous()
                tensors[key + ".weight_scale"] = s
                deq[key + ".weight"] = q.float() * s
                packed[key] = (q, s)
        qdict = json.loads(json.dumps(qc.to_dict()))
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        cfg = base_m.config
        cfg.quantization_config = qdict
        cfg.save_pretrained(d)
        base_m.generation_config.save_pretrained(d)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})
        ref = dense_reference(sd, deq)
        res = outputs(ref, "cpu")
        emu = load(base_d, None, dtype=torch.bfloat16)
        for key, (q, s) in packed.items():
            emu.set_submodule(key, FbgemmFp8Emulated(q, s, ub))
        emu_res = outputs(emu, "cpu")
        ref16 = outputs(dense_reference(sd, deq).to(torch.bfloat16), "cpu")
        same = next((i for i, (a, b) in enumerate(zip(res["greedy_ids"], emu_res["greedy_ids"])) if a != b),
                    NEW_TOKENS)
        print(f"[{name}] seed {seed}: dense min margin {min(res['greedy_margins']):.3g}, bf16 "
              f"{max_abs(res, ref16):.3g} ids equal {ref16['greedy_ids'] == res['greedy_ids']}, emulated "
              f"{max_abs(res, emu_res):.3g} prefill diff, greedy equal for {same} steps", flush=True)
        why = acceptable(res, 0.5, ref16)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(base_m, "cpu")
        common = dict(
            checkpoint_dtype="bfloat16",
            base=f"LlamaForCausalLM bfloat16, seed {seed}",
            how=("FBGEMM FP8 (FbgemmFp8Config(), activation_scale_ub 1200): per projection, per output row "
                 "amax, scale = 448 / amax (<= 448 * 512), weight = e4m3(clamp(W * scale, +-448)) round to "
                 "nearest even, weight_scale = 1 / scale f32 [N, 1] (fbgemm-gpu's quantize_fp8_per_row, as "
                 "transformers' FbgemmFp8Quantize calls it); lm_head unquantized (default skip); written with "
                 "safetensors.torch.save_file"),
            why_not_loaded=("transformers 5.17's FBGEMM FP8 quantizer needs a CUDA GPU of compute capability "
                            ">= 9.0 (or an XPU) and fbgemm-gpu (torch.ops.fbgemm.quantize_fp8_per_row / "
                            "f8f8bf16_rowwise), not installable here"),
            **search.extra(force),
            quantization_config=qdict)
        emulation_how = (
            "transformers' LlamaForCausalLM in bf16 on the CPU (the checkpoint's bf16 embeddings, norms and "
            "lm_head), each of the 14 projections replaced by an emulation of FbgemmFp8Linear.forward: "
            "x (bf16) quantized per token by quantize_fp8_per_row with scale_ub = activation_scale_ub 1200 "
            "(amax = min(max|x|, 1200), scale = min(448 / amax, 448 * 512), xq = e4m3(clamp(x * scale, "
            "+-448))), then f8f8bf16_rowwise: sum_k xq * weight in float32, times (1 / scale[m]) * "
            "weight_scale[n], rounded to bf16")
        write_expected(
            out / name, name, "torch emulation of FbgemmFp8Linear's forward (fp8 per-row activations)",
            "cpu", "bfloat16", seed, emu_res, versions(), **common,
            emulation=emulation_how,
            noise={"dense_dequantized_float32_max_abs_logit_diff": round(max_abs(emu_res, res), 6),
                   "dense_dequantized_float32_greedy_ids": res["greedy_ids"],
                   "dense_base_max_abs_logit_diff": round(max_abs(emu_res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"]})
        os.replace(out / name / "expected.json", out / name / "expected-emulated.json")
        return write_expected(
            out / name, name, "transformers dense model with the dequantized weights", "cpu", "float32",
            seed, res, versions(), **common,
            emulated_in="expected-emulated.json",
            noise={"emulated_fp8_activations_max_abs_logit_diff": round(max_abs(res, emu_res), 6),
                   "emulated_fp8_activations_greedy_ids": emu_res["greedy_ids"],
                   "emulated_note": "expected-emulated.json: " + emulation_how,
                   "dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"]})
    return fbgemm_case(name, work, out, [search.give_up()], True)


# --- MXFP8: the published layout (uint8 e8m0 scales), loaded by transformers ------

def mxfp8_case(name, work, out, candidates, dev, force=False):
    """MXFP8 (quant_method mxfp8, weight_block_size [1, 32], scale_fmt ue8m0),
    bf16 base: each projection quantized by transformers 5.17's own
    Fp8Quantize op (ue8m0: power-of-two scales) applied to the bf16 weight,
    its float8_e8m0fnu scales stored as the MXFP8 checkpoints' uint8
    exponent bytes (the same bits); written with save_file, loaded back by
    transformers on the CPU (FineGrainedFP8HfQuantizer, dequantize to bf16:
    Fp8Dequantize reads uint8 scales as 2^(byte - 127))."""
    import types
    import transformers as T
    from safetensors.torch import save_file
    from transformers.integrations.finegrained_fp8 import Fp8Quantize
    search = Search(name, QUANT_TRIES)
    qc = T.FineGrainedFP8Config.from_dict({"quant_method": "mxfp8", "activation_scheme": "dynamic",
                                           "weight_block_size": [1, 32], "scale_fmt": "ue8m0"})
    op = Fp8Quantize(types.SimpleNamespace(quantization_config=qc))
    for seed in candidates:
        base_d = save_base("bfloat16", seed, work)
        base_m = load(base_d, None, dtype=torch.bfloat16)
        sd = {k: v.detach().clone().contiguous() for k, v in base_m.state_dict().items()}
        tensors = {k: v for k, v in sd.items() if not any(k.endswith(f"{l}.weight") for l in LINEARS)}
        deq = {}
        for layer in range(ARCH["num_hidden_layers"]):
            for l in LINEARS:
                key = f"model.layers.{layer}.{l}"
                r = op._quantize_one(key + ".weight", sd[key + ".weight"])
                q, e8 = r[key + ".weight"], r[key + ".weight_scale_inv"]
                assert q.dtype == torch.float8_e4m3fn and e8.dtype == torch.float8_e8m0fnu, (q.dtype, e8.dtype)
                byte = e8.view(torch.uint8).contiguous()
                s = (byte.float() - 127.0).exp2()
                assert torch.equal(s, e8.float()), key
                tensors[key + ".weight"] = q.contiguous()
                tensors[key + ".weight_scale_inv"] = byte
                deq[key + ".weight"] = q.float() * s.repeat_interleave(32, 1)
        qdict = json.loads(json.dumps(qc.to_dict()))
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        cfg = base_m.config
        cfg.quantization_config = qdict
        cfg.save_pretrained(d)
        base_m.generation_config.save_pretrained(d)
        save_file(tensors, str(d / "model.safetensors"), metadata={"format": "pt"})
        reloaded = load(d, dev)
        w0 = reloaded.model.layers[0].self_attn.q_proj.weight
        assert w0.dtype == torch.bfloat16, w0.dtype
        assert torch.equal(w0.float(), deq["model.layers.0.self_attn.q_proj.weight"]), "dequantized weight differs"
        res = outputs(reloaded, dev)
        why = acceptable(res, 0.5)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(base_m, "cpu")
        dense = outputs(dense_reference(sd, deq), "cpu")
        return write_expected(
            out / name, name, "transformers", str(dev), "bfloat16", seed, res, versions(),
            base=f"LlamaForCausalLM bfloat16, seed {seed}",
            how=("MXFP8 layout (weight F8_E4M3 [N, K], weight_scale_inv U8 [N, K/32], one e8m0 exponent byte "
                 "per 1 x 32 block, W = e4m3 * 2^(byte - 127)); each projection quantized by transformers 5.17's "
                 "own Fp8Quantize op on the bf16 weight with FineGrainedFP8Config(weight_block_size=[1, 32], "
                 "scale_fmt='ue8m0') (per block amax, weight_scale_inv = 2^ceil(log2(amax / 448)), weight = "
                 "e4m3(clamp(W / weight_scale_inv, +-448))), its float8_e8m0fnu scales written as their uint8 "
                 "bits; config quantization_config = FineGrainedFP8Config.from_dict({quant_method: mxfp8, ...})"
                 ".to_dict(); lm_head unquantized (default skip); written with safetensors.torch.save_file"),
            recorded_from=("the checkpoint loaded back with from_pretrained on the CPU: 5.17 maps mxfp8 to "
                           "FineGrainedFP8HfQuantizer and, pre-quantized without a GPU, sets dequantize=True "
                           "('we will default to dequantizing the model to bf16'): Fp8Dequantize reads the uint8 "
                           "scales as 2^(byte - 127), multiplies in float32 and casts to bf16 (exact: e4m3 times "
                           "a power of two), and the projections are plain bf16 nn.Linear; no fp8 activation "
                           "quantization"),
            why_written=("5.17 quantizing on the fly with scale_fmt ue8m0 writes float8_e8m0fnu (F8_E8M0) scales "
                         "under quant_method fp8, not the uint8 scales of MXFP8 checkpoints, and its quantizing "
                         "load first casts the bf16 weight to e4m3 unscaled (see fp8)"),
            **search.extra(force),
            noise={"dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"],
                   "dense_dequantized_float32_max_abs_logit_diff": round(max_abs(res, dense), 6),
                   "dense_dequantized_float32_greedy_ids": dense["greedy_ids"],
                   "dense_dequantized_float32_note": "the dense float32 model of e4m3 * 2^(byte - 127)"},
            quantization_config=qdict)
    return mxfp8_case(name, work, out, [search.give_up()], dev, True)


# --- Quark: quantized and exported by amd-quark, loaded by transformers ------------

QUARK_CALIB = (4, 32)   # calibration: 4 sequences of 32 token ids, drawn from a generator seeded by the seed


def quark_case(name, work, out, candidates, dtype="float32", force=False):
    """AMD Quark FP8 w8a8 static (the FP8E4M3PerTensorSpec of weights and
    inputs: per-tensor e4m3, min-max observers, static input scale), a
    float32 (`quark`) or bfloat16 (`quark-bf16`) base, lm_head excluded:
    quantized by amd-quark itself (ModelQuantizer.quantize_model over a
    seeded calibration set, freeze) and written by its export_safetensors
    (quark mode, real_quantized); recorded from the checkpoint loaded back by
    transformers with amd-quark installed, whose QParamsLinear runs the
    generic forward on the CPU (no torch._scaled_mm): weight dequantized,
    input fake-quantized to e4m3 with input_scale, F.linear. quark keeps its
    scales in the model's dtype: the bf16 export's weight_scale / input_scale
    are BF16 [], and QParamsLinear computes with them in bf16."""
    from quark.torch import ModelQuantizer, export_safetensors
    from quark.torch.quantization.config.config import FP8E4M3PerTensorSpec, QConfig, QLayerConfig
    torch_dtype = getattr(torch, dtype)
    scale_type = {"float32": "F32", "bfloat16": "BF16"}[dtype]
    search = Search(name, QUANT_TRIES)
    for seed in candidates:
        base = save_base(dtype, seed, work)
        model = load(base, None, dtype=torch_dtype)
        spec = FP8E4M3PerTensorSpec(observer_method="min_max", is_dynamic=False).to_quantization_spec()
        qconf = QConfig(global_quant_config=QLayerConfig(weight=spec, input_tensors=spec), exclude=["lm_head"])
        gen = torch.Generator().manual_seed(seed)
        n, length = QUARK_CALIB
        calib = [torch.randint(3, ARCH["vocab_size"], (1, length), generator=gen) for _ in range(n)]
        quantizer = ModelQuantizer(qconf)
        model = quantizer.quantize_model(model, torch.utils.data.DataLoader(calib, batch_size=None))
        model = quantizer.freeze(model)
        d = work / f"{name}-{seed}"
        shutil.rmtree(d, ignore_errors=True)
        export_safetensors(model, d, custom_mode="quark", weight_format="real_quantized", pack_method="reorder")
        reloaded = load(d, "cpu")
        kinds = {type(m).__name__ for m in reloaded.modules()}
        assert "QParamsLinear" in kinds, kinds
        res = outputs(reloaded, "cpu")
        why = acceptable(res, 0.5)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        from safetensors import safe_open
        with safe_open(d / "model.safetensors", "pt") as f:
            scales = {f.get_tensor(k).dtype for k in f.keys() if k.endswith("_scale")}
        assert scales == {torch_dtype}, scales
        keep_files(d, out / name)
        base_res = outputs(load(base, "cpu", dtype=torch_dtype), "cpu")
        if dtype == "float32":
            explained = dict(
                recorded_from=("the exported checkpoint loaded back with from_pretrained (QuarkHfQuantizer, "
                               "amd-quark installed): QParamsLinear's generic forward on the CPU, W = e4m3 * "
                               "weight_scale, x' = e4m3(clamp(x / input_scale, +-448)) * input_scale, F.linear, "
                               "in float32"),
                why_float32=("quark holds its scales in the model's dtype: the same export of a bf16 model writes "
                             "weight_scale and input_scale as BF16 [] (amd-quark 0.13, measured), which hfq's "
                             "quark layout (F32 scales) rejects at load"))
        else:
            explained = dict(
                recorded_from=("the exported checkpoint loaded back with from_pretrained (QuarkHfQuantizer, "
                               "amd-quark installed), dtype bfloat16: QParamsLinear's generic forward on the CPU "
                               "with the BF16 scales: W = bf16(float32(e4m3) * weight_scale) (quark's "
                               "dequantize multiplies in float32, _forward_generic casts to the input's dtype), "
                               "x' = bf16(e4m3(clamp(bf16(x / input_scale), +-448)) * input_scale) (the fake "
                               "quantization in bf16), F.linear in bf16"))
        return write_expected(
            out / name, name, "transformers", "cpu", dtype, seed, res, versions("amd-quark"),
            base=f"LlamaForCausalLM {dtype}, seed {seed}",
            how=("amd-quark: QConfig(global_quant_config=QLayerConfig(weight=FP8E4M3PerTensorSpec(min_max, "
                 "static), input_tensors=the same), exclude=['lm_head']); ModelQuantizer.quantize_model over "
                 f"{n} calibration sequences of {length} token ids (torch.randint(3, 256) from a generator seeded "
                 "by the seed), freeze, export_safetensors(custom_mode='quark', weight_format='real_quantized', "
                 f"pack_method='reorder'): weight F8_E4M3 [N, K], weight_scale {scale_type} [], input_scale "
                 f"{scale_type} [] per projection"),
            **explained,
            **search.extra(force),
            noise={"dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"],
                   "note": f"transformers' dense {dtype} base vs this quantized model: the quantization error"},
            quantization_config=json.load(open(d / "config.json")).get("quantization_config"))
    return quark_case(name, work, out, [search.give_up()], dtype, True)


# --- AutoRound: quantized and exported by auto-round, loaded by transformers -------

AUTOROUND_CALIB = (8, 32)   # calibration: 8 sequences of 32 token ids, drawn from a generator seeded by the seed
AUTOROUND_ITERS = 50


def autoround_tokenizer():
    """auto-round requires a tokenizer for a model object (and saves it); the
    calibration set is token ids already, so a word-level tokenizer over the
    256 ids (t0 .. t255) serves. Its files are not kept."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast
    vocab = {f"t{i}": i for i in range(ARCH["vocab_size"])}
    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="t0")))


def autoround_case(name, work, out, candidates, force=False):
    """AutoRound W4A16 (int4 sym, group 32, sign-gradient rounding tuned for
    AUTOROUND_ITERS steps over a seeded calibration set), bf16 base, exported
    by auto-round itself in its default format 'auto_round', which for a
    symmetric int scheme writes packing_format 'auto_round:auto_gptq' (GPTQ
    words, zero - 1); recorded from the checkpoint loaded back by transformers
    with auto-round installed (its auto_round:torch_zp backend on the CPU)."""
    from auto_round import AutoRound
    search = Search(name, QUANT_TRIES)
    for seed in candidates:
        base = save_base("bfloat16", seed, work)
        model = load(base, None, dtype=torch.bfloat16)
        gen = torch.Generator().manual_seed(seed)
        n, length = AUTOROUND_CALIB
        calib = [torch.randint(3, ARCH["vocab_size"], (1, length), generator=gen) for _ in range(n)]
        ar = AutoRound(model, tokenizer=autoround_tokenizer(), scheme="W4A16", bits=4, group_size=32, sym=True,
                       dataset=calib, iters=AUTOROUND_ITERS, nsamples=n, seqlen=length, batch_size=4,
                       device_map="cpu", seed=seed)
        top = work / f"{name}-{seed}"
        shutil.rmtree(top, ignore_errors=True)
        ar.quantize_and_save(str(top), format="auto_round")
        # quantize_and_save writes into a folder named after the model (<base>-w4g32)
        subdirs = [p for p in top.iterdir() if p.is_dir()]
        d = subdirs[0] if len(subdirs) == 1 and not (top / "config.json").exists() else top
        reloaded = load(d, "cpu")
        kinds = {type(m).__module__ + "." + type(m).__name__ for m in reloaded.modules()}
        qlinear = sorted(k for k in kinds if "QuantLinear" in k)
        assert qlinear, kinds
        res = outputs(reloaded, "cpu")
        why = acceptable(res, 0.5)
        if why and not force:
            if search.reject(seed, res, why):
                continue
            break
        keep_files(d, out / name)
        base_res = outputs(load(base, "cpu", dtype=torch.bfloat16), "cpu")
        res32 = outputs(load(d, "cpu", dtype=torch.float32), "cpu")
        return write_expected(
            out / name, name, "transformers", "cpu", "bfloat16", seed, res, versions("auto-round"),
            base=f"LlamaForCausalLM bfloat16, seed {seed}",
            how=("auto-round: AutoRound(model, scheme='W4A16', bits=4, group_size=32, sym=True, "
                 f"iters={AUTOROUND_ITERS}, nsamples={n}, seqlen={length}, batch_size=4, device_map='cpu', "
                 f"seed=seed) over {n} calibration sequences of {length} token ids (torch.randint(3, 256) from a "
                 "generator seeded by the seed; a word-level tokenizer over the 256 ids because auto-round requires "
                 "one), quantize_and_save(format='auto_round'): packing_format 'auto_round:auto_gptq', qweight i32 "
                 "[K/8, N], qzeros i32 [K/32, N/8] (zero - 1), scales f16 [K/32, N]; lm_head unquantized"),
            recorded_from=("the exported checkpoint loaded back with from_pretrained (AutoRoundQuantizer, auto-round "
                           "installed): on the CPU auto-round selects its auto_round:torch_zp backend "
                           f"({', '.join(qlinear)}: W = scales * (q - (stored zero + 1)) in float16, cast to bf16, "
                           "torch.matmul in bf16)"),
            **search.extra(force),
            noise={"float32_max_abs_logit_diff": round(max_abs(res, res32), 6),
                   "float32_greedy_ids": res32["greedy_ids"],
                   "float32_note": ("the same checkpoint loaded with dtype=float32 (the torch_zp backend casts the "
                                    "float16 dequantized weights to float32): the scale of the bf16 compute noise"),
                   "dense_base_max_abs_logit_diff": round(max_abs(res, base_res), 6),
                   "dense_base_greedy_ids": base_res["greedy_ids"],
                   "note": "transformers' dense bf16 base vs this quantized model: the quantization error"},
            quantization_config=json.load(open(d / "config.json")).get("quantization_config"))
    return autoround_case(name, work, out, [search.give_up()], True)


# --- main -------------------------------------------------------------------------

# Seeds found passing by an earlier run (tried first; the search goes on
# from there if they no longer pass).
DENSE_HINT = {"llama-f32": 1, "llama3-bf16": 1, "mistral-bf16": 12, "qwen2-f16": 13, "qwen3-bf16": 14}
QUANT_HINT = {"gptq": [1023], "awq": [1023], "compressed-tensors": [1022], "quanto": [1011], "torchao": [1011],
              "aqlm": [1023], "bitnet": [1022], "hqq": [1003],
              "bnb-4bit-nf4": [1021], "bnb-8bit": [1011], "fp8": [1016],
              "eetq": [1011], "fbgemm_fp8": [1023], "mxfp8": [1019], "quark": [1015], "quark-bf16": [1016],
              "auto-round": [1012]}


def hinted(name, cands):
    first = [s for s in QUANT_HINT.get(name, []) if s in cands]
    return first + [s for s in cands if s not in first]


ORDER = ["llama-f32", "llama3-bf16", "mistral-bf16", "qwen2-f16", "qwen3-bf16",
         "gptq", "awq", "aqlm", "bitnet", "compressed-tensors",
         "bnb-4bit-nf4", "bnb-8bit", "fp8", "hqq", "quanto", "torchao",
         "eetq", "fbgemm_fp8", "mxfp8", "quark", "quark-bf16", "auto-round"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/hfq-corpus-work")
    ap.add_argument("--cases", nargs="*", default=ORDER)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--tar", default=None)
    ap.add_argument("--candidates", type=int, default=40)
    ap.add_argument("--ranked", nargs="*", default=[], metavar="DTYPE=SEED,SEED,...",
                    help="the base seeds of DTYPE already ranked (by an earlier run's base_candidates): "
                         "skips that ranking, e.g. on the GPU machine where every second counts")
    ap.add_argument("--deadline", type=float, default=math.inf,
                    help="seconds from the start after which each case writes its best seed so far")
    ap.add_argument("--threads", type=int, default=min(8, os.cpu_count() or 1),
                    help="torch's intra-op threads (1 on a shared machine)")
    args = ap.parse_args()
    Search.deadline = time.time() + args.deadline
    torch.set_num_threads(args.threads)
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    summary = {"versions": versions("bitsandbytes", "hqq", "optimum-quanto", "torchao", "compressed-tensors",
                                    "amd-quark", "auto-round"),
               "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
               "cases": {}, "skipped": {}}
    cands = {}
    for r in args.ranked:
        dtype, seeds = r.split("=")
        cands[dtype] = [int(x) for x in seeds.split(",")]

    def candidates(dtype):
        if dtype not in cands:
            t = time.time()
            cands[dtype] = base_candidates(dtype, 1000, args.candidates, work)
            print(f"[base {dtype}] {len(cands[dtype])} candidate seeds in {time.time() - t:.1f}s: "
                  f"{cands[dtype][:8]}", flush=True)
        return cands[dtype]

    for name in args.cases:
        t = time.time()
        try:
            if name in DENSE:
                doc = dense_case(name, work, out, DENSE_HINT.get(name, 0))
            elif name in ("gptq", "awq"):
                doc = prequant_case(name, work, out, hinted(name, candidates("float16")))
            elif name == "aqlm":
                doc = aqlm_case(name, work, out, hinted(name, candidates("float16")))
            elif name == "hqq":
                doc = hqq_case(name, work, out, hinted(name, candidates("float16")))
            elif name == "eetq":
                doc = eetq_case(name, work, out, hinted(name, candidates("float16")))
            elif name == "fbgemm_fp8":
                doc = fbgemm_case(name, work, out, hinted(name, candidates("bfloat16")))
            elif name == "mxfp8":
                doc = mxfp8_case(name, work, out, hinted(name, candidates("bfloat16")), "cpu")
            elif name == "quark":
                doc = quark_case(name, work, out, hinted(name, candidates("float32")))
            elif name == "quark-bf16":
                doc = quark_case(name, work, out, hinted(name, candidates("bfloat16")), "bfloat16")
            elif name == "auto-round":
                doc = autoround_case(name, work, out, hinted(name, candidates("bfloat16")))
            elif name == "bitnet":
                doc = bitnet_case(name, work, out, hinted(name, candidates("bfloat16")))
            elif name == "compressed-tensors":
                doc = ct_case(name, work, out, hinted(name, candidates("bfloat16")),
                              QUANT_DEVICE[name] if args.device != "cpu" else "cpu")
            else:
                doc = quant_case(name, work, out, hinted(name, candidates(quant_configs()[name][0])),
                                 QUANT_DEVICE[name] if args.device != "cpu" else "cpu")
            size = sum(f.stat().st_size for f in (out / name).iterdir())
            summary["cases"][name] = {"seed": doc["seed"], "min_margin": min(doc["greedy_margins"]),
                                      "margin_requirement_met": doc.get("margin_requirement_met", True),
                                      "greedy_ids": doc["greedy_ids"], "bytes": size,
                                      "noise": doc.get("noise"), "seconds": round(time.time() - t, 1)}
            print(f"[{name}] seed {doc['seed']} min margin {min(doc['greedy_margins']):.3f} "
                  f"ids {doc['greedy_ids']} {size} bytes {time.time() - t:.1f}s noise {doc.get('noise')}",
                  flush=True)
        except Exception as e:  # noqa: BLE001 -- a case that fails is listed, the rest go on
            shutil.rmtree(out / name, ignore_errors=True)
            summary["skipped"][name] = f"{type(e).__name__}: {e}"[:2000]
            print(f"[{name}] FAILED after {time.time() - t:.1f}s", flush=True)
            traceback.print_exc()
    with open(out / "summary.json", "w") as f:
        json.dump(summary, f, indent=1)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"corpus: {len(summary['cases'])} cases, {total} bytes; skipped {list(summary['skipped'])}", flush=True)
    if args.tar:
        with tarfile.open(args.tar, "w:gz") as tar:
            tar.add(out, arcname="corpus")


if __name__ == "__main__":
    main()
