"""Simulated GRPO training: what ART's LocalBackend does to the data, without a GPU.

The functions here mirror ``art/preprocessing/tokenize.py`` of the pinned ART
releases (0.4.11 and 0.5.16) step by step, except for the parts that need the
base model's tokenizer and chat template (prompt tokens are not produced; plain
assistant text is split on whitespace instead of being tokenized).  Errors are
raised where ART raises them and with the same exception types, so a malformed
request fails the same way (inside the streaming generator, i.e. after the
``200`` header).

Rule for the number of gradient steps (ART: ``num_sequences`` of the packed
tensors): one gradient step per tokenized result, i.e. per trainable
trajectory and per trainable ``additional_histories`` entry.  ART packs several
short results into one 2048-token row; the stand-in does not know prompt token
counts, so it keeps one row per result.  Deterministic order: groups in request
order, trajectories in group order, histories in trajectory order (ART
shuffles).

Per-line metrics (deterministic; ``lp_i`` are the old logprobs of the trainable
tokens, a missing/NaN logprob counts as ``ln 0.5``):

* ``policy_loss = -A``            (on-policy PPO surrogate: ratio exp(new-old) = 1)
* ``loss        = policy_loss``    (+ beta * KL, and KL is 0 on-policy)
* ``grad_norm   = |A| * sqrt(sum_i (1 - exp(lp_i))^2)``
                                   (norm of d(-A log p)/d(logit) of the sampled tokens)
* ``entropy     = -mean_i lp_i``
* ``kl_div      = 0.0``            (only when beta / kl_penalty_coef > 0)
"""

import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Optional

LN_HALF = math.log(0.5)
# Placeholder vocabulary size used for simulated token ids.
VOCAB = 151_643


@dataclass
class Result:
    """One tokenized trajectory history (ART's TokenizedResult, trimmed)."""

    group_index: int
    trajectory_index: int
    history_index: int
    advantage: float
    token_ids: list = field(default_factory=list)  # trainable tokens only
    logprobs: list = field(default_factory=list)  # NaN where unknown

    @property
    def num_trainable_tokens(self) -> int:
        return len(self.token_ids)


def _word_tokens(text: str) -> list:
    return [zlib.crc32(w.encode("utf-8")) % VOCAB for w in re.findall(r"\S+", text)]


def _placeholder_token_id(token: Optional[str]) -> int:
    # ART 0.5.x falls back to tokenizer.convert_tokens_to_ids(token); unknown
    # tokens map to an unk/eos id.  Without a vocabulary we map to a stable id.
    return zlib.crc32((token or "").encode("utf-8")) % VOCAB


def group_advantages(rewards: list, scale_rewards: bool = True) -> list:
    """GRPO advantages exactly as ART computes them (population std, +1e-6)."""
    n = len(rewards)
    mean = sum(rewards) / n
    std = math.sqrt(sum((r - mean) ** 2 for r in rewards) / n)
    out = []
    for r in rewards:
        a = r - mean
        if scale_rewards:
            a /= std + 1e-6
        out.append(a)
    return out


def _is_dict(m: Any) -> bool:
    return isinstance(m, dict)


def tokenize_history(
    items: list,
    advantage: float,
    allow_training_without_logprobs: bool,
    dialect: str,
    gi: int,
    ti: int,
    hi: int,
) -> Optional[Result]:
    """Mirror of ART's ``tokenize_trajectory`` for one history."""
    allow = allow_training_without_logprobs
    last = -1
    for i, m in enumerate(items):
        # Same evaluation order as ART: m["role"] is looked up before `allow`,
        # which raises KeyError('role') for a dict without "role" (0.5.x
        # SkipValidation quirk).
        if _is_dict(m) and m["role"] == "assistant" and allow:
            last = i
        elif not _is_dict(m) and (m.logprobs or allow):
            last = i
    if last == -1:
        return None
    items = items[: last + 1]  # truncate after the last trainable item
    res = Result(gi, ti, hi, advantage)
    for m in items:
        if _is_dict(m):
            if m["role"] != "assistant":
                continue
            if dialect == "0.5":
                if not allow:
                    continue
                if m.get("tool_calls"):
                    raise ValueError(
                        "Assistant message has tool_calls but is being tokenized "
                        "via tokenizer.encode(content). This path ignores tool calls."
                    )
            content = m.get("content")
            assert isinstance(content, str), "Trajectories must have a 'content' field of type str"
            ids = _word_tokens(content)
            res.token_ids.extend(ids)
            res.logprobs.extend([float("nan")] * len(ids))
            continue
        choice = m
        if dialect == "0.5" and choice.logprobs is None and not allow:
            continue
        assert choice.logprobs or allow, "Chat completion choices must have logprobs"
        if not choice.logprobs:
            continue
        token_logprobs = choice.logprobs.content or choice.logprobs.refusal or []
        # ART checks for a leading "<think>" token; this raises IndexError on an
        # empty list and UnicodeDecodeError/ValueError on invalid bytes, exactly
        # as ART does.  (The comparison itself needs the tokenizer; skipped.)
        bytes(token_logprobs[0].bytes or []).decode("utf-8")
        if dialect == "0.4":
            ids = [int(t.token.split(":")[1]) for t in token_logprobs]
        else:
            try:
                ids = [int(t.token.split(":")[1]) for t in token_logprobs]
            except (IndexError, ValueError):
                ids = [_placeholder_token_id(t.token) for t in token_logprobs]
        res.token_ids.extend(ids)
        res.logprobs.extend(float(t.logprob) for t in token_logprobs)
    return res


def tokenize_groups(
    groups: list,
    dialect: str,
    allow_training_without_logprobs: bool = False,
    scale_rewards: bool = True,
) -> list:
    """Mirror of ART's ``tokenize_trajectory_groups`` (without shuffling)."""
    results = []
    for gi, group in enumerate(groups):
        trajectories = list(group.trajectories)
        if not trajectories:
            continue
        advantages = group_advantages([t.reward for t in trajectories], scale_rewards)
        for ti, (traj, adv) in enumerate(zip(trajectories, advantages)):
            if adv == 0:
                continue
            histories = [(traj.messages_and_choices)] + [
                h.messages_and_choices for h in traj.additional_histories
            ]
            for hi, items in enumerate(histories):
                r = tokenize_history(
                    list(items), adv, allow_training_without_logprobs, dialect, gi, ti, hi
                )
                if r is not None:
                    results.append(r)
    return results


def packable_results(results: list, allow_training_without_logprobs: bool) -> Optional[list]:
    """Results that become gradient steps, or None when ART skips the step.

    ART drops results without completion tokens while packing and skips the
    whole step when there is nothing left, or when every logprob is NaN and
    training without logprobs is not allowed.
    """
    rows = [r for r in results if r.num_trainable_tokens > 0]
    if not rows:
        return None
    if not allow_training_without_logprobs and all(
        math.isnan(lp) for r in rows for lp in r.logprobs
    ):
        return None
    return rows


def step_metrics(result: Result, with_kl: bool) -> dict:
    a = result.advantage
    lps = [LN_HALF if math.isnan(lp) else lp for lp in result.logprobs]
    n = len(lps)
    policy_loss = -a
    grad_norm = abs(a) * math.sqrt(sum((1.0 - math.exp(lp)) ** 2 for lp in lps))
    entropy = -(sum(lps) / n) if n else 0.0
    out = {
        "loss": policy_loss,
        "grad_norm": grad_norm,
        "policy_loss": policy_loss,
        "entropy": entropy,
    }
    if with_kl:
        out["kl_div"] = 0.0
    return out


def num_groups_trainable(groups: list) -> int:
    return sum(
        1
        for g in groups
        if len(g.trajectories) and len(set(t.reward for t in g.trajectories)) > 1
    )
