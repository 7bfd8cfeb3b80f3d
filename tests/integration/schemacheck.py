#!/usr/bin/env python3
"""Validation of kizuki's exports against the formats' published JSON
schemas kept in tests/data/schemas (README there names their sources), with
python3-jsonschema. $refs are resolved from the local copies only: the
schemas' $ids are URLs, and nothing here touches the network.

Works with Debian 12's python3-jsonschema (4.10) and newer releases (where
RefResolver is deprecated but still present)."""

import json
import os
import urllib.parse
import warnings

import jsonschema

warnings.filterwarnings("ignore", category=DeprecationWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "data", "schemas")

STIX_BASE = ("http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/"
             "stix2.1/schemas/")


def _absolute_refs(node, base):
    """Rewrites every $ref to an absolute URL against the file's $id, in
    memory. Older jsonschema releases (Debian 12's 4.10) lose track of the
    base URL inside oneOf across files, which makes "#/definitions/..."
    resolve against the wrong document; absolute refs need no base."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                node[k] = urllib.parse.urljoin(base, v)
            else:
                _absolute_refs(v, base)
    elif isinstance(node, list):
        for v in node:
            _absolute_refs(v, base)


def _load_tree(root):
    """Every schema under root, keyed by its $id (or id, draft 4)."""
    store = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".json"):
                continue
            with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                schema = json.load(f)
            sid = schema.get("$id") or schema.get("id")
            if sid:
                _absolute_refs(schema, sid)
                store[sid] = schema
                # Some STIX files refer to their siblings over https.
                if sid.startswith("http://raw.githubusercontent.com/"):
                    store["https://" + sid[len("http://"):]] = schema
    return store


class Schemas:
    def __init__(self, sub):
        self.store = _load_tree(os.path.join(SCHEMAS, sub))

    def validator(self, sid):
        schema = self.store[sid]
        cls = jsonschema.validators.validator_for(schema)
        resolver = jsonschema.RefResolver(base_uri=sid, referrer=schema, store=self.store)
        return cls(schema, resolver=resolver, format_checker=jsonschema.FormatChecker())

    def errors(self, sid, instance):
        v = self.validator(sid)
        return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message)
                for e in v.iter_errors(instance)]


_stix = _xarf = _misp = None


def stix():
    global _stix
    if _stix is None:
        _stix = Schemas("stix")
    return _stix


def xarf():
    global _xarf
    if _xarf is None:
        _xarf = Schemas("xarf")
    return _xarf


def misp():
    global _misp
    if _misp is None:
        _misp = Schemas("misp")
    return _misp


STIX_TYPES = {
    "identity": "sdos/identity.json", "indicator": "sdos/indicator.json",
    "observed-data": "sdos/observed-data.json", "malware": "sdos/malware.json",
    "tool": "sdos/tool.json", "vulnerability": "sdos/vulnerability.json",
    "attack-pattern": "sdos/attack-pattern.json", "sighting": "sros/sighting.json",
    "ipv4-addr": "observables/ipv4-addr.json", "ipv6-addr": "observables/ipv6-addr.json",
    "autonomous-system": "observables/autonomous-system.json",
    "marking-definition": "common/marking-definition.json",
    "extension-definition": "common/extension-definition.json",
}


def stix_errors(bundle):
    """The bundle against bundle.json, and each object against its type's
    schema. Returns a list of messages (empty when valid)."""
    s = stix()
    # The published bundle.json predates extension-definition objects: its
    # list of known types lacks them, and its branch for custom objects
    # asks for exactly one of core and cyber-observable-core, which any
    # object with a type and an id satisfies both of. So the bundle is
    # checked without them, and they are checked against their own
    # schema (extension-definition.json) below.
    shell = dict(bundle, objects=[o for o in bundle.get("objects", [])
                                  if o.get("type") != "extension-definition"])
    errs = ["bundle: " + e for e in s.errors(STIX_BASE + "common/bundle.json", shell)]
    for i, obj in enumerate(bundle.get("objects", [])):
        t = obj.get("type")
        if t not in STIX_TYPES:
            errs.append("object %d: type %r has no schema here" % (i, t))
            continue
        errs += ["object %d (%s): %s" % (i, obj.get("id"), e)
                 for e in s.errors(STIX_BASE + STIX_TYPES[t], obj)]
    return errs


def xarf_errors(report):
    return xarf().errors("https://xarf.org/schemas/v4/xarf-v4-master.json", report)


def misp_errors(event):
    return misp().errors("https://github.com/MISP/MISP/blob/2.4/format/2.4/schema.json", event)
