#!/usr/bin/env python3
"""Holds journal.json files to faultline's journal schema (docs/journal.schema.json).

    check-journal.py JOURNAL...

Prints every violation (file, the path inside it, what is wrong) and exits 1 when there is
one, 0 when every journal holds, 2 when a file cannot be read. Uses Debian's python3-jsonschema (Draft 2020-12); the
schema's own validity is checked first.
"""
import json
import pathlib
import sys

import jsonschema


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    schema = json.loads((pathlib.Path(__file__).resolve().parent.parent / "docs/journal.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for name in sys.argv[1:]:
        try:
            journal = json.loads(pathlib.Path(name).read_text())
        except (OSError, ValueError) as e:
            print(f"{name}: cannot be read as JSON: {e}", file=sys.stderr)
            return 2
        for e in sorted(validator.iter_errors(journal), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            print(f"{name}: {where}: {e.message[:300]}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
