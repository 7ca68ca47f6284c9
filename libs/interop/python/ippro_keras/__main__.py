"""The converter's process: `python -m ippro_keras serve` answers JSON requests, one per line.

Its first line on stdout is {"ready": true, "versions": {...}} (or the environment's fault); then each
request {"id", "op": "import" | "export", ...} gets one line {"id", "ok": true, "result"}
or {"id", "ok": false, "kind": "bad_input" | "failure", "message"}. Everything else Keras and
TensorFlow print goes to stderr, so stdout carries the protocol only."""

import json
import os
import sys
import traceback


def _protocol_stream():
    # Keep the real stdout for the protocol and send fd 1 (prints, TensorFlow logs) to stderr.
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


def _handle(request):
    operation = request.get("op")
    if operation == "import":
        from .importer import import_model

        return import_model(request["source"], request["out"])
    if operation == "export":
        from .exporter import export_model

        return export_model(request["model"], request["out"], request["format"])
    raise ValueError(f"unknown operation {operation!r}")


def serve():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    protocol = _protocol_stream()
    from .environment import check_environment
    from .errors import BadInput

    def send(message):
        protocol.write(json.dumps(message) + "\n")

    try:
        versions = check_environment()
    except BadInput as error:
        send({"ready": False, "kind": "bad_input", "message": str(error)})
        return 2
    send({"ready": True, "versions": versions})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            send({"id": request.get("id"), "ok": True, "result": _handle(request)})
        except BadInput as error:
            send({"id": request.get("id"), "ok": False, "kind": "bad_input", "message": str(error)})
        except Exception as error:  # reported to the caller; the process stays up for the next request
            traceback.print_exc(file=sys.stderr)
            send({"id": request.get("id"), "ok": False, "kind": "failure", "message": f"{type(error).__name__}: {error}"})
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["serve"]:
        sys.stderr.write("usage: python -m ippro_keras serve\n")
        sys.exit(2)
    sys.exit(serve())
