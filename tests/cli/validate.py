#!/usr/bin/env python3
"""Validates run documents against doc/report-schema.json.

    validate.py SCHEMA FILE...    prints "ok FILE" or "FAIL FILE: why" per
                                  file; exits 1 if any failed
"""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        try:
            errors = list(validator.iter_errors(json.load(open(path))))
        except ValueError as e:
            errors = [e]
        for e in errors[:3]:
            print(f"FAIL {path}: {getattr(e, 'json_path', '')} {getattr(e, 'message', e)}")
        if not errors:
            print(f"ok {path}")
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
