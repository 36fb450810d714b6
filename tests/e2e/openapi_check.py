"""Every HTTP answer the end-to-end suite gets from a daemon, checked against
schemas/openapi.json, so the spec cannot drift from what the daemon says.

conftest.py installs `record` on requests (every Session, so raw
requests.get() calls too) and checks what was recorded after each test and
at the end of the session. An answer is checked when its method and path
are an operation of the spec: its status must be documented (or a
`default`), and a JSON body must validate against that status's schema
(JSON Schema 2020-12, python3-jsonschema). Paths the spec does not describe
(tests that probe unknown routes, the OpenCode server's own answers past its
documented statuses) are left alone, and so is a streamed body nobody read.
The spec's schemas are the contract: they allow fields they do not list
(additionalProperties) unless they say otherwise, so new fields are fine
until a schema forbids them.
"""
import json
import re
import threading
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema

SPEC_PATH = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class Spec:
    def __init__(self, doc):
        self.doc = doc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.resolver = jsonschema.RefResolver.from_schema(doc)
        self.routes = []
        for template, item in doc["paths"].items():
            self.routes.append((self._pattern(template), template, item))
        # literal segments beat parameters: /files/list is not /files/{x}
        self.routes.sort(key=lambda r: -r[1].count("/") * 100 + r[1].count("{"))

    @staticmethod
    def _pattern(template):
        out = "^"
        for part in re.split(r"(\{[^}]+\})", template):
            if part == "{path}" and template.endswith("/{path}"):
                out += "(?:.*)"          # the OpenCode proxy: any rest, slashes too
            elif part.startswith("{"):
                out += "[^/]+"
            else:
                out += re.escape(part)
        return re.compile(out + "/?$")

    def operation(self, method, path):
        for pat, template, item in self.routes:
            if pat.match(path):
                op = item.get(method.lower())
                return (template, op) if op else (template, None)
        return None, None

    def _deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def check(self, method, path, status, ctype, body):
        """None if the answer conforms, else why not."""
        template, op = self.operation(method, path)
        if not op:
            return None
        responses = op.get("responses", {})
        resp = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or \
            responses.get("default")
        where = f"{method} {template} -> {status}"
        if resp is None:
            return f"{where}: status not documented (has {sorted(responses)})"
        resp = self._deref(resp)
        content = resp.get("content")
        if not content or method.upper() == "HEAD" or body is None or body == b"":
            return None
        media = (ctype or "").split(";")[0].strip().lower()
        if media not in content:
            return f"{where}: Content-Type {media!r}, documented {sorted(content)}"
        schema = content[media].get("schema")
        if media != "application/json" or schema is None:
            return None
        try:
            value = json.loads(body)
        except ValueError as exc:
            return f"{where}: body is not JSON ({exc}): {body[:200]!r}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            v = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
            errors = sorted(v.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            at = "/".join(str(p) for p in e.path) or "(top)"
            return f"{where}: body does not match the spec at {at}: {e.message[:300]}"
        return None


_spec = None
_lock = threading.Lock()
_pending = []        # responses not checked yet


def spec():
    global _spec
    if _spec is None:
        _spec = Spec(json.loads(SPEC_PATH.read_text()))
    return _spec


def record(resp):
    """Keep a daemon's answer for the next check (any thread)."""
    path = urlsplit(resp.url).path
    if path.startswith("/api/") or path == "/healthz":
        with _lock:
            _pending.append(resp)


def _body(resp):
    # A streamed body nobody read stays unread: reading it here could block.
    if getattr(resp, "_content_consumed", False) and resp._content not in (False, None):
        return resp._content
    return None


def check_pending():
    """Check and forget what was recorded; the list of problems."""
    with _lock:
        todo = list(_pending)
        _pending.clear()
    problems = []
    for r in todo:
        why = spec().check(r.request.method, urlsplit(r.url).path, r.status_code,
                           r.headers.get("Content-Type"), _body(r))
        if why:
            problems.append(why)
    return problems
