#!/usr/bin/env python3
"""CloudWatch RPC v2 CBOR translating proxy in front of moto, for tests.

aws-sdk-cloudwatch (Rust) speaks Smithy RPC v2 CBOR; moto only speaks awsQuery/JSON for
CloudWatch. This proxy lets the real SDK talk to moto:

  SDK --CBOR--> proxy --awsJson 1.0 or awsQuery--> moto --JSON or XML--> proxy --CBOR--> SDK

Every operation of botocore's CloudWatch model is translated generically:

* request:  botocore's RpcV2CBORParser decodes the CBOR body onto the operation's input
            shape (the request body is the input shape in the same CBOR data model that a
            response body uses for the output shape, so the response parser fits), and
            botocore's JSONSerializer (--moto-protocol json, the default) or
            QuerySerializer (--moto-protocol query) re-encodes it for moto;
* response: botocore's JSONParser or QueryParser reads moto's answer onto the output
            shape, and the CBOR encoding helpers of botocore's RpcV2CBORSerializer write it
            back as CBOR (timestamps as tag 1 + epoch seconds);
* errors:   moto's error (code, message, Sender/Receiver) becomes a CBOR error body
            (`__type`, `message`) plus the `x-amzn-query-error: Code;Sender|Receiver`
            header that CloudWatch's awsQueryCompatible trait adds, and that the SDK takes
            the error code from.

JSON is the default because moto parses a large awsQuery form in quadratic time: a
1000-datum PutMetricData costs ~3.4 s as a form and ~0.1 s as JSON. Both reach the same
moto backend; the query wire is kept (and tested) as the protocol CloudWatch is
query-compatible with.

Control endpoints (JSON), for the tests that drive failure modes:

  POST /_proxy/faults  {"operation": "PutMetricData", "kind": K, "count": N}
       the next N requests of that operation get fault K without reaching moto:
       throttling  -> 400 Throttling
       invalid     -> 400 InvalidParameterValue (message names MetricData.member.1.Value)
       unavailable -> 503 ServiceUnavailable
  GET  /_proxy/stats   {"PutMetricData": {"received", "injected", "forwarded",
                        "datums_forwarded", "accepted", "datums_accepted",
                        "compressed"}, ...}
       received: every request; injected: answered with a fault; forwarded: sent to moto;
       accepted: moto answered 2xx; compressed: the body came gzip-encoded.
  GET  /_proxy/datums[?namespace=NS]  every PutMetricData datum moto accepted (HTTP 200),
       in arrival order, exactly as the SDK sent it (original timestamps, dimensions,
       StorageResolution): what moto's own API cannot give back per datum.
  POST /_proxy/reset   clears faults, counters and the datum log.

With --state-dir, that state lives in files there, so it survives the proxy being stopped
and started again on the same port (how tests simulate a CloudWatch outage).

Logs go to stderr only; stdout carries nothing but the `LISTENING <port>` line.
"""

import argparse
import datetime
import fractions
import gzip
import http.client
import http.server
import json
import math
import os
import re
import signal
import sys
import tempfile
import threading
import traceback
import urllib.parse
import zlib

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session
from botocore.parsers import JSONParser, QueryParser, RpcV2CBORParser
from botocore.serialize import JSONSerializer, QuerySerializer, RpcV2CBORSerializer
from botocore.utils import parse_timestamp

SERVICE = botocore.session.get_session().get_service_model("cloudwatch")
# The Smithy namespace of CloudWatch's shapes: the SDK strips it from `__type`, but real
# responses carry it, so ours do too.
SHAPE_NAMESPACE = "com.amazonaws.cloudwatch"
PATH_RE = re.compile(
    r"^/service/" + re.escape(SERVICE.metadata["targetPrefix"]) + r"/operation/([A-Za-z0-9]+)$"
)
# The SDK signs with a credential scope `<key>/<date>/<region>/monitoring/aws4_request`;
# the region there selects moto's regional backend, so it is kept.
REGION_RE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")

FAULTS = {
    # kind: (HTTP status, query error code, fault side, shape name for `__type`, message)
    "throttling": (400, "Throttling", "Sender", "ThrottlingException", "Rate exceeded"),
    "invalid": (
        400,
        "InvalidParameterValue",
        "Sender",
        "InvalidParameterValueException",
        "The value NaN for parameter MetricData.member.1.Value is invalid.",
    ),
    "unavailable": (
        503,
        "ServiceUnavailable",
        "Receiver",
        "ServiceUnavailableException",
        "Service Unavailable",
    ),
}

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def log(message):
    print(f"cloudwatch_proxy: {message}", file=sys.stderr, flush=True)


def utc_from_epoch(value):
    # CBOR tag 1 carries epoch seconds; moto and the query serializer want aware UTC
    # datetimes (the default parser would attach the local time zone).
    return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)


def utc_from_moto(value):
    # moto's timestamps (ISO 8601 text in XML, epoch seconds in JSON), as aware UTC
    # datetimes too: UTC keeps the local zone out of the CBOR encoding and the logs.
    # A stamp without a zone is UTC, as in AWS.
    if isinstance(value, (int, float)):
        return utc_from_epoch(value)
    parsed = parse_timestamp(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


# CBOR request bodies: blobs are raw bytes already (no base64 as in JSON/XML).
REQUEST_PARSER = RpcV2CBORParser(timestamp_parser=utc_from_epoch, blob_parser=lambda b: b)


class QueryWire:
    """awsQuery to moto: a form in, XML out (what CloudWatch is query-compatible with)."""

    name = "query"
    serializer = QuerySerializer()
    parser = QueryParser(timestamp_parser=utc_from_moto)

    def encode(self, params, operation):
        form = self.serializer.serialize_to_request(params, operation)["body"]
        content_type = "application/x-www-form-urlencoded; charset=utf-8"
        return urllib.parse.urlencode(form).encode(), {"Content-Type": content_type}


class JsonWire:
    """awsJson 1.0 to moto. Same moto backend, but moto parses a large awsQuery form in
    quadratic time (a 1000-datum PutMetricData takes ~3.4 s as a form, ~0.1 s as JSON)."""

    name = "json"
    serializer = JSONSerializer()
    parser = JSONParser(timestamp_parser=utc_from_moto)

    def encode(self, params, operation):
        request = self.serializer.serialize_to_request(params, operation)
        return request["body"], dict(request["headers"])


WIRES = {wire.name: wire for wire in (QueryWire(), JsonWire())}


class CborWriter(RpcV2CBORSerializer):
    """RpcV2CBORSerializer's shape-driven CBOR encoding, without its HTTP request framing."""

    def encode(self, value, shape):
        if shape is None:
            # Operations without an output shape answer an empty CBOR map.
            return b"\xa0"
        out = bytearray()
        self._serialize_data_item(out, value, shape)
        return bytes(out)

    def _serialize_type_timestamp(self, serialized, value, shape, key):
        # Tag 1 + epoch seconds, as the base class does, but with a float never below the
        # instant: the SDK truncates decoded timestamps to whole milliseconds, so the
        # nearest double of e.g. x.760 s (which may be x.7599999...) would come out as x.759.
        micros = (value - EPOCH) // datetime.timedelta(microseconds=1)
        serialized.extend(self._get_initial_byte(self.TAG_MAJOR_TYPE, 1))
        if micros % 1_000_000 == 0:
            self._serialize_type_integer(serialized, micros // 1_000_000, shape, key)
            return
        seconds = micros / 1_000_000
        if fractions.Fraction(seconds) < fractions.Fraction(micros, 1_000_000):
            seconds = math.nextafter(seconds, math.inf)
        self._serialize_type_double(serialized, seconds, shape, key)

    def encode_plain_map(self, value):
        # Error bodies are {`__type`, `message`}: strings only, no shape needed.
        info, size = self._get_additional_info_and_num_bytes(len(value))
        out = bytearray(self._get_initial_byte(self.MAP_MAJOR_TYPE, info))
        if size:
            out += len(value).to_bytes(size, "big")
        for key, item in value.items():
            self._serialize_type_string(out, key, None, None)
            self._serialize_type_string(out, item, None, None)
        return bytes(out)


CBOR = CborWriter()


def error_shape_for(code):
    """The modeled error shape whose awsQuery code is `code` (None when not modeled)."""
    for shape in SERVICE.error_shapes:
        if shape.metadata.get("error", {}).get("code", shape.name) == code:
            return shape
    return None


def epoch_ms(value):
    return int(round(value.timestamp() * 1000))


def datum_record(namespace, datum):
    """One PutMetricData datum as JSON, with the values the SDK sent (for /_proxy/datums)."""
    record = {"Namespace": namespace, "MetricName": datum.get("MetricName")}
    record["Dimensions"] = {d["Name"]: d.get("Value") for d in datum.get("Dimensions", [])}
    if "Timestamp" in datum:
        record["Timestamp"] = epoch_ms(datum["Timestamp"])
    for key in ("Value", "Values", "Counts", "StatisticValues", "Unit", "StorageResolution"):
        if key in datum:
            record[key] = datum[key]
    return record


class State:
    """Faults, counters and the accepted-datum log; kept in files when --state-dir is set."""

    def __init__(self, state_dir):
        self.lock = threading.Lock()
        self.state_dir = state_dir
        self.faults = []  # [{"operation", "kind", "count"}], served first to last
        self.stats = {}
        self.datums = []
        if state_dir:
            os.makedirs(state_dir, exist_ok=True)
            self._load()

    def _paths(self):
        return (
            os.path.join(self.state_dir, "proxy-state.json"),
            os.path.join(self.state_dir, "accepted-datums.jsonl"),
        )

    def _load(self):
        state_path, datums_path = self._paths()
        if os.path.exists(state_path):
            with open(state_path) as f:
                saved = json.load(f)
            self.faults = saved.get("faults", [])
            self.stats = saved.get("stats", {})
        if os.path.exists(datums_path):
            with open(datums_path) as f:
                self.datums = [json.loads(line) for line in f if line.strip()]

    def _save(self, new_datums=()):
        # Called with the lock held. The counters file is replaced atomically so a proxy
        # killed mid-write leaves the previous version, not half a file.
        if not self.state_dir:
            return
        state_path, datums_path = self._paths()
        fd, tmp = tempfile.mkstemp(dir=self.state_dir)
        with os.fdopen(fd, "w") as f:
            json.dump({"faults": self.faults, "stats": self.stats}, f)
        os.replace(tmp, state_path)
        if new_datums:
            with open(datums_path, "a") as f:
                for record in new_datums:
                    f.write(json.dumps(record) + "\n")

    def _counters(self, operation):
        return self.stats.setdefault(
            operation,
            {
                "received": 0,
                "injected": 0,
                "forwarded": 0,
                "datums_forwarded": 0,
                "accepted": 0,
                "datums_accepted": 0,
                "compressed": 0,
            },
        )

    def receive(self, operation, compressed):
        """Counts a request; returns the fault kind to answer with, or None to forward."""
        with self.lock:
            counters = self._counters(operation)
            counters["received"] += 1
            # Lets tests prove that large PutMetricData bodies really came gzip-encoded.
            counters["compressed"] += int(compressed)
            kind = None
            for fault in self.faults:
                if fault["operation"] == operation and fault["count"] > 0:
                    fault["count"] -= 1
                    kind = fault["kind"]
                    counters["injected"] += 1
                    break
            self.faults = [f for f in self.faults if f["count"] > 0]
            self._save()
            return kind

    def forwarded(self, operation, datums):
        with self.lock:
            counters = self._counters(operation)
            counters["forwarded"] += 1
            counters["datums_forwarded"] += datums
            self._save()

    def accepted(self, operation, records):
        with self.lock:
            counters = self._counters(operation)
            counters["accepted"] += 1
            counters["datums_accepted"] += len(records)
            self.datums.extend(records)
            self._save(records)

    def add_fault(self, operation, kind, count):
        with self.lock:
            self.faults.append({"operation": operation, "kind": kind, "count": count})
            self._save()

    def reset(self):
        with self.lock:
            self.faults, self.stats, self.datums = [], {}, []
            if self.state_dir:
                _, datums_path = self._paths()
                if os.path.exists(datums_path):
                    os.remove(datums_path)
            self._save()

    def snapshot_stats(self):
        with self.lock:
            return json.loads(json.dumps(self.stats))

    def snapshot_datums(self, namespace):
        with self.lock:
            return [d for d in self.datums if namespace is None or d["Namespace"] == namespace]


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 so the SDK's pooled keep-alive connections work; every answer therefore
    # carries a Content-Length.
    protocol_version = "HTTP/1.1"
    server_version = "cloudwatch-proxy"

    def log_message(self, fmt, *args):
        log(fmt % args)

    # ---- plumbing -------------------------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    # Trailer lines until the blank line that ends the message.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # PutMetricData request compression: the SDK gzips bodies over its threshold.
        self.compressed = "gzip" in self.headers.get("Content-Encoding", "").lower()
        if self.compressed:
            body = gzip.decompress(body)
        return body

    def send(self, status, body, headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, value):
        self.send(status, json.dumps(value).encode(), {"Content-Type": "application/json"})

    def send_cbor(self, status, body, extra=None):
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
        headers.update(extra or {})
        self.send(status, body, headers)

    def send_cbor_error(self, status, code, side, shape_name, message):
        body = CBOR.encode_plain_map(
            {"__type": f"{SHAPE_NAMESPACE}#{shape_name}", "message": message}
        )
        self.send_cbor(status, body, {"x-amzn-query-error": f"{code};{side}"})

    # ---- routes ---------------------------------------------------------------------

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_proxy/stats":
            self.send_json(200, self.server.state.snapshot_stats())
        elif url.path == "/_proxy/datums":
            query = urllib.parse.parse_qs(url.query)
            namespace = query.get("namespace", [None])[0]
            self.send_json(200, self.server.state.snapshot_datums(namespace))
        else:
            self.send_json(404, {"error": f"no such endpoint: GET {url.path}"})

    def do_POST(self):
        try:
            body = self.read_body()
        except (ValueError, OSError, EOFError, zlib.error) as e:
            # Where the next request would start is unknown: end the connection.
            self.close_connection = True
            self.send_json(400, {"error": f"unreadable request body: {e}"})
            return
        if self.path == "/_proxy/faults":
            self.post_fault(body)
        elif self.path == "/_proxy/reset":
            self.server.state.reset()
            self.send_json(200, {"status": "ok"})
        else:
            match = PATH_RE.match(self.path)
            if match is None:
                self.send_cbor_error(
                    404, "UnknownOperation", "Sender", "UnknownOperationException",
                    f"no CloudWatch operation at {self.path}",
                )
                return
            self.call(match.group(1), body)

    def post_fault(self, body):
        try:
            spec = json.loads(body)
            operation, kind, count = spec["operation"], spec["kind"], int(spec["count"])
        except (ValueError, KeyError, TypeError) as e:
            self.send_json(400, {"error": f"bad fault spec: {e}"})
            return
        if kind not in FAULTS or operation not in SERVICE.operation_names or count < 0:
            self.send_json(400, {"error": f"unknown fault {kind!r} or operation {operation!r}"})
            return
        self.server.state.add_fault(operation, kind, count)
        self.send_json(200, {"status": "ok"})

    # ---- the translation ------------------------------------------------------------

    def call(self, name, body):
        # A stop never lands between moto's answer and the client's: a call is either
        # refused unforwarded (the outage the client must survive) or answered whole.
        if not self.server.calls.enter():
            self.close_connection = True
            return
        try:
            self.call_within_gate(name, body)
        finally:
            self.server.calls.leave()

    def call_within_gate(self, name, body):
        if name not in SERVICE.operation_names:
            self.send_cbor_error(
                404, "UnknownOperation", "Sender", "UnknownOperationException",
                f"unknown operation {name}",
            )
            return
        state = self.server.state
        operation = SERVICE.operation_model(name)

        kind = state.receive(name, self.compressed)
        if kind is not None:
            log(f"{name}: injected fault {kind}")
            self.send_cbor_error(*FAULTS[kind])
            return

        try:
            params = self.decode_input(operation, body)
        except Exception as e:  # noqa: BLE001 - any decode failure is the client's problem
            log(f"{name}: undecodable CBOR request: {e}\n{traceback.format_exc()}")
            self.send_cbor_error(
                400, "SerializationException", "Sender", "SerializationException",
                f"cannot decode the CBOR request: {e}",
            )
            return

        wire = self.server.wire
        moto_body, moto_headers = wire.encode(params, operation)
        region = self.region()
        datums = params.get("MetricData", []) if name == "PutMetricData" else []
        state.forwarded(name, len(datums))
        try:
            status, headers, answer = self.server.post_to_moto(moto_body, moto_headers, region)
        except OSError as e:
            log(f"{name}: moto unreachable: {e}")
            self.send_cbor_error(
                502, "InternalServiceError", "Receiver", "InternalServiceFault",
                f"proxy could not reach moto: {e}",
            )
            return

        if 200 <= status < 300:
            try:
                result = wire.parser.parse(
                    {"body": answer, "headers": headers, "status_code": status},
                    operation.output_shape,
                )
                result.pop("ResponseMetadata", None)
                encoded = CBOR.encode(result, operation.output_shape)
            except Exception as e:  # noqa: BLE001 - report moto's odd answer, keep serving
                log(f"{name}: cannot translate moto's answer: {e}\n{answer[:2000]!r}")
                self.send_cbor_error(
                    500, "InternalServiceError", "Receiver", "InternalServiceFault",
                    f"proxy could not translate moto's answer: {e}",
                )
                return
            if name == "PutMetricData":
                namespace = params.get("Namespace")
                state.accepted(name, [datum_record(namespace, d) for d in datums])
            else:
                state.accepted(name, [])
            self.send_cbor(200, encoded)
        else:
            self.relay_error(name, status, headers, answer)

    def decode_input(self, operation, body):
        if operation.input_shape is None or not body:
            return {}
        params = REQUEST_PARSER.parse(
            {"body": body, "headers": {}, "status_code": 200}, operation.input_shape
        )
        params.pop("ResponseMetadata", None)
        return params

    def relay_error(self, name, status, headers, answer):
        try:
            # With JSON, botocore takes the query code from moto's own x-amzn-query-error.
            parsed = self.server.wire.parser.parse(
                {"body": answer, "headers": headers, "status_code": status}, None
            )
            error = parsed.get("Error", {})
        except Exception:  # noqa: BLE001 - moto's 500 pages are neither XML nor JSON
            error = {}
        code = error.get("Code") or ("InternalServiceError" if status >= 500 else str(status))
        message = error.get("Message") or answer[:500].decode("utf-8", "replace")
        side = error.get("Type") or ("Receiver" if status >= 500 else "Sender")
        shape = error_shape_for(code)
        shape_name = shape.name if shape is not None else code
        log(f"{name}: moto answered {status} {code}: {message}")
        self.send_cbor_error(status, code, side, shape_name, message)

    def region(self):
        match = REGION_RE.search(self.headers.get("Authorization", ""))
        return match.group(1) if match else "us-east-1"


class CallGate:
    """Counts CloudWatch calls in flight; once closed, admits no new one."""

    def __init__(self):
        self.cond = threading.Condition()
        self.in_flight = 0
        self.closed = False

    def enter(self):
        with self.cond:
            if self.closed:
                return False
            self.in_flight += 1
            return True

    def leave(self):
        with self.cond:
            self.in_flight -= 1
            self.cond.notify_all()

    def close_and_drain(self, timeout):
        with self.cond:
            self.closed = True
            return self.cond.wait_for(lambda: self.in_flight == 0, timeout)


class Stop(Exception):
    """SIGTERM: leave serve_forever in the main thread."""


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, moto_url, state, wire):
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state
        self.wire = wire
        self.calls = CallGate()
        moto = urllib.parse.urlsplit(moto_url)
        self.moto_host = moto.hostname
        self.moto_port = moto.port or 80

    def post_to_moto(self, body, headers, region):
        # moto picks the service from the signature's credential scope, so the request is
        # signed for `monitoring` like a real client would sign it.
        request = botocore.awsrequest.AWSRequest(
            method="POST",
            url=f"http://{self.moto_host}:{self.moto_port}/",
            data=body,
            headers=headers,
        )
        credentials = botocore.credentials.Credentials("testing", "testing")
        botocore.auth.SigV4Auth(credentials, "monitoring", region).add_auth(request)
        conn = http.client.HTTPConnection(self.moto_host, self.moto_port, timeout=30)
        try:
            conn.request("POST", "/", body=body, headers=dict(request.headers.items()))
            response = conn.getresponse()
            answer = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return response.status, headers, answer
        finally:
            conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listen", type=int, default=0, help="port on 127.0.0.1; 0 picks one")
    parser.add_argument("--moto", required=True, help="moto's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--state-dir", help="keep faults, counters and datums here")
    parser.add_argument(
        "--moto-protocol",
        choices=sorted(WIRES),
        default="json",
        help="how to talk to moto (default json: moto parses large query forms slowly)",
    )
    args = parser.parse_args()

    server = Server(args.listen, args.moto, State(args.state_dir), WIRES[args.moto_protocol])
    print(f"LISTENING {server.server_address[1]}", flush=True)
    log(
        f"listening on 127.0.0.1:{server.server_address[1]}, forwarding to {args.moto} "
        f"({args.moto_protocol})"
    )
    def on_sigterm(_signum, _frame):
        raise Stop()

    # SIGTERM is a graceful stop (tests take CloudWatch down with it): new calls are
    # refused, calls in flight finish, then the process ends even with idle keep-alive
    # connections open (their threads are daemons).
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, Stop):
        pass
    server.socket.close()
    if not server.calls.close_and_drain(timeout=20):
        log("stopping with calls still in flight after 20 s")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
