#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for S3StoreTests, in front of moto_server.

    fault_proxy.py --port PORT --upstream http://127.0.0.1:MOTO_PORT

Every request is logged and forwarded to the upstream unless a rule matches its path (the
encoded path and query as sent; the first rule whose "match" is a substring of it and whose
"times" is not used up). Rules, as a JSON list posted to /__proxy/rules:

    {"match": "k-1", "times": 2, "status": 503, "code": "SlowDown"}  answer 503 with S3's XML error
    {"match": "k-2", "times": -1, "action": "hang", "seconds": 3}    wait, then close unanswered
    {"match": "k-3", "times": -1, "action": "chunked"}               forward; relay the body chunked
                                                                    (no Content-Length)
    {"match": "k-4", "method": "DELETE", "status": 503}              only requests of that method
    {"match": "/", "target": "SendMessageBatch", "action": "respond", "status": 200, "body": {...}}
                                    only JSON-protocol calls of that operation (X-Amz-Target);
                                    answer with that JSON body

"times" -1 means always. "every": N applies a rule to every Nth request it matches (a steady
rate of faults over a long run), e.g. {"match": "/", "every": 29, "status": 503, "code": "SlowDown"}. GET /__proxy/log returns the requests seen (method, path, headers,
and the rule applied), GET /__proxy/counts only how many (total, faulted, by method); POST /__proxy/reset clears rules and log. Exits when its parent does, so
a crashed test run leaves no proxy behind.
"""
import argparse
import http.client
import http.server
import json
import os
import threading
import time
import urllib.parse

LOCK = threading.Lock()
RULES = []
LOG = []
UPSTREAM = None
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.handle_request()

    do_PUT = do_HEAD = do_POST = do_DELETE = do_GET

    def handle_request(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/__proxy/"):
            return self.control(body)
        with LOCK:
            rule = None
            for r in RULES:
                if not (r["match"] in self.path and r.get("method", self.command) == self.command
                        and ("target" not in r or self.headers.get("X-Amz-Target", "").endswith("." + r["target"]))
                        and r.get("times", -1) != 0):
                    continue
                if "every" in r:
                    r["seen"] = r.get("seen", 0) + 1
                    if r["seen"] % r["every"] != 0:
                        continue
                rule = r
                break
            if rule is not None and rule.get("times", -1) > 0:
                rule["times"] -= 1
            LOG.append({
                "method": self.command,
                "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "rule": rule["match"] if rule else None,
            })
        action = rule.get("action", "status") if rule else "forward"
        if action == "status":
            return self.answer_error(rule["status"], rule.get("code"))
        if action == "respond":
            payload = json.dumps(rule.get("body", {})).encode()
            self.send_response(rule.get("status", 200))
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if action == "hang":
            time.sleep(rule.get("seconds", 5))
            self.close_connection = True
            return
        self.forward(body, chunked=action == "chunked")

    def answer_error(self, status, code):
        payload = b""
        if code and self.command != "HEAD":
            payload = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
                "<Message>injected by fault_proxy.py</Message><RequestId>0</RequestId></Error>" % code
            ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def forward(self, body, chunked):
        connection = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=30)
        headers = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
        connection.request(self.command, self.path, body=body if body else None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", response.getheader("Content-Length", "0"))
            self.end_headers()
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(payload), 1000):
                chunk = payload[start:start + 1000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def control(self, body):
        with LOCK:
            if self.path == "/__proxy/rules":
                RULES[:] = json.loads(body or b"[]")
                reply = {"ok": True}
            elif self.path == "/__proxy/reset":
                RULES.clear()
                LOG.clear()
                reply = {"ok": True}
            elif self.path == "/__proxy/log":
                reply = LOG
            elif self.path == "/__proxy/counts":
                # A long run's log is too large to fetch: its counts.
                methods = {}
                for entry in LOG:
                    methods[entry["method"]] = methods.get(entry["method"], 0) + 1
                reply = {"total": len(LOG), "faulted": sum(1 for entry in LOG if entry["rule"]), "methods": methods}
            else:
                reply = {"error": "unknown control path"}
            payload = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def exit_with_parent():
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main():
    global UPSTREAM
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    arguments = parser.parse_args()
    UPSTREAM = urllib.parse.urlsplit(arguments.upstream)
    threading.Thread(target=exit_with_parent, daemon=True).start()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", arguments.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
