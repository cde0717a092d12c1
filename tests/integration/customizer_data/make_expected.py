#!/usr/bin/env python3
"""Writes dpo_collection.json and the dataset files NAT's NeMo Customizer
adapter makes from it (its _format_prompt and _trajectory_to_dpo_jsonl,
restated: json.dumps lines joined by "\\n", the 80/20 split), for
use_full_message_history false (*_last.jsonl) and true (*_full.jsonl).
Run it from this folder to regenerate them."""
import json

ITEMS = [
    {"prompt": "What is 2+2?", "chosen_response": "4", "rejected_response": "5"},
    {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say \"hi\" in French\n"}],
     "chosen_response": "Salut \u2014 \u00e7a va?", "rejected_response": "Hello \U0001F642"},
    {"prompt": "tab\there", "chosen_response": "a/b\\c", "rejected_response": "\u0001ctl\u007f"},
    {"prompt": [], "chosen_response": "x", "rejected_response": "y"},
    {"prompt": "last", "chosen_response": "c5", "rejected_response": "r5"},
]
COLLECTION = {"trajectories": [[{"episode": ITEMS[0:2], "reward": 1.0}, {"episode": ITEMS[2:3], "reward": 0.5}],
                               [{"episode": ITEMS[3:5], "reward": 0}]],
              "run_id": "dpo_run_1"}


def format_prompt(prompt, full):
    if full:
        if isinstance(prompt, str):
            return [{"role": "user", "content": prompt}]
        return [{"role": m["role"], "content": m["content"]} for m in prompt]
    if isinstance(prompt, str):
        return prompt
    return prompt[-1]["content"] if prompt else ""


def main():
    with open("dpo_collection.json", "w", encoding="utf-8") as f:
        f.write(json.dumps(COLLECTION, ensure_ascii=False))
    for full, suffix in ((False, "last"), (True, "full")):
        records = [{"prompt": format_prompt(i["prompt"], full), "chosen_response": i["chosen_response"],
                    "rejected_response": i["rejected_response"]} for i in ITEMS]
        split = max(1, int(len(records) * 0.8))
        training = records[:split]
        validation = records[split:] if split < len(records) else records[-1:]
        for name, part in (("training", training), ("validation", validation)):
            with open(f"expected_{name}_{suffix}.jsonl", "w", encoding="utf-8", newline="") as f:
                f.write("\n".join(json.dumps(r) for r in part))


if __name__ == "__main__":
    main()
