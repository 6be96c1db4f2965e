"""A tiny chat backend for resocket-server's gateway mode, standard library only.

POST /auth         the gateway's auth webhook: ?token=pass-<user> lets <user> in,
                   anything else is 401.
POST /resocket     the gateway's webhook: {"sessionId","user","channel","message"};
                   a "chat" message is answered with a "chat-reply" and its session
                   joins the room "lobby"; anything else gets no reply.
POST /publish      {"session": id, "text": …} or {"room": name, "text": …}: the
                   backend sends a "notice" through the gateway's publish API.
GET  /seen         the webhook calls received, as JSON (for the test to inspect).

Usage: RESOCKET_GATEWAY_SECRET=… python3 backend.py GATEWAY_URL  (prints
"listening on http://127.0.0.1:PORT" once ready).
"""

import hmac
import json
import os
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["RESOCKET_GATEWAY_SECRET"]
GATEWAY = sys.argv[1]
seen = []


class Backend(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"null")

    def do_GET(self):
        if self.path == "/seen":
            return self.answer(200, seen)
        self.answer(404, {"error": "no such path"})

    def do_POST(self):
        if self.path == "/auth":
            if not hmac.compare_digest(self.headers.get("x-resocket-secret", ""), SECRET):
                return self.answer(401, {"error": "not the gateway"})
            token = self.body()["query"].get("token", "")
            if not token.startswith("pass-"):
                return self.answer(401, {"error": "a valid token is required"})
            return self.answer(200, {"user": token[len("pass-"):]})
        if self.path == "/resocket":
            if not hmac.compare_digest(self.headers.get("x-resocket-secret", ""), SECRET):
                return self.answer(401, {"error": "not the gateway"})
            event = self.body()
            seen.append(event)
            message = event["message"]
            if message.get("type") != "chat":
                return self.answer(200, [])
            text = (message.get("data") or {}).get("text", "")
            reply = {"type": "chat-reply", "data": {"text": text.upper(), "by": "python"}, "replyTo": message.get("id")}
            return self.answer(200, {"replies": [reply], "join": ["lobby"]})
        if self.path == "/publish":
            order = self.body()
            target = {key: order[key] for key in ("session", "room") if key in order}
            request = urllib.request.Request(
                f"{GATEWAY}/api/publish",
                data=json.dumps({**target, "message": {"type": "notice", "data": {"text": order["text"]}}}).encode(),
                headers={"authorization": f"Bearer {SECRET}", "content-type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request) as response:
                return self.answer(200, json.loads(response.read()))
        self.answer(404, {"error": "no such path"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Backend)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
