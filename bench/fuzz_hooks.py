"""Schemathesis hooks for bench/fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

- Sends generated `application/pdf` bodies as raw bytes: schemathesis has
  no serializer of its own for that media type, so without this the file
  upload operation would not be exercised at all.
- Records every response the run receives, one line each, in the file
  named by FUZZ_RESPONSES (`STATUS<TAB>OPERATION`), and every 5xx in
  FUZZ_SERVER_ERRORS as a JSON line with a curl command that repeats it.
  fuzz.sh counts server errors from these files, whichever check or phase
  sent the request.
- Keeps the run's own key (FUZZ_KEY_ID) from being revoked through
  `DELETE /v1/admin/keys/{id}`: the stateful phase follows the key list's
  ids, and a revoked key would turn the rest of the run into 401s.
"""

import json
import os
import threading

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


@schemathesis.hook
def before_call(context, case, kwargs):
    protected = os.environ.get("FUZZ_KEY_ID")
    if (
        protected
        and case.operation.path == "/v1/admin/keys/{id}"
        and (case.path_parameters or {}).get("id") == protected
    ):
        case.path_parameters["id"] = "00000000-0000-7000-8000-000000000000"


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
