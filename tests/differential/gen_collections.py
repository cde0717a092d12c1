#!/usr/bin/env python3
"""Deterministic generator of NAT TrajectoryCollection JSON for the
differential test (tests/differential/test_differential.py).

Runs under any Python >= 3.8 with the standard library only.

Every generated case is a dict:
    {"id": "c0042", "scenario": "lp:logprob_missing", "text": <JSON text>,
     "tags": [...], "kd": [...], "expect": {...}}

- "text" is the collection exactly as the plugin and NAT receive it (a str;
  encode as UTF-8). The generator writes its own JSON so it can control key
  order, number spelling (1e2, -0.0, 2.5E+2), string escapes (\\/, \\u0041,
  surrogate pairs) and duplicate keys.
- "kd" lists the KNOWN_DIVERGENCES tags the case carries; such cases are run
  and reported but kept out of the equality check.
- "expect" is what this generator believes NAT does with the case (outcome,
  message, kept trajectories per group). The driver checks it against NAT's
  real behaviour and warns on any difference: every NAT behaviour listed
  here was determined by running NAT 1.9.0 (openpipe-art 0.5.17, pydantic
  2.14, openai 3.x), not guessed, and the warning keeps it honest.

NAT behaviours the generator encodes (see also KNOWN_DIVERGENCES):
- TrajectoryCollection.model_validate rejects (ValidationError) an assistant
  item whose logprobs are null or missing ("logprobs must be provided for
  assistant role."), a role outside the 7 lower-case names, non-string
  content, non-dict metadata, a reward that is null / missing / a list /
  a non-numeric string / an int too large for a float, a run_id that is not
  a string, non-list trajectories / inner lists / episodes, a trajectory or
  item that is not an object, non-numeric shaped_rewards, and an episode
  mixing EpisodeItem and DPOItem objects.
- An episode made only of DPOItem objects validates, then NAT's
  _validate_episode_order crashes with AttributeError ('DPOItem' object has
  no attribute 'role'): the whole submit fails, not with ValueError.
- _validate_episode_order (ValueError, whole submit rejected; the first
  failing trajectory in iteration order wins): empty episode; first item not
  user/system; two consecutive assistant items. Anything else is allowed:
  consecutive users/systems/tools, any role after the first, no final
  assistant.
- Assistant logprobs go through openai's Choice(logprobs=...) (ChoiceLogprobs):
  an object with optional "content" and "refusal" (each null or a list of
  token objects {token: str, logprob: float, bytes: list[int] | null
  (optional), top_logprobs: list of {token, logprob, bytes?}}); extra keys are
  kept. Anything else raises inside NAT's try and drops that one trajectory.
  Logprobs on non-assistant items are ignored entirely.
- Pydantic's lax coercions inside Choice (all run and checked): a float field
  (logprob) takes numeric strings with spaces, "+", "_" ("-1_0" -> -10.0),
  "nan"/"inf"/"Infinity", booleans, and an overflowing literal (1e400 -> inf);
  it rejects "0x10", "1,5", "" and blanks. An int field (bytes[i]) takes
  numeric strings ("60", " 60 ", "+5", "1_0", "61.0"), integral floats
  (60.0, 6.1e1) and booleans; it rejects "6.1e1", "true", 1.5 and 1e400.
  Values outside 0..255 and negative ones are accepted. token must be a real
  string (no coercion from numbers, booleans or null).
- A group whose trajectories were all dropped is skipped; no group left
  means submit's "No valid trajectory groups to submit.".
- Unknown keys anywhere in the collection are ignored; Trajectory.metadata,
  shaped_rewards and item metadata are dropped from the output.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

ROLES = ["user", "assistant", "system", "function", "tool", "environment", "other"]
NON_ASSISTANT = [r for r in ROLES if r != "assistant"]

MSG_EMPTY = "Trajectory episode is empty."
MSG_FIRST = "The first message in the trajectory must be from 'user' or 'system'."
MSG_CONSEC = "Consecutive assistant messages from the same role found in trajectory."
MSG_LOGPROBS = "logprobs must be provided for assistant role."
MSG_NO_GROUPS = "No valid trajectory groups to submit."

# Cases where NAT's pydantic models coerce a value (or where NAT's answer
# cannot be expressed as JSON): they are run and reported, but not counted as
# failures, so the lead can decide what the plugin should do.
KNOWN_DIVERGENCES: Dict[str, str] = {
    "logprob_numeric_string": 'pydantic coerces a numeric string token logprob ("-0.5", " -1e-3 ", "-1_0", '
    '"+1") to a float',
    "logprob_bool": "pydantic coerces a boolean token logprob to 1.0 / 0.0",
    "logprob_nonfinite": 'pydantic accepts "NaN" / "-inf" / "Infinity" strings and out-of-range literals '
    "(-1e400) as float logprobs; NAT's body then holds NaN/-Infinity, which is not JSON",
    "top_logprob_numeric_string": "pydantic coerces a numeric string logprob inside top_logprobs to a float",
    "bytes_numeric_string": 'pydantic coerces numeric strings in "bytes" (["60"], ["61.0"], [" 60 "], ["1_0"]) '
    "to ints",
    "bytes_integral_float": 'pydantic coerces integral floats in "bytes" ([60.0]) to ints',
    "bytes_bool": 'pydantic coerces booleans in "bytes" ([true]) to 1 / 0',
    "reward_nonfinite": 'pydantic accepts "nan" / "-inf" strings and out-of-range literals (1e400 -> inf) '
    "as a reward; NAT's body then holds NaN/Infinity, which is not JSON",
    "duplicate_keys": "JSON object with a duplicate key: NAT (json.loads) keeps the last value",
    "deep_nesting": "JSON nested deeper than the plugin's native.max_json_depth (default 128) inside an "
    "opaque value (logprobs extra key, metadata); Python's json and pydantic accept it",
    "lone_surrogate": "content with an unpaired UTF-16 surrogate escape (\\ud800): valid JSON text, "
    "not valid Unicode; Python keeps it as is",
}


# --------------------------------------------------------------------------
# A small JSON writer with control over spelling
# --------------------------------------------------------------------------


class Raw:
    """A JSON value written verbatim (number spellings, string escapes)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return "Raw(%r)" % self.text


class Obj:
    """A JSON object given as (key, value) pairs; duplicates allowed."""

    def __init__(self, pairs: List[Tuple[str, Any]]):
        self.pairs = pairs


def _has_surrogate(s: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def dump(value: Any, style: Dict[str, Any], rng: Optional[random.Random] = None, level: int = 0) -> str:
    indent = style.get("indent")
    item_sep = "," if indent is not None or style.get("compact", True) else ", "
    key_sep = ":" if style.get("compact", True) else ": "

    def nl(lv: int) -> str:
        return "\n" + " " * (indent * lv) if indent is not None else ""

    if isinstance(value, Raw):
        return value.text
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("non-finite float in generated JSON; use Raw")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=style.get("ascii", False) or _has_surrogate(value))
    if isinstance(value, (dict, Obj)):
        pairs = list(value.items()) if isinstance(value, dict) else list(value.pairs)
        if not pairs:
            return "{}"
        if style.get("shuffle") and rng is not None and isinstance(value, dict):
            rng.shuffle(pairs)
        parts = [
            nl(level + 1) + json.dumps(k, ensure_ascii=style.get("ascii", False)) + key_sep + dump(v, style, rng, level + 1)
            for k, v in pairs
        ]
        return "{" + item_sep.join(parts) + nl(level) + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        parts = [nl(level + 1) + dump(v, style, rng, level + 1) for v in value]
        return "[" + item_sep.join(parts) + nl(level) + "]"
    raise TypeError("cannot dump %r" % (value,))


# --------------------------------------------------------------------------
# Content strings and numbers
# --------------------------------------------------------------------------

CONTENTS: List[Any] = [
    "",
    "Hello, world.",
    "<move>A1</move>",
    "😀 emoji 🎉👩‍💻",
    "你好，世界。日本語のテキスト、한국어",
    "line one\nline two\r\nline three\ttab",
    'a "quoted" word',
    "back\\slash \\n not a newline \\u0041",
    "controls \u0000 \u0001 \u0008 \u000b \u000c \u001f \u007f end",
    "</script><script>alert('x')</script><!--",
    "mixed \u2028 line \u2029 separators",
    "مرحبا بالعالم (RTL)",
    "e\u0301 combining \ufeff BOM \u200b zero width",
    '{"looks": ["like", "json"], "n": 1}',
    "\U0001F600 astral \U00010348 gothic",
    # Raw spellings: escaped solidus, escaped ASCII, escaped surrogate pair.
    Raw('"esc\\/aped \\u0041\\u00e9\\ud83d\\ude00 \\b\\f\\n\\r\\t"'),
    Raw('"\\u0000 nul first"'),
    "x" * 3000,
    " ",
]

REWARDS: List[Any] = [
    0,
    1,
    -1,
    0.5,
    -0.25,
    0.1,
    3.141592653589793,
    123456789,
    Raw("1e2"),
    Raw("2.5E+2"),
    Raw("-1.5e-3"),
    Raw("-0.0"),
    Raw("-0"),
    Raw("1e308"),
    Raw("5e-324"),
    Raw("0.000001"),
    Raw("100.000"),
    Raw("1E-7"),
]

LOGPROB_VALUES: List[Any] = [-0.1, -0.01, 0, -2.5, -10, Raw("-1.5e-3"), Raw("-1E2"), Raw("-0.0"), 0.5, Raw("-1e308"),
                             Raw("-5e-324"), -1]


def token_text(rng: random.Random) -> str:
    choice = rng.randrange(6)
    if choice <= 2:
        return "token_id:%d" % rng.randrange(0, 152000)
    if choice == 3:
        return rng.choice(["Hello", " world", "\n", "😀", "你", '"', "\\", "</s>", ""])
    if choice == 4:
        return "token_id:0"
    return rng.choice(["\u0000", "\t", "é"])


def token_entry(rng: random.Random, top: int = -1, bytes_mode: str = "list") -> Dict[str, Any]:
    text = token_text(rng)
    entry: Dict[str, Any] = {"token": text}
    if bytes_mode == "list":
        entry["bytes"] = list(text.encode("utf-8"))
    elif bytes_mode == "null":
        entry["bytes"] = None
    entry["logprob"] = rng.choice(LOGPROB_VALUES)
    if top < 0:
        top = rng.randrange(0, 4)
    tops = []
    for _ in range(top):
        t = token_text(rng)
        e: Dict[str, Any] = {"token": t}
        if bytes_mode == "list":
            e["bytes"] = list(t.encode("utf-8"))
        elif bytes_mode == "null":
            e["bytes"] = None
        e["logprob"] = rng.choice(LOGPROB_VALUES)
        tops.append(e)
    entry["top_logprobs"] = tops
    return entry


def normal_logprobs(rng: random.Random, n: int = -1) -> Dict[str, Any]:
    if n < 0:
        n = rng.randrange(1, 5)
    return {"content": [token_entry(rng) for _ in range(n)], "refusal": None}


# --------------------------------------------------------------------------
# Assistant logprobs shapes: (name, factory, expectation, known-divergence tag)
# expectation: "keep" (Choice accepts) or "drop" (Choice raises; NAT skips the
# trajectory).
# --------------------------------------------------------------------------


def _with_token(rng: random.Random, mutate: Callable[[Dict[str, Any]], None], index: int = 0,
                n: int = 1) -> Dict[str, Any]:
    lp = normal_logprobs(rng, max(n, index + 1))
    mutate(lp["content"][index])
    return lp


def _with_top(rng: random.Random, mutate: Callable[[Dict[str, Any]], None]) -> Dict[str, Any]:
    lp = normal_logprobs(rng, 1)
    lp["content"][0]["top_logprobs"] = [token_entry(rng, top=0)]
    del lp["content"][0]["top_logprobs"][0]["top_logprobs"]
    mutate(lp["content"][0]["top_logprobs"][0])
    return lp


def _deep(depth: int) -> Any:
    v: Any = {"bottom": True}
    for i in range(depth):
        v = [v] if i % 2 else {"d": v}
    return v


def _set(key: str, value: Any) -> Callable[[Dict[str, Any]], None]:
    def f(d: Dict[str, Any]) -> None:
        d[key] = value

    return f


def _del(key: str) -> Callable[[Dict[str, Any]], None]:
    def f(d: Dict[str, Any]) -> None:
        d.pop(key, None)

    return f


LP_SHAPES: List[Tuple[str, Callable[[random.Random], Any], str, Optional[str]]] = [
    # --- accepted by Choice ---
    ("normal", lambda r: normal_logprobs(r), "keep", None),
    ("normal_one_token_no_top", lambda r: {"content": [token_entry(r, top=0)], "refusal": None}, "keep", None),
    ("normal_many_tokens", lambda r: normal_logprobs(r, 12), "keep", None),
    ("normal_no_refusal_key", lambda r: {"content": normal_logprobs(r)["content"]}, "keep", None),
    ("empty_object", lambda r: {}, "keep", None),
    ("content_null", lambda r: {"content": None}, "keep", None),
    ("content_null_refusal_null", lambda r: {"content": None, "refusal": None}, "keep", None),
    ("content_empty_list", lambda r: {"content": []}, "keep", None),
    ("content_and_refusal_empty", lambda r: {"content": [], "refusal": []}, "keep", None),
    ("refusal_tokens", lambda r: {"content": None, "refusal": [token_entry(r)]}, "keep", None),
    ("bytes_missing", lambda r: {"content": [token_entry(r, bytes_mode="none") for _ in range(2)], "refusal": None},
     "keep", None),
    ("bytes_null", lambda r: {"content": [token_entry(r, bytes_mode="null")]}, "keep", None),
    ("bytes_empty", lambda r: _with_token(r, _set("bytes", [])), "keep", None),
    ("bytes_out_of_byte_range", lambda r: _with_token(r, _set("bytes", [300, -5, 0, 255, 65536])), "keep", None),
    ("top_logprobs_empty", lambda r: _with_token(r, _set("top_logprobs", [])), "keep", None),
    ("top_entry_bytes_missing", lambda r: _with_top(r, _del("bytes")), "keep", None),
    ("extra_keys", lambda r: {
        "content": [dict(token_entry(r, top=1), extra_token_key={"nested": [1, None, "x"]}, id=7)],
        "refusal": None, "unknown": {"a": [1, 2]}, "z": None, "text_offset": [0]
    }, "keep", None),
    ("extra_key_in_top_entry", lambda r: _with_top(r, _set("extra", "kept")), "keep", None),
    ("logprob_int", lambda r: _with_token(r, _set("logprob", -3)), "keep", None),
    ("logprob_exponent", lambda r: _with_token(r, _set("logprob", Raw("-2.5E-4"))), "keep", None),
    ("logprob_positive", lambda r: _with_token(r, _set("logprob", 1.5)), "keep", None),
    ("logprob_big_int", lambda r: _with_token(r, _set("logprob", Raw("-100000000000000000000"))), "keep", None),
    ("token_empty_string", lambda r: _with_token(r, _set("token", "")), "keep", None),
    ("token_unicode_escapes", lambda r: _with_token(r, _set("token", Raw('"\\u00e9\\ud83d\\ude00\\n\\"\\\\"'))),
     "keep", None),
    # --- rejected by Choice: NAT drops the trajectory ---
    ("list_of_tokens", lambda r: normal_logprobs(r)["content"], "drop", None),
    ("empty_list", lambda r: [], "drop", None),
    ("string", lambda r: "logprobs", "drop", None),
    ("empty_string", lambda r: "", "drop", None),
    ("number", lambda r: -1.5, "drop", None),
    ("zero", lambda r: 0, "drop", None),
    ("false", lambda r: False, "drop", None),
    ("true", lambda r: True, "drop", None),
    ("content_string", lambda r: {"content": "tokens"}, "drop", None),
    ("content_object", lambda r: {"content": {"token": "x", "logprob": -1.0, "top_logprobs": []}}, "drop", None),
    ("content_number", lambda r: {"content": 3}, "drop", None),
    ("content_item_string", lambda r: {"content": ["x"]}, "drop", None),
    ("content_item_null", lambda r: {"content": [None]}, "drop", None),
    ("content_item_number", lambda r: {"content": [5]}, "drop", None),
    ("content_item_list", lambda r: {"content": [[]]}, "drop", None),
    ("token_missing", lambda r: _with_token(r, _del("token")), "drop", None),
    ("logprob_missing", lambda r: _with_token(r, _del("logprob")), "drop", None),
    ("top_logprobs_missing", lambda r: _with_token(r, _del("top_logprobs")), "drop", None),
    ("token_number", lambda r: _with_token(r, _set("token", 5)), "drop", None),
    ("token_null", lambda r: _with_token(r, _set("token", None)), "drop", None),
    ("token_bool", lambda r: _with_token(r, _set("token", True)), "drop", None),
    ("token_list", lambda r: _with_token(r, _set("token", ["a"])), "drop", None),
    ("logprob_null", lambda r: _with_token(r, _set("logprob", None)), "drop", None),
    ("logprob_non_numeric_string", lambda r: _with_token(r, _set("logprob", "abc")), "drop", None),
    ("logprob_empty_string", lambda r: _with_token(r, _set("logprob", "")), "drop", None),
    ("logprob_list", lambda r: _with_token(r, _set("logprob", [-1.0])), "drop", None),
    ("logprob_object", lambda r: _with_token(r, _set("logprob", {})), "drop", None),
    ("bytes_string", lambda r: _with_token(r, _set("bytes", "ab")), "drop", None),
    ("bytes_object", lambda r: _with_token(r, _set("bytes", {})), "drop", None),
    ("bytes_fractional_float", lambda r: _with_token(r, _set("bytes", [1.5])), "drop", None),
    ("bytes_null_element", lambda r: _with_token(r, _set("bytes", [None])), "drop", None),
    ("bytes_non_numeric_string", lambda r: _with_token(r, _set("bytes", ["x"])), "drop", None),
    ("top_logprobs_null", lambda r: _with_token(r, _set("top_logprobs", None)), "drop", None),
    ("top_logprobs_object", lambda r: _with_token(r, _set("top_logprobs", {"a": -1.0})), "drop", None),
    ("top_logprobs_string", lambda r: _with_token(r, _set("top_logprobs", "x")), "drop", None),
    ("top_entry_not_object", lambda r: _with_token(r, _set("top_logprobs", ["x"])), "drop", None),
    ("top_entry_token_missing", lambda r: _with_top(r, _del("token")), "drop", None),
    ("top_entry_logprob_missing", lambda r: _with_top(r, _del("logprob")), "drop", None),
    ("top_entry_token_number", lambda r: _with_top(r, _set("token", 1)), "drop", None),
    ("top_entry_logprob_non_numeric", lambda r: _with_top(r, _set("logprob", "x")), "drop", None),
    ("refusal_string", lambda r: {"content": None, "refusal": "I refuse"}, "drop", None),
    ("refusal_number", lambda r: {"content": [], "refusal": 5}, "drop", None),
    ("refusal_object", lambda r: {"refusal": {}}, "drop", None),
    ("refusal_bad_token", lambda r: {"refusal": [{"token": "t"}]}, "drop", None),
    ("logprob_hex_string", lambda r: _with_token(r, _set("logprob", "-0x10")), "drop", None),
    ("logprob_blank_string", lambda r: _with_token(r, _set("logprob", "  ")), "drop", None),
    ("logprob_comma_string", lambda r: _with_token(r, _set("logprob", "-1,5")), "drop", None),
    ("bytes_literal_overflow", lambda r: _with_token(r, _set("bytes", [Raw("1e400")])), "drop", None),
    ("bytes_exponent_string", lambda r: _with_token(r, _set("bytes", ["6.1e1"])), "drop", None),
    ("bytes_bool_string", lambda r: _with_token(r, _set("bytes", ["true"])), "drop", None),
    ("second_token_bad", lambda r: _with_token(r, _del("logprob"), index=1, n=3), "drop", None),
    ("last_token_bad", lambda r: _with_token(r, _set("token", 0), index=4, n=5), "drop", None),
    ("extra_key_deeply_nested", lambda r: dict(normal_logprobs(r, 1), deep=_deep(150)), "keep", "deep_nesting"),
    # --- accepted after a pydantic coercion: known divergences ---
    ("logprob_numeric_string", lambda r: _with_token(r, _set("logprob", "-0.5")), "keep", "logprob_numeric_string"),
    ("logprob_numeric_string_ws", lambda r: _with_token(r, _set("logprob", " -1e-3 ")), "keep",
     "logprob_numeric_string"),
    ("logprob_true", lambda r: _with_token(r, _set("logprob", True)), "keep", "logprob_bool"),
    ("logprob_false", lambda r: _with_token(r, _set("logprob", False)), "keep", "logprob_bool"),
    ("logprob_nan_string", lambda r: _with_token(r, _set("logprob", "NaN")), "keep", "logprob_nonfinite"),
    ("logprob_minus_inf_string", lambda r: _with_token(r, _set("logprob", "-inf")), "keep",
     "logprob_nonfinite"),
    ("top_entry_logprob_numeric_string", lambda r: _with_top(r, _set("logprob", "-2")), "keep",
     "top_logprob_numeric_string"),
    ("bytes_numeric_string", lambda r: _with_token(r, _set("bytes", ["60", " 62 ", "1_0"])), "keep",
     "bytes_numeric_string"),
    ("bytes_numeric_string_with_fraction_zero", lambda r: _with_token(r, _set("bytes", ["61.0"])), "keep",
     "bytes_numeric_string"),
    ("logprob_underscore_string", lambda r: _with_token(r, _set("logprob", "-1_0")), "keep", "logprob_numeric_string"),
    ("logprob_plus_string", lambda r: _with_token(r, _set("logprob", "+1")), "keep", "logprob_numeric_string"),
    ("logprob_literal_overflow", lambda r: _with_token(r, _set("logprob", Raw("-1e400"))), "keep",
     "logprob_nonfinite"),
    ("bytes_integral_float", lambda r: _with_token(r, _set("bytes", [60.0, Raw("6.1e1")])), "keep",
     "bytes_integral_float"),
    ("bytes_bool", lambda r: _with_token(r, _set("bytes", [True, False])), "keep", "bytes_bool"),
]
LP_BY_NAME = {s[0]: s for s in LP_SHAPES}
LP_COMPARED = [s for s in LP_SHAPES if s[3] is None]
LP_COMPARED_KEEP = [s for s in LP_COMPARED if s[2] == "keep"]
LP_COMPARED_DROP = [s for s in LP_COMPARED if s[2] == "drop"]

# Logprobs that may sit on a non-assistant item: NAT ignores them all.
NON_ASSISTANT_LOGPROBS: List[Callable[[random.Random], Any]] = [
    lambda r: None,
    lambda r: {},
    lambda r: normal_logprobs(r, 1),
    lambda r: "garbage",
    lambda r: [1, 2, 3],
    lambda r: {"content": "not a list"},
    lambda r: 42,
]


# --------------------------------------------------------------------------
# Trajectories
# --------------------------------------------------------------------------


class TrajSpec:
    def __init__(self) -> None:
        self.order_error: Optional[str] = None
        self.drop = False
        self.kd: List[str] = []
        self.tags: List[str] = []


def nat_order_error(roles: List[str]) -> Optional[str]:
    if not roles:
        return MSG_EMPTY
    if roles[0] not in ("user", "system"):
        return MSG_FIRST
    for i in range(1, len(roles)):
        if roles[i] == roles[i - 1] == "assistant":
            return MSG_CONSEC
    return None


class Gen:
    def __init__(self, seed: int, index: int):
        self.rng = random.Random("%d/%d" % (seed, index))
        self.index = index
        self.content_counter = index * 7

    # -- pieces --
    def content(self) -> Any:
        self.content_counter += 1
        if self.rng.random() < 0.5:
            return CONTENTS[self.content_counter % len(CONTENTS)]
        return self.rng.choice(["ok", "Sure.", "I will call the tool.", "<move>B2</move>", "42", "done"])

    def reward(self) -> Any:
        return self.rng.choice(REWARDS)

    def roles(self, allow_order_errors: bool) -> List[str]:
        r = self.rng
        n = r.choice([1, 2, 2, 3, 3, 4, 5, 6, 8])
        roles = [r.choice(["system", "user"])]
        while len(roles) < n:
            role = r.choice(ROLES + ["assistant", "assistant", "user"])
            if role == "assistant" and roles[-1] == "assistant" and not allow_order_errors:
                role = r.choice(NON_ASSISTANT)
            roles.append(role)
        return roles

    def item(self, role: str, lp_shape: Optional[Tuple] = None, spec: Optional[TrajSpec] = None,
             position: int = 0) -> Dict[str, Any]:
        r = self.rng
        d: Dict[str, Any] = {"role": role, "content": self.content()}
        if role == "assistant":
            shape = lp_shape or r.choice(LP_COMPARED_KEEP)
            d["logprobs"] = shape[1](r)
            if spec is not None:
                spec.tags.append("lp:" + shape[0])
                if position > 0 and shape[2] == "drop":
                    spec.drop = True
                if shape[3]:
                    spec.kd.append(shape[3])
        else:
            x = r.random()
            if x < 0.3:
                d["logprobs"] = None
            elif x < 0.45:
                d["logprobs"] = r.choice(NON_ASSISTANT_LOGPROBS)(r)
        x = r.random()
        if x < 0.15:
            d["metadata"] = None
        elif x < 0.3:
            d["metadata"] = {"tool_call_id": "call_%d" % r.randrange(1000), "name": "lookup",
                             "tool_calls": [{"id": "c1", "type": "function"}]}
        if r.random() < 0.05:
            d["unknown_item_key"] = [1, {"x": None}]
        return d

    def trajectory(self, roles: List[str], lp_shapes: Optional[Dict[int, Tuple]] = None,
                   drop_rate: float = 0.0) -> Tuple[Dict[str, Any], TrajSpec]:
        r = self.rng
        spec = TrajSpec()
        episode = []
        for i, role in enumerate(roles):
            shape = None
            if lp_shapes and i in lp_shapes:
                shape = lp_shapes[i]
            elif role == "assistant" and r.random() < drop_rate:
                shape = r.choice(LP_COMPARED_DROP)
            episode.append(self.item(role, shape, spec, i))
        spec.order_error = nat_order_error(roles)
        t: Dict[str, Any] = {"episode": episode, "reward": self.reward()}
        x = r.random()
        if x < 0.2:
            t["shaped_rewards"] = [self.rng.choice([0.1, -1, 2.5, 0])
                                   for _ in range(len(episode))]
        elif x < 0.3:
            t["shaped_rewards"] = None
        x = r.random()
        if x < 0.25:
            t["metadata"] = {"id": r.randrange(100), "reasoning": "because", "run_id": "art_run_x",
                             "generation": r.randrange(4), "nested": {"a": [1, 2, {"b": None}]}}
        elif x < 0.35:
            t["metadata"] = None
        elif x < 0.4:
            t["metadata"] = {}
        if r.random() < 0.05:
            t["unknown_trajectory_key"] = {"ignored": True}
        return t, spec

    def random_trajectory(self, allow_order_errors: bool, drop_rate: float) -> Tuple[Dict[str, Any], TrajSpec]:
        return self.trajectory(self.roles(allow_order_errors), drop_rate=drop_rate)

    def order_error_trajectory(self, kind: str) -> Tuple[Dict[str, Any], TrajSpec]:
        r = self.rng
        if kind == "empty_episode":
            roles: List[str] = []
        elif kind.startswith("first_"):
            first = kind[len("first_"):]
            roles = [first] + self.roles(False)[: r.randrange(0, 4)]
        elif kind == "consecutive_assistants":
            roles = self.roles(False)
            at = r.randrange(1, len(roles) + 1)
            roles[at:at] = ["assistant", "assistant"]
        elif kind == "consecutive_assistants_late":
            roles = ["system", "user", "assistant", "tool", "assistant", "assistant", "user"]
        else:
            raise ValueError(kind)
        t, spec = self.trajectory(roles)
        assert spec.order_error is not None, (kind, roles)
        return t, spec

    def allowed_order_trajectory(self, kind: str) -> Tuple[Dict[str, Any], TrajSpec]:
        roles = {
            "consecutive_users": ["user", "user", "assistant", "user", "user"],
            "consecutive_systems": ["system", "system", "user", "assistant"],
            "consecutive_tools": ["user", "assistant", "tool", "tool", "function", "function", "assistant"],
            "consecutive_env_other": ["system", "environment", "environment", "other", "other", "assistant"],
            "no_final_assistant": ["user", "assistant", "user"],
            "single_user": ["user"],
            "single_system": ["system"],
            "all_roles_after_first": ["system"] + NON_ASSISTANT + ["assistant"] + NON_ASSISTANT[::-1],
            "alternating": ["user", "assistant"] * 6,
            "only_context_roles": ["user", "tool", "function", "environment", "other", "system", "user"],
        }[kind]
        t, spec = self.trajectory(list(roles))
        assert spec.order_error is None
        return t, spec

    # -- collections --
    def base_groups(self, allow_order_errors: bool = False, drop_rate: float = 0.1,
                    min_groups: int = 1) -> List[List[Tuple[Dict[str, Any], TrajSpec]]]:
        r = self.rng
        groups = []
        for _ in range(r.randrange(min_groups, 5)):
            n = r.choice([0, 1, 2, 2, 3, 4]) if r.random() < 0.9 else 0
            if n == 0 and r.random() < 0.5:
                n = 1
            groups.append([self.random_trajectory(allow_order_errors, drop_rate) for _ in range(n)])
        return groups

    def insert_somewhere(self, groups: List[List[Tuple]], traj: Tuple, force_group: bool = False) -> None:
        r = self.rng
        if not groups or force_group or r.random() < 0.2:
            groups.insert(r.randrange(len(groups) + 1), [])
            gi = [i for i, g in enumerate(groups) if not g][0]
        else:
            gi = r.randrange(len(groups))
        g = groups[gi]
        g.insert(r.randrange(len(g) + 1), traj)


def expect_of(groups: List[List[Tuple[Dict[str, Any], TrajSpec]]]) -> Dict[str, Any]:
    for g in groups:
        for _, spec in g:
            if spec.order_error:
                return {"outcome": "order_error", "message": spec.order_error}
    kept = [sum(1 for _, s in g if not s.drop) for g in groups]
    kept = [k for k in kept if k]
    if not kept:
        return {"outcome": "no_groups", "message": MSG_NO_GROUPS}
    return {"outcome": "ok", "kept": kept}


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

ORDER_ERROR_KINDS = ["empty_episode", "first_assistant", "first_tool", "first_function", "first_environment",
                     "first_other", "consecutive_assistants", "consecutive_assistants_late"]
ALLOWED_ORDER_KINDS = ["consecutive_users", "consecutive_systems", "consecutive_tools", "consecutive_env_other",
                       "no_final_assistant", "single_user", "single_system", "all_roles_after_first",
                       "alternating", "only_context_roles"]


def _first_item(groups, pred) -> Optional[Dict[str, Any]]:
    for g in groups:
        for t, _ in g:
            for it in t["episode"]:
                if pred(it):
                    return it
    return None


def _any_traj(gen: Gen, groups) -> Dict[str, Any]:
    flat = [t for g in groups for t, _ in g]
    return gen.rng.choice(flat)


def _any_item(gen: Gen, groups) -> Dict[str, Any]:
    flat = [it for g in groups for t, _ in g for it in t["episode"]]
    return gen.rng.choice(flat)


def _ensure_assistant(gen: Gen, groups) -> Dict[str, Any]:
    it = _first_item(groups, lambda i: i["role"] == "assistant")
    if it is None:
        t, s = gen.trajectory(["user", "assistant"])
        gen.insert_somewhere(groups, (t, s))
        it = t["episode"][1]
    return it


# Model-level violations: (name, mutate(gen, groups, coll) -> None, required message or None)
def _mv_item(key: str, value: Any, role: Optional[str] = None):
    def f(gen: Gen, groups, coll) -> None:
        it = _ensure_assistant(gen, groups) if role == "assistant" else _any_item(gen, groups)
        it[key] = value

    return f


def _mv_item_del(key: str, role: Optional[str] = None):
    def f(gen: Gen, groups, coll) -> None:
        it = _ensure_assistant(gen, groups) if role == "assistant" else _any_item(gen, groups)
        it.pop(key, None)

    return f


def _mv_traj(key: str, value: Any):
    def f(gen: Gen, groups, coll) -> None:
        _any_traj(gen, groups)[key] = value

    return f


def _mv_first_assistant_no_logprobs(gen: Gen, groups, coll) -> None:
    t, s = gen.trajectory(["user", "assistant"])
    t["episode"][0] = {"role": "assistant", "content": "first"}
    gen.insert_somewhere(groups, (t, s))


def _mv_item_not_object(gen: Gen, groups, coll) -> None:
    t = _any_traj(gen, groups)
    t["episode"].insert(gen.rng.randrange(len(t["episode"]) + 1), gen.rng.choice(["x", 1, None, ["user", "hi"]]))


def _mv_traj_not_object(gen: Gen, groups, coll) -> None:
    g = [g for g in groups if g]
    g = gen.rng.choice(g)
    g.insert(gen.rng.randrange(len(g) + 1), (gen.rng.choice(["traj", 3, None, []]), TrajSpec()))


def _mv_dpo_mixed(gen: Gen, groups, coll) -> None:
    t = _any_traj(gen, groups)
    t["episode"].append({"prompt": [{"role": "user", "content": "q"}], "chosen_response": "a",
                         "rejected_response": "b"})


def _mv_coll(key: str, value: Any, delete: bool = False):
    def f(gen: Gen, groups, coll) -> None:
        if delete:
            coll.pop(key, None)
        else:
            coll[key] = value

    return f


def _mv_inner_not_list(gen: Gen, groups, coll) -> None:
    groups.insert(gen.rng.randrange(len(groups) + 1), "NOT_A_LIST")


MODEL_VIOLATIONS: List[Tuple[str, Callable, Optional[str]]] = [
    ("assistant_logprobs_null", _mv_item("logprobs", None, "assistant"), MSG_LOGPROBS),
    ("assistant_logprobs_missing", _mv_item_del("logprobs", "assistant"), MSG_LOGPROBS),
    ("first_item_assistant_without_logprobs", _mv_first_assistant_no_logprobs, MSG_LOGPROBS),
    ("role_unknown", _mv_item("role", "bogus"), None),
    ("role_uppercase", _mv_item("role", "USER"), None),
    ("role_padded", _mv_item("role", " user"), None),
    ("role_number", _mv_item("role", 0), None),
    ("role_null", _mv_item("role", None), None),
    ("role_missing", _mv_item_del("role"), None),
    ("content_number", _mv_item("content", 5), None),
    ("content_null", _mv_item("content", None), None),
    ("content_missing", _mv_item_del("content"), None),
    ("content_list", _mv_item("content", ["a"]), None),
    ("content_object", _mv_item("content", {"text": "a"}), None),
    ("item_metadata_string", _mv_item("metadata", "x"), None),
    ("item_metadata_list", _mv_item("metadata", []), None),
    ("item_not_object", _mv_item_not_object, None),
    ("episode_null", _mv_traj("episode", None), None),
    ("episode_object", _mv_traj("episode", {}), None),
    ("episode_string", _mv_traj("episode", "user: hi"), None),
    ("trajectory_metadata_string", _mv_traj("metadata", "x"), None),
    ("trajectory_metadata_list", _mv_traj("metadata", [1]), None),
    ("reward_null", _mv_traj("reward", None), None),
    ("reward_missing", lambda gen, groups, coll: _any_traj(gen, groups).pop("reward"), None),
    ("reward_list", _mv_traj("reward", [1]), None),
    ("reward_object", _mv_traj("reward", {}), None),
    ("reward_non_numeric_string", _mv_traj("reward", "high"), None),
    ("reward_hex_string", _mv_traj("reward", "0x10"), None),
    ("reward_int_too_large_for_float", _mv_traj("reward", Raw("1" + "0" * 400)), None),
    ("shaped_rewards_non_numeric", _mv_traj("shaped_rewards", [0.5, "x"]), None),
    ("shaped_rewards_number", _mv_traj("shaped_rewards", 3), None),
    ("shaped_rewards_null_element", _mv_traj("shaped_rewards", [None]), None),
    ("episode_mixes_dpo_item", _mv_dpo_mixed, None),
    ("trajectory_not_object", _mv_traj_not_object, None),
    ("inner_list_not_list", _mv_inner_not_list, None),
    ("run_id_missing", _mv_coll("run_id", None, delete=True), None),
    ("run_id_number", _mv_coll("run_id", 7), None),
    ("run_id_null", _mv_coll("run_id", None), None),
    ("trajectories_missing", _mv_coll("trajectories", None, delete=True), None),
    ("trajectories_null", _mv_coll("trajectories", None), None),
    ("trajectories_object", _mv_coll("trajectories", {"0": []}), None),
    ("collection_is_array", None, None),
    ("collection_is_string", None, None),
]
MV_BY_NAME = {m[0]: m for m in MODEL_VIOLATIONS}

# Collection-level coercions: (name, mutate, kd tag). A None tag means the
# plugin coerces as NAT does (rewards and shaped_rewards from numeric strings
# and booleans), so the case is compared like any other.
COLLECTION_KD: List[Tuple[str, Callable, str]] = [
    ("reward_numeric_string", _mv_traj("reward", "1.5"), None),
    ("reward_numeric_string_ws_exp", _mv_traj("reward", " 1e3 "), None),
    ("reward_true", _mv_traj("reward", True), None),
    ("reward_false", _mv_traj("reward", False), None),
    ("reward_nan_string", _mv_traj("reward", "nan"), "reward_nonfinite"),
    ("reward_minus_inf_string", _mv_traj("reward", "-inf"), "reward_nonfinite"),
    ("reward_literal_overflow", _mv_traj("reward", Raw("1e400")), "reward_nonfinite"),
    ("shaped_rewards_numeric_strings", _mv_traj("shaped_rewards", ["1.5", "-2"]), None),
    ("shaped_rewards_bools", _mv_traj("shaped_rewards", [True, False]), None),
    ("lone_surrogate_content", _mv_item("content", "bad \ud800 surrogate"), "lone_surrogate"),
    ("trajectory_metadata_deeply_nested", _mv_traj("metadata", {"deep": _deep(140)}), "deep_nesting"),
]
CKD_BY_NAME = {m[0]: m for m in COLLECTION_KD}


def scenarios() -> List[str]:
    out: List[str] = []
    out += ["mixed"] * 6 + ["valid"] * 4 + ["valid_shuffled_keys"] * 2 + ["big"]
    out += ["lp:" + s[0] for s in LP_SHAPES]
    out += ["order:" + k for k in ORDER_ERROR_KINDS]
    out += ["allowed:" + k for k in ALLOWED_ORDER_KINDS]
    out += ["model:" + m[0] for m in MODEL_VIOLATIONS]
    out += ["kd:" + m[0] for m in COLLECTION_KD] + ["kd:duplicate_keys"]
    out += ["no_groups:empty_trajectories", "no_groups:empty_inner_lists", "no_groups:all_dropped",
            "drop_and_keep_same_group", "model_error_beats_order_error", "order_error_after_drop",
            "crash:dpo_episode", "extra_keys_everywhere", "run_id_unicode", "escaped_keys_and_roles", "escaped_keys_and_roles"]
    return out


def _style(rng: random.Random, shuffle: Optional[bool] = None) -> Dict[str, Any]:
    return {
        "ascii": rng.random() < 0.3,
        "indent": rng.choice([None, None, None, 2]),
        "compact": rng.random() < 0.6,
        "shuffle": (rng.random() < 0.25) if shuffle is None else shuffle,
    }


def make_case(seed: int, index: int, scenario: str) -> Dict[str, Any]:
    gen = Gen(seed, index)
    r = gen.rng
    tags: List[str] = [scenario]
    kd: List[str] = []
    run_id = "art_run_%08x" % r.getrandbits(32)
    style = _style(r)
    groups: List[Any]
    expect: Dict[str, Any]
    model_msg: Optional[str] = None
    post: Optional[Callable[..., None]] = None
    raw_text: Optional[str] = None
    kind, _, name = scenario.partition(":")

    if scenario == "mixed":
        groups = gen.base_groups(allow_order_errors=r.random() < 0.3, drop_rate=0.3)
    elif scenario in ("valid", "valid_shuffled_keys"):
        groups = gen.base_groups(drop_rate=0.0, min_groups=1)
        if scenario == "valid_shuffled_keys":
            style["shuffle"] = True
    elif scenario == "big":
        groups = [[gen.random_trajectory(False, 0.05) for _ in range(8)] for _ in range(6)]
    elif kind == "lp":
        shape = LP_BY_NAME[name]
        groups = gen.base_groups(drop_rate=0.0)
        roles = gen.roles(False)
        if "assistant" not in roles[1:]:
            roles.append("assistant")
        at = [i for i, x in enumerate(roles) if x == "assistant" and i > 0]
        gen.insert_somewhere(groups, gen.trajectory(roles, {i: shape for i in at[: r.randrange(1, len(at) + 1)]}))
    elif kind == "order":
        groups = gen.base_groups(drop_rate=0.1)
        gen.insert_somewhere(groups, gen.order_error_trajectory(name))
        if r.random() < 0.3:  # a second, different one later
            groups.append([gen.order_error_trajectory(r.choice(ORDER_ERROR_KINDS))])
    elif kind == "allowed":
        groups = gen.base_groups(drop_rate=0.1)
        gen.insert_somewhere(groups, gen.allowed_order_trajectory(name))
    elif kind == "model":
        groups = gen.base_groups(allow_order_errors=r.random() < 0.2, drop_rate=0.1)
        if not any(groups):
            gen.insert_somewhere(groups, gen.random_trajectory(False, 0.0))
        mv = MV_BY_NAME[name]
        model_msg = mv[2]
        if name == "collection_is_array":
            raw_text = "[" + dump({"run_id": run_id, "trajectories": []}, style) + "]"
        elif name == "collection_is_string":
            raw_text = json.dumps("not a collection")
        else:
            post = lambda groups, coll, mv=mv: mv[1](gen, groups, coll)  # noqa: E731
    elif kind == "kd" and name == "duplicate_keys":
        groups = gen.base_groups(drop_rate=0.0)
        if not any(groups):
            gen.insert_somewhere(groups, gen.random_trajectory(False, 0.0))
        kd.append("duplicate_keys")
    elif kind == "kd":
        groups = gen.base_groups(drop_rate=0.0)
        if not any(groups):
            gen.insert_somewhere(groups, gen.random_trajectory(False, 0.0))
        ckd = CKD_BY_NAME[name]
        if ckd[2] is not None:
            kd.append(ckd[2])
        post = lambda groups, coll, ckd=ckd: ckd[1](gen, groups, coll)  # noqa: E731
    elif scenario == "no_groups:empty_trajectories":
        groups = []
    elif scenario == "no_groups:empty_inner_lists":
        groups = [[] for _ in range(r.randrange(1, 4))]
    elif scenario == "no_groups:all_dropped":
        groups = []
        for _ in range(r.randrange(1, 4)):
            g = []
            for _ in range(r.randrange(0, 3)):
                roles = ["user", "assistant"] + r.choice([[], ["tool", "assistant"], ["user"]])
                g.append(gen.trajectory(roles, {1: r.choice(LP_COMPARED_DROP)}))
            groups.append(g)
        if not any(groups):
            groups.append([gen.trajectory(["system", "assistant"], {1: r.choice(LP_COMPARED_DROP)})])
    elif scenario == "drop_and_keep_same_group":
        groups = gen.base_groups(drop_rate=0.0)
        g = [gen.trajectory(["user", "assistant"], {1: r.choice(LP_COMPARED_DROP)}),
             gen.trajectory(["user", "assistant"], {1: r.choice(LP_COMPARED_KEEP)}),
             gen.trajectory(["system", "user", "assistant", "tool", "assistant"], {4: r.choice(LP_COMPARED_DROP)})]
        r.shuffle(g)
        groups.insert(r.randrange(len(groups) + 1), g)
    elif scenario == "model_error_beats_order_error":
        groups = gen.base_groups(drop_rate=0.1)
        groups.insert(0, [gen.order_error_trajectory(r.choice(ORDER_ERROR_KINDS))])
        t, s = gen.trajectory(["user", "assistant"])
        t["episode"][1]["logprobs"] = None
        groups.append([(t, s)])
        model_msg = MSG_LOGPROBS
    elif scenario == "order_error_after_drop":
        groups = [[gen.trajectory(["user", "assistant"], {1: r.choice(LP_COMPARED_DROP)}),
                   gen.order_error_trajectory(r.choice(ORDER_ERROR_KINDS))]]
    elif scenario == "crash:dpo_episode":
        groups = gen.base_groups(drop_rate=0.1)
        t = {"episode": [{"prompt": r.choice(["p", [{"role": "user", "content": "q"}]]), "chosen_response": "a",
                          "rejected_response": "b"}], "reward": 1.0}
        gen.insert_somewhere(groups, (t, TrajSpec()))
    elif scenario == "extra_keys_everywhere":
        groups = gen.base_groups(drop_rate=0.1)
        if not any(groups):
            gen.insert_somewhere(groups, gen.random_trajectory(False, 0.0))
        for g in groups:
            for t, _ in g:
                t["zzz_extra"] = {"deep": [{"episode": []}]}
                t["aaa_extra"] = None
                for it in t["episode"]:
                    it["extra"] = "x"
                    it["reward"] = "not mine"
    elif scenario == "escaped_keys_and_roles":
        groups = gen.base_groups(allow_order_errors=r.random() < 0.2, drop_rate=0.2)
    elif scenario == "run_id_unicode":
        groups = gen.base_groups(drop_rate=0.1)
        run_id = "run \"☃\" \\ \n 日本"
    else:
        raise ValueError("unknown scenario " + scenario)

    # Expectation from the specs (before model-level mutation).
    if raw_text is not None or kind == "model" or scenario == "model_error_beats_order_error":
        expect = {"outcome": "model_error"}
        if model_msg:
            expect["message"] = model_msg
    elif scenario == "crash:dpo_episode":
        expect = {"outcome": "crash", "type": "AttributeError"}
        for g in groups:
            for t, s in g:
                if "prompt" in t["episode"][0]:
                    break
                if s.order_error:
                    expect = {"outcome": "order_error", "message": s.order_error}
                    break
            else:
                continue
            break
    else:
        expect = expect_of(groups)
    for g in groups:
        if isinstance(g, list):
            for _, s in g:
                kd.extend(s.kd)
                tags.extend(s.tags)

    if raw_text is None:
        sentinel = object()
        pairs = [("run_id", run_id), ("trajectories", sentinel)]
        if r.random() < 0.5:
            pairs.reverse()
        coll: Dict[str, Any] = dict(pairs)
        if post is not None:
            post(groups, coll)
        if coll.get("trajectories") is sentinel:
            coll["trajectories"] = [[t for t, _ in g] if isinstance(g, list) else g for g in groups]
        if scenario == "kd:duplicate_keys":
            text = _dump_with_duplicates(gen, coll, style)
        else:
            text = dump(coll, style, r)
        if scenario == "escaped_keys_and_roles":
            text = _escape_names(text, r, r.choice([1.0, 0.5]))
    else:
        text = raw_text

    kd = sorted(set(kd))
    for k in kd:
        assert k in KNOWN_DIVERGENCES, k
    return {"id": "c%04d" % index, "scenario": scenario, "text": text, "tags": sorted(set(tags)), "kd": kd,
            "expect": expect}


def _dump_with_duplicates(gen: Gen, coll: Dict[str, Any], style: Dict[str, Any]) -> str:
    """Duplicates one key of one item: the first copy holds a different value,
    the last copy the real one (NAT keeps the last)."""
    r = gen.rng
    items = [it for g in coll["trajectories"] for t in g for it in t["episode"]]
    target = r.choice(items)
    key = r.choice(["role", "content"] + (["logprobs"] if "logprobs" in target else []))
    decoy = {"role": "tool", "content": "DECOY", "logprobs": "not logprobs"}[key]
    pairs = [(key, decoy)] + list(target.items())
    target_id = id(target)

    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            if id(v) == target_id:
                return Obj([(k, conv(x)) for k, x in pairs])
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return dump(conv(coll), style, r)


_NAMES = ["role", "content", "logprobs", "reward", "episode", "trajectories", "run_id", "token", "logprob",
          "top_logprobs", "bytes", "refusal", "user", "assistant", "system", "tool", "function", "environment",
          "other"]


def _escape_names(text: str, rng: Optional[random.Random] = None, p: float = 1.0) -> str:
    """Spells NAT's key names and role values with \\u escapes ("\\u0072ole"):
    the same JSON to any parser. Only strings that are exactly one of the
    names are touched (the content pool holds none of them). With rng, each
    occurrence is escaped with probability p."""
    import re

    def esc(m: "re.Match[str]") -> str:
        name = m.group(1)
        if rng is not None and rng.random() >= p:
            return m.group(0)
        return '"\\u%04x%s"' % (ord(name[0]), name[1:])

    return re.sub(r'(?<![\\\w])"(%s)"' % "|".join(_NAMES), esc, text)


def generate(count: int, seed: int) -> List[Dict[str, Any]]:
    sc = scenarios()
    # Interleave so that any prefix covers many scenarios; every scenario
    # appears count // len(sc) or one more times.
    return [make_case(seed, i, sc[i % len(sc)]) for i in range(count)]


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", help="write JSON Lines here (default: stdout)")
    ap.add_argument("--list-scenarios", action="store_true")
    ap.add_argument("--list-known-divergences", action="store_true")
    args = ap.parse_args(argv)
    if args.list_scenarios:
        print("\n".join(scenarios()))
        return 0
    if args.list_known_divergences:
        for k, v in KNOWN_DIVERGENCES.items():
            print("%-28s %s" % (k, v))
        return 0
    cases = generate(args.count, args.seed)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    for c in cases:
        out.write(json.dumps(c, ensure_ascii=True) + "\n")
    if args.out:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
