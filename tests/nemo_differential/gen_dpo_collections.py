#!/usr/bin/env python3
"""Deterministic DPO TrajectoryCollections in NAT's JSON form for the NeMo Customizer differential test.

    gen_dpo_collections.py OUTDIR        writes OUTDIR/<id>.json (the collection) and OUTDIR/cases.json

NAT's models (nat.data_models.finetuning): TrajectoryCollection{trajectories: list[list[Trajectory]], run_id};
Trajectory{episode: list[EpisodeItem] | list[DPOItem], reward, shaped_rewards?, metadata?};
DPOItem{prompt: list[OpenAIMessage{role, content}] | str, chosen_response, rejected_response}.
NAT's adapter keeps DPOItems only, uses the prompt's last message's content (or the whole message list
with use_full_message_history), splits 80/20 with split = max(1, int(n * 0.8)) and, when nothing is left
for validation, repeats the last item there.

Each case: {"id", "config": <adapter config fields beyond the defaults>, "expect": "ok" | "no_dpo_items",
"faults": <the reference server's faults for the run (POST /_test/faults), {} for none>}.
"""
import json
import os
import random
import sys

SEED = 20261204

# Cases where the plugin is known to differ from NAT: run and reported, not counted (remove an entry once
# the plugin agrees; the test says so).
KNOWN_DIVERGENCES = {}

WORDS = ["alpha", "beta", "gamma", "delta", "épsilon", "ζeta", "η", "日本語", "中文", "한국어", "Ünïcødé",
         "emoji😀", "🚀🔥", "\u00a0nbsp", "tab\tsep", "new\nline", "quote\"d", "back\\slash", "ctrl\x01\x1f",
         "del\x7f", "astral\U00010348", "rtl\u202e", "zero\u200bwidth", "</script>", "{\"json\": 1}", "'single'"]


def text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def messages(rng, k):
    roles = ["system", "user", "assistant", "user", "tool", "user"]
    return [{"role": roles[i % len(roles)], "content": text(rng, rng.randint(1, 8))} for i in range(k)]


def dpo_item(rng, prompt_kind=None):
    kind = prompt_kind or rng.choice(["str", "messages", "messages"])
    prompt = text(rng, rng.randint(1, 12)) if kind == "str" else messages(rng, rng.randint(1, 4))
    return {"prompt": prompt, "chosen_response": text(rng, rng.randint(1, 20)),
            "rejected_response": text(rng, rng.randint(0, 20))}


def trajectory(items, rng, reward=None):
    t = {"episode": items, "reward": round(rng.uniform(-1, 1), 6) if reward is None else reward}
    if rng.random() < 0.5:
        t["shaped_rewards"] = [round(rng.uniform(0, 1), 4) for _ in items]
    if rng.random() < 0.5:
        t["metadata"] = {"score_diff": round(rng.uniform(0, 2), 3), "turn": rng.randint(0, 9)}
    return t


def spread(items, rng, groups):
    """items distributed over `groups` groups of one or two trajectories each, order kept."""
    out = [[] for _ in range(groups)]
    i = 0
    for g in range(groups):
        take = len(items) // groups + (1 if g < len(items) % groups else 0)
        chunk = items[i:i + take]
        i += take
        half = (len(chunk) + 1) // 2
        out[g].append(trajectory(chunk[:half], rng))
        if chunk[half:]:
            out[g].append(trajectory(chunk[half:], rng))
    return out


def cases():
    rng = random.Random(SEED)
    out = []

    def add(cid, trajectories, config=None, expect="ok", faults=None):
        out.append({"id": cid, "config": config or {}, "expect": expect, "faults": faults or {},
                    "collection": {"trajectories": trajectories, "run_id": "run-" + cid}})

    add("basic", [[trajectory([dpo_item(rng, "messages"), dpo_item(rng, "messages")], rng, 1.0),
                   trajectory([dpo_item(rng, "messages")], rng, 0.5)]])
    add("string_prompts", [[trajectory([dpo_item(rng, "str") for _ in range(3)], rng)]])
    for n in (1, 2, 4, 5, 11):
        add("split_%d" % n, spread([dpo_item(rng) for _ in range(n)], rng, min(n, 3)))
    add("unicode_long", [[trajectory([{"prompt": [{"role": "user", "content": "".join(WORDS) * 40}],
                                       "chosen_response": "✓" * 5000 + "\U0001f600" * 300,
                                       "rejected_response": "\x00\x08\x0c\r\u2028\u2029" + "x" * 20000},
                                      dpo_item(rng), dpo_item(rng)], rng)]])
    add("multi_group", spread([dpo_item(rng) for _ in range(9)], rng, 4))
    add("full_history", spread([dpo_item(rng) for _ in range(6)], rng, 2), {"use_full_message_history": True})
    add("empty_prompt_list", [[trajectory([{"prompt": [], "chosen_response": "c", "rejected_response": "r"},
                                           {"prompt": "", "chosen_response": "", "rejected_response": ""}], rng)]])
    add("episode_items_skipped", [[trajectory([{"role": "user", "content": "not a DPO item"}], rng),
                                    trajectory([dpo_item(rng), dpo_item(rng)], rng)]])
    add("empty_episodes", [[trajectory([], rng), trajectory([], rng)], []], expect="no_dpo_items")
    add("hyperparameters", spread([dpo_item(rng) for _ in range(3)], rng, 1),
        {"dataset_name": "dpo-set", "hyperparameters": {"finetuning_type": "lora", "epochs": 1, "batch_size": 8,
                                                        "learning_rate": 0.0001,
                                                        "dpo": {"ref_policy_kl_penalty": 0.25,
                                                                "preference_average_log_probs": True,
                                                                "sft_loss_weight": 0.5}}})
    add("job_failed", [[trajectory([dpo_item(rng), dpo_item(rng)], rng)]], faults={"job_fail": True})
    add("job_machine", [[trajectory([dpo_item(rng), dpo_item(rng)], rng)]],
        faults={"job_machine": {"pending": 2, "polls_per_epoch": 1}})
    add("status_failures_retried", [[trajectory([dpo_item(rng), dpo_item(rng)], rng)]], faults={"status_errors": 2})
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    index = []
    for c in cases():
        with open(os.path.join(outdir, c["id"] + ".json"), "w", encoding="utf-8") as f:
            json.dump(c["collection"], f, ensure_ascii=False)
        index.append({k: c[k] for k in ("id", "config", "expect", "faults")})
    with open(os.path.join(outdir, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
