#!/usr/bin/env python3
"""Fails when code outside a kind's own files or the registries knows about that kind.

A fault kind is one spec type in FaultlineCore (`struct X: FaultKindReader`), one effect in
FaultlineAgent (`struct X: FaultEffect`, what a host does, and its wire work `struct X: FaultWork`)
that FaultlineLinux extends into a driver (`extension X: FaultDriver`, what the runner plans); an
expectation kind is one type (`struct X: ExpectationKindReader`); a proxy toxic one type
(`struct X: Toxic`); a stop condition one type (`struct X: StopConditionKindReader`). The registries list them (FaultKinds.swift, FaultEffects.swift, FaultDrivers.swift,
ExpectationKinds.swift, ToxicKinds.swift). Anywhere else in Sources/, a
kind's type name or its key as a string literal ("kill", "load_balancing") means a switch or a
comparison over kinds has crept back in: this script names each one and exits 1.

A kind's own files are those whose name begins with its stem (KillFault -> Kill*.swift,
LoadBalancingExpectation -> LoadBalancing*.swift). A line with the comment `check-kinds: field`
names a field that happens to share a kind's key (load_balancing's `availability`).
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ROOT / "Sources"
REGISTRIES = {"FaultKinds.swift", "FaultEffects.swift", "FaultDrivers.swift", "ExpectationKinds.swift", "ToxicKinds.swift",
              "StopConditionKind.swift"}
CONFORMANCE = re.compile(r"^(?:(?:public|package)\s+)?struct\s+(\w+)\s*:\s*([\w\s,&]+?)\s*\{", re.M)
EXTENSION = re.compile(r"^extension\s+(\w+)\s*:\s*([\w\s,&]+?)\s*\{", re.M)
DECLARATION = re.compile(r"^(?:(?:public|package)\s+)?struct\s+(\w+)\b[^{]*\{", re.M)
KEY = re.compile(r'static\s+let\s+key\s*=\s*"([^"]+)"')
SUFFIXES = ("Expectation", "Fault", "Driver", "Block", "Work", "Toxic", "Stop")
KIND_PROTOCOLS = {"FaultKindReader", "ExpectationKindReader", "FaultEffect", "FaultDriver", "FaultWork", "Toxic",
                  "StopConditionKindReader"}


def stem(name: str) -> str:
    for s in SUFFIXES:
        if name.endswith(s) and len(name) > len(s):
            return name[: -len(s)]
    return name


def strip_comments(text: str) -> str:
    # Line comments only (the sources use no block comments); a `//` inside a string literal
    # would be cut too, which can only hide a match, never invent one.
    return "\n".join(re.sub(r"//.*$", "", line) for line in text.splitlines())


def main() -> int:
    files = sorted(SOURCES.rglob("*.swift"))
    texts = {f: f.read_text() for f in files}
    kinds = {}  # type name -> (stem, key or None)
    keys = {}  # type name -> its `static let key`, wherever the type is declared
    for f, text in texts.items():
        for m in DECLARATION.finditer(text):
            body = text[m.end():]
            body = body[: body.find("\n}\n") if "\n}\n" in body else len(body)]
            key = KEY.search(body)
            if key:
                keys[m.group(1)] = key.group(1)
    for f, text in texts.items():
        for m in list(CONFORMANCE.finditer(text)) + list(EXTENSION.finditer(text)):
            name, protocols = m.group(1), {p.strip() for p in re.split(r"[,&]", m.group(2))}
            if protocols & KIND_PROTOCOLS:
                kinds[name] = (stem(name), keys.get(name))
    if not kinds:
        print("check-kinds: found no kinds; is the script looking in the right place?", file=sys.stderr)
        return 1
    problems = []
    for f, text in texts.items():
        if f.name in REGISTRIES:
            continue
        # A line marked `check-kinds: field` names a field that shares a kind's key.
        code = strip_comments("\n".join("" if "check-kinds: field" in l else l for l in text.splitlines()))
        for name, (st, key) in kinds.items():
            if f.name.startswith(st):
                continue
            for lineno, line in enumerate(code.splitlines(), 1):
                if re.search(rf"\b{name}\b", line):
                    problems.append(f"{f.relative_to(ROOT)}:{lineno}: refers to the kind type '{name}'")
                if key and f'"{key}"' in line:
                    problems.append(f"{f.relative_to(ROOT)}:{lineno}: compares or names the kind key \"{key}\"")
    for p in problems:
        print(p)
    if problems:
        print(f"check-kinds: {len(problems)} place(s) know about a kind outside its own files and the registries", file=sys.stderr)
        return 1
    print(f"check-kinds: {len(kinds)} kind types, none known outside their own files and the registries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
