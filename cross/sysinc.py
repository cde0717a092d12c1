#!/usr/bin/env python3
"""Makes DIR hold symlinks to Debian's boost, nlohmann, curl and CLI11 headers only.

The MinGW-w64 cross build adds DIR with -isystem: these header-only (or,
for curl, declaration-only) libraries are platform independent, while the
rest of /usr/include is glibc's and must not be seen.
"""
import os
import sys

SOURCES = {
    'boost': '/usr/include/boost',
    'nlohmann': '/usr/include/nlohmann',
    'curl': '/usr/include/x86_64-linux-gnu/curl',
    'CLI': '/usr/include/CLI',
}

def main():
    target = sys.argv[1]
    os.makedirs(target, exist_ok=True)
    for name, source in SOURCES.items():
        if not os.path.isdir(source):
            sys.exit(f'{source} is missing (install libboost-dev, nlohmann-json3-dev, libcurl4-openssl-dev, libcli11-dev)')
        link = os.path.join(target, name)
        if os.path.islink(link):
            os.remove(link)
        os.symlink(source, link)

if __name__ == '__main__':
    main()
