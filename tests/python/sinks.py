"""Real counterparts of the hub's notification channels, for the tests: an SMTP server
(aiosmtpd) and an HTTP server standing for webhooks and the province's SMS gateway.
Each message received is appended to a JSON-lines file as it arrived, decoded by
Python's own e-mail parser, a webhook with whether its signature holds (checked here
with Python's hmac against SECRET); the SMS gateway refuses the first two messages it
is sent, as a busy gateway does. The first line on standard output names the ports.

    python3 sinks.py RECEIVED.jsonl SECRET
"""
import hashlib
import hmac
import json
import socket
import sys
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

OUT = sys.argv[1]
SECRET = sys.argv[2].encode()
LOCK = threading.Lock()
# Requests to the SMS gateway so far: the first two are refused.
SMS_SEEN = [0]


def record(entry):
    with LOCK, open(OUT, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


class Mail:
    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        record({
            "kind": "email",
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "message_id": str(message["message-id"]),
            "text": message.get_content(),
        })
        return "250 Message accepted for delivery"


class Http(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        status = 200
        if self.path == "/sms":
            with LOCK:
                SMS_SEEN[0] += 1
                if SMS_SEEN[0] <= 2:
                    status = 503
        at = self.headers.get("x-xianjie-timestamp", "")
        expected = "sha256=" + hmac.new(SECRET, f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
        record({
            "kind": "http",
            "path": self.path,
            "status": status,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "signature_ok": hmac.compare_digest(expected, self.headers.get("x-xianjie-signature", "")),
            "body": body,
        })
        answer = {"/sms": {"result": "ok"}, "/robot": {"errcode": 0, "errmsg": "ok"}}.get(self.path, {})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


smtp_port = free_port()
controller = Controller(Mail(), hostname="127.0.0.1", port=smtp_port)
controller.start()
http = ThreadingHTTPServer(("127.0.0.1", 0), Http)
print(f"ready {smtp_port} {http.server_address[1]}", flush=True)
try:
    http.serve_forever()
finally:
    controller.stop()
