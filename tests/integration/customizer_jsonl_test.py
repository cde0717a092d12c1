#!/usr/bin/env python3
"""The NeMo Customizer plugin's dataset files against Python's json.dumps on
random collections: prompts as strings and message lists (empty ones too),
text with quotes, backslashes, every control character, DEL, non-ASCII and
astral characters; 1 to 12 items (the 80/20 split at every size); both
use_full_message_history settings. NAT's _format_prompt and
_trajectory_to_dpo_jsonl are restated here. The plugin is called through
its C ABI (convert) with ctypes. About 1 s.

Usage: customizer_jsonl_test.py PLUGIN_SO
"""
import ctypes
import json
import random
import sys

ALPHABET = (["a", "Z", "0", " ", '"', "\\", "/", "\u007f", "\u00e9", "\u2014", "\u20ac", "\ufeff",
             "\U0001F642", "\U00010000", "\U0010FFFF"] + [chr(c) for c in range(0, 32)])


def text(rng):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))


def prompt(rng):
    if rng.random() < 0.4:
        return text(rng)
    return [{"role": rng.choice(["system", "user", "assistant", text(rng)]), "content": text(rng)}
            for _ in range(rng.randint(0, 3))]


def format_prompt(p, full):
    if full:
        return [{"role": "user", "content": p}] if isinstance(p, str) else [
            {"role": m["role"], "content": m["content"]} for m in p]
    if isinstance(p, str):
        return p
    return p[-1]["content"] if p else ""


def nat_files(items, full):
    records = [{"prompt": format_prompt(i["prompt"], full), "chosen_response": i["chosen_response"],
                "rejected_response": i["rejected_response"]} for i in items]
    split = max(1, int(len(records) * 0.8))
    validation = records[split:] if split < len(records) else records[-1:]
    return ("\n".join(json.dumps(r) for r in records[:split]), "\n".join(json.dumps(r) for r in validation))


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.nat_trainer_adapter_create.restype = ctypes.c_void_p
    lib.nat_trainer_adapter_create.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)]
    lib.nat_trainer_adapter_convert.restype = ctypes.c_void_p
    lib.nat_trainer_adapter_convert.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                                ctypes.POINTER(ctypes.c_void_p)]
    lib.nat_trainer_adapter_error_message.restype = ctypes.c_char_p
    lib.nat_trainer_adapter_error_message.argtypes = [ctypes.c_void_p]
    lib.nat_trainer_adapter_buffer_data.restype = ctypes.c_void_p
    lib.nat_trainer_adapter_buffer_data.argtypes = [ctypes.c_void_p]
    lib.nat_trainer_adapter_buffer_size.restype = ctypes.c_size_t
    lib.nat_trainer_adapter_buffer_size.argtypes = [ctypes.c_void_p]
    lib.nat_trainer_adapter_buffer_free.argtypes = [ctypes.c_void_p]
    lib.nat_trainer_adapter_destroy.argtypes = [ctypes.c_void_p]
    rng = random.Random(20261204)
    checked = 0
    for full in (False, True):
        config = json.dumps({"entity_host": "http://127.0.0.1:9", "datastore_host": "http://127.0.0.1:9",
                             "namespace": "ns", "customization_config": "m", "use_full_message_history": full,
                             "native": {"spool": False}}).encode()
        adapter = ctypes.c_void_p()
        err = lib.nat_trainer_adapter_create(config, len(config), ctypes.byref(adapter))
        assert not err, lib.nat_trainer_adapter_error_message(err)
        for case in range(150):
            items = [{"prompt": prompt(rng), "chosen_response": text(rng), "rejected_response": text(rng)}
                     for _ in range(1 + case % 12)]
            groups, at = [], 0
            while at < len(items):
                n = rng.randint(1, 3)
                groups.append([{"episode": items[at:at + n], "reward": 1.0}])
                at += n
            collection = json.dumps({"run_id": "r%d" % case, "trajectories": groups},
                                    ensure_ascii=rng.random() < 0.5).encode()
            out = ctypes.c_void_p()
            err = lib.nat_trainer_adapter_convert(adapter, collection, len(collection), ctypes.byref(out))
            assert not err, lib.nat_trainer_adapter_error_message(err)
            data = ctypes.string_at(lib.nat_trainer_adapter_buffer_data(out), lib.nat_trainer_adapter_buffer_size(out))
            lib.nat_trainer_adapter_buffer_free(out)
            files = json.loads(data)["files"]
            training, validation = nat_files(items, full)
            if files["training/training_file.jsonl"] != training or files["validation/validation_file.jsonl"] != validation:
                print("MISMATCH (full=%s, case %d)\ncollection: %s\nexpected: %r\ngot: %r" %
                      (full, case, collection, (training, validation), files), file=sys.stderr)
                return 1
            checked += 1
        lib.nat_trainer_adapter_destroy(adapter)
    print("%d collections: the plugin's files equal json.dumps's" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
