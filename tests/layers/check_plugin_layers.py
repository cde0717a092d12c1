#!/usr/bin/env python3
"""Checks the layer map of plugin/meson.build against the plugin's #include lines.

The map is the comment block at the top of plugin/meson.build: one line per
folder, lowest first ("#   base/  ..."). A file in a folder may include
headers of its own folder and of the folders listed above it, never of a
folder listed below it. A folder's description may end its first line or go
on with "uses no a/, b/": it then includes none of those folders either,
though they are listed above it (a backend that stays clear of another's).
The plugin entry files (*_plugin_entry.cpp), from which each shared library
is built, sit on top of every layer.

Usage: check_plugin_layers.py <plugin dir>. Prints every violation and exits
1 when there is one; exits 2 when the map cannot be read.
"""
import pathlib
import re
import sys

MAP_LINE = re.compile(r"^#\s+([a-z_]+)/\s")
CONTINUATION = re.compile(r"^#\s{2,}\S")
USES_NO = re.compile(r"uses no ((?:[a-z_]+/(?:,\s*)?)+)")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def read_map(meson_build: pathlib.Path):
    """The folders, lowest first, and what each one's description forbids."""
    layers = []
    text = {}
    for line in meson_build.read_text().splitlines():
        if not line.startswith("#"):
            break
        m = MAP_LINE.match(line)
        if m:
            layers.append(m.group(1))
            text[m.group(1)] = line[m.end():]
        elif layers and CONTINUATION.match(line):
            text[layers[-1]] += " " + line[1:].strip()
    forbidden = {}
    for name, description in text.items():
        uses_no = set()
        for m in USES_NO.finditer(" ".join(description.split())):
            uses_no.update(f.strip().rstrip("/") for f in m.group(1).split(","))
        forbidden[name] = uses_no
    return layers, forbidden


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    plugin = pathlib.Path(sys.argv[1])
    layers, forbidden = read_map(plugin / "meson.build")
    if len(layers) < 2:
        print(f"no layer map at the top of {plugin / 'meson.build'}", file=sys.stderr)
        return 2
    rank = {name: i for i, name in enumerate(layers)}
    problems = []
    files = sorted(p for p in plugin.rglob("*") if p.suffix in (".h", ".hpp", ".cpp", ".cc"))
    for path in files:
        rel = path.relative_to(plugin)
        folder = rel.parts[0] if len(rel.parts) > 1 else None
        if folder not in rank:
            problems.append(f"{rel}: folder '{folder}' is not in the layer map of plugin/meson.build")
            continue
        entry = path.name.endswith("_plugin_entry.cpp")
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1).split("/")
            if len(target) < 2 or target[0] not in rank:
                continue  # the public header (nat/trainer_adapter.h is not under plugin/) or a sibling
            if target[0] == "nat" and not (plugin / m.group(1)).exists():
                continue  # include/nat/..., the public API
            if not entry and rank[target[0]] > rank[folder]:
                problems.append(f"{rel}:{number}: {folder}/ includes {m.group(1)}, "
                                f"but {target[0]}/ is a higher layer")
            elif not entry and target[0] in forbidden.get(folder, ()):
                problems.append(f"{rel}:{number}: {folder}/ includes {m.group(1)}, "
                                f"but the layer map says {folder}/ uses no {target[0]}/")
    for p in problems:
        print(p)
    print(f"{len(files)} files checked against the layers {' < '.join(layers)}: "
          f"{len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
