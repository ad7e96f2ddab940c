"""Schemathesis hooks for bench/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

- Sends generated `application/pdf` bodies as raw bytes: schemathesis has
  no serializer of its own for that media type, so without this the file
  upload operation would not be exercised at all.
- Records every response the run receives, one line each, in the file
  named by FUZZ_RESPONSES (`STATUS<TAB>OPERATION`), and every 5xx in
  FUZZ_SERVER_ERRORS as a JSON line with a curl command that repeats it.
  fuzz.sh counts server errors from these files, whichever check or phase
  sent the request.
- Sends, on a change of a publication or a record (PUT, PATCH, DELETE),
  `If-Match` with the ETag the resource has just then, as an editor's tool
  does (read, then write), so that the write gets past `428` to the code
  behind it. The spec does not list the header (it is a precondition, not
  data), so schemathesis would never send one. Only with FUZZ_AUTH (the
  admin run) and only where the case has none; a missing resource gets
  none and answers 404 as before.
- Keeps the run's own key (FUZZ_KEY_ID) from being revoked through
  `DELETE /v1/admin/keys/{id}`: the stateful phase follows the key list's
  ids, and a revoked key would turn the rest of the run into 401s.
"""

import json
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import schemathesis

_LOCK = threading.Lock()
_BODY_SAMPLE = 600


@schemathesis.serializer("application/pdf")
def _pdf(ctx, value):
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, list) and all(isinstance(item, int) and 0 <= item < 256 for item in value):
        return bytes(value)
    return json.dumps(value).encode("utf-8")


# The resources whose changes need If-Match, and the part of a path that
# names the resource read for its ETag (a file's publication).
_VERSIONED = re.compile(r"^(/v1/(publications|projects|organisations|fields|events)/[^/]+)(/variants/[^/]+/file)?$")


def _current_etag(path):
    base, auth = os.environ.get("FUZZ_BASE"), os.environ.get("FUZZ_AUTH")
    if not base or not auth:
        return None
    name, _, value = auth.partition(":")
    request = urllib.request.Request(base + path, headers={name: value.strip()})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("ETag")
    except (urllib.error.URLError, OSError, ValueError):
        return None


@schemathesis.hook
def before_call(context, case, kwargs):
    protected = os.environ.get("FUZZ_KEY_ID")
    if (
        protected
        and case.operation.path == "/v1/admin/keys/{id}"
        and (case.path_parameters or {}).get("id") == protected
    ):
        case.path_parameters["id"] = "00000000-0000-7000-8000-000000000000"
    if case.method.upper() in ("PUT", "PATCH", "DELETE"):
        if case.headers is not None and any(name.lower() == "if-match" for name in case.headers):
            return
        try:
            path = case.formatted_path
        except Exception:  # noqa: BLE001 - a path that cannot be made has no ETag
            return
        match = _VERSIONED.match(path)
        if match is None:
            return
        etag = _current_etag(urllib.parse.quote(match.group(1), safe="/%"))
        if etag:
            if case.headers is None:
                case.headers = {}
            case.headers["If-Match"] = etag


def _append(variable, line):
    path = os.environ.get(variable)
    if not path:
        return
    with _LOCK, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


@schemathesis.hook
def after_call(context, case, response):
    label = f"{case.method.upper()} {case.operation.path}"
    status = response.status_code
    _append("FUZZ_RESPONSES", f"{status}\t{label}")
    if status < 500:
        return
    try:
        curl = case.as_curl_command()
    except Exception:  # noqa: BLE001 - a missing repro must not hide the error
        curl = None
    body = response.content[:_BODY_SAMPLE].decode("utf-8", "replace") if response.content else ""
    _append(
        "FUZZ_SERVER_ERRORS",
        json.dumps({"status": status, "operation": label, "curl": curl, "body": body}),
    )
