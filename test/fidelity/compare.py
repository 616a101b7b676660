#!/usr/bin/env python3
"""Compares `hfq-plan --json` with what transformers 5.17 recorded (recorded.json).

For every case of cases.json, hfq-plan runs on the case's inputs, and its
decision (quant_method and quantizer class), pre_quantized, merged config
(exact JSON, key order included), warnings, infos, dtype and device map, or
its error, must equal the recording exactly. A case on known-divergences.json
must still differ, so the list cannot go stale: the run fails on a case that
differs and is not on the list, on a listed case that now matches, and on a
listed id that is no case.

  compare.py --hfq-plan build/bin/hfq-plan             # the test
  compare.py --hfq-plan ... --show CASE_ID             # both sides of one case
  compare.py --hfq-plan ... --write-divergences        # rewrite the list

Standard library only: this runs in the lit suite, without transformers.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Infos are compared from these loggers only: transformers' "Will use dtype=..."
# (modeling_utils) and other packages' infos are not part of the decision.
INFO_LOGGERS = ("transformers.quantizers", "transformers.utils", "transformers.integrations")


def load(name):
    with open(HERE / name) as f:
        return json.load(f)


def expected(record):
    """What hfq-plan must print, from a recording."""
    messages = record["messages"]
    warnings = [m["text"] for m in messages
                if m["source"] == "warnings" or m["level"] in ("WARNING", "ERROR", "CRITICAL")]
    infos = [m["text"] for m in messages
             if m["source"] == "logging" and m["level"] == "INFO"
             and m["logger"].startswith(INFO_LOGGERS)]
    out = {"warnings": warnings, "infos": infos}
    error = record["error"]
    if error:
        out["error"] = {"kind": error["type"], "message": error["message"]}
        return out
    out.update({key: record[key] for key in
                ("quant_method", "quantizer_class", "pre_quantized", "config", "dtype", "device_map")})
    out["error"] = None
    return out


def hfq_plan_args(case, config_path):
    args = [f"--config={config_path}", "--json", f"--target={case.get('target', 'sm_90')}"]
    if "user_quantization_config" in case:
        args.append("--quantization-config=" + json.dumps(case["user_quantization_config"]))
    device_map = case.get("device_map")
    if device_map is not None:
        args.append("--device-map=" + (device_map if isinstance(device_map, str)
                                       else json.dumps(device_map)))
    if "dtype" in case:
        args.append(f"--dtype={case['dtype']}")
    if not case.get("weights_only", True):
        args.append("--weights-only=false")
    return args


def actual(hfq_plan, case, tmp):
    """hfq-plan's report, restricted to the fields expected() has."""
    config_path = Path(tmp) / f"{case['id']}.json"
    config_path.write_text(json.dumps(case["config"]))
    proc = subprocess.run([hfq_plan] + hfq_plan_args(case, config_path),
                          capture_output=True, text=True)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"hfq-plan refused the inputs": (proc.stderr or proc.stdout).strip()}


def differences(want, got):
    """The fields that differ, each with the two values (JSON, key order kept)."""
    if "hfq-plan refused the inputs" in got:
        return {"inputs": (None, got["hfq-plan refused the inputs"])}
    diffs = {}
    for key, value in want.items():
        mine = got.get(key)
        if json.dumps(value) != json.dumps(mine):
            diffs[key] = (value, mine)
    return diffs


def short(value, limit=90):
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def reason(diffs, key):
    """A one-line 'what differs', for known-divergences.json."""
    unknown = f"Unknown quantization type, got {key}"
    if any(unknown in json.dumps(got) and unknown not in json.dumps(want)
           for want, got in diffs.values()):
        return f"hfq lacks the method '{key}'"
    parts = []
    for field, (want, got) in diffs.items():
        if field == "config" and isinstance(want, dict) and isinstance(got, dict):
            keys = [k for k in dict.fromkeys(list(want) + list(got))
                    if want.get(k, "<absent>") != got.get(k, "<absent>")]
            parts.append(f"config ({f'keys {keys}' if keys else 'key order'})")
        elif field in ("warnings", "infos") and isinstance(got, list):
            mine, theirs = [x for x in want if x not in got], [x for x in got if x not in want]
            if len(mine) == len(theirs) == 1:
                parts.append(f"{field} text: {text_difference(mine[0], theirs[0])}")
            else:
                listed = lambda xs: ", ".join(short(x, 60) for x in xs)  # noqa: E731
                parts.append(f"{field}: 5.17 only [{listed(mine)}], hfq only [{listed(theirs)}]")
        elif field == "error" and want and got and want["kind"] == got["kind"]:
            parts.append(f"error text: {text_difference(want['message'], got['message'])}")
        else:
            parts.append(f"{field}: 5.17 {short(want, 60)}, hfq {short(got, 60)}")
    return "; ".join(parts)


def text_difference(want, got):
    """Where two texts part, with a little context."""
    i = next((n for n, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
    start = max(0, i - 20)
    cut = lambda t: ("..." if start else "") + t[start:i + 30] + ("..." if len(t) > i + 30 else "")  # noqa: E731
    return f"5.17 {json.dumps(cut(want))}, hfq {json.dumps(cut(got))}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hfq-plan", required=True, help="the hfq-plan binary")
    parser.add_argument("--show", metavar="CASE_ID", help="print both sides of one case")
    parser.add_argument("--write-divergences", action="store_true",
                        help="rewrite known-divergences.json from this run (keeps existing reasons)")
    args = parser.parse_args()

    cases = load("cases.json")["cases"]
    records = load("recorded.json")["records"]
    known = load("known-divergences.json")
    if args.show:
        cases = [c for c in cases if c["id"] == args.show]

    results, kinds = {}, Counter()
    keys = {c["id"]: c["key"] for c in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            record = records.get(case["id"])
            if record is None or "harness_error" in record:
                results[case["id"]] = {"recording": (None, (record or {}).get("harness_error", "no record"))}
                continue
            want, got = expected(record), actual(args.hfq_plan, case, tmp)
            results[case["id"]] = differences(want, got)
            if args.show:
                print(json.dumps({"transformers-5.17": want, "hfq-plan": got}, indent=1, ensure_ascii=False))
    for diffs in results.values():
        kinds.update(diffs.keys())

    if args.write_divergences:
        listed = {i: known.get(i) or reason(d, keys[i]) for i, d in results.items() if d}
        (HERE / "known-divergences.json").write_text(json.dumps(listed, indent=1, ensure_ascii=False) + "\n")
        known = listed

    failures = []
    for case_id, diffs in results.items():
        if diffs and case_id not in known:
            failures.append(f"{case_id}: differs from transformers 5.17 and is not in "
                            f"known-divergences.json: {reason(diffs, keys[case_id])}")
        elif not diffs and case_id in known:
            failures.append(f"{case_id}: now matches transformers 5.17; remove it from "
                            "known-divergences.json")
    if not args.show:
        for case_id in sorted(set(known) - set(results)):
            failures.append(f"{case_id}: in known-divergences.json but no such case")
    for failure in failures:
        print("FAIL " + failure)

    matched = sum(1 for d in results.values() if not d)
    listed = sum(1 for i, d in results.items() if d and i in known)
    print("divergent fields: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    print(f"fidelity: {len(results)} cases, {matched} match, {listed} known divergences"
          + (f", {len(failures)} failures" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
