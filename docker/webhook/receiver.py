#!/usr/bin/env python3
"""The compose lab's bot: receives callclip's notifications, answers each incoming call, records
the caller until # (or silence), downloads the WAV into $RECORDINGS and hangs up.
Standard library only, so it runs on a bare python:3-slim image."""
import json, os, threading, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = os.environ.get("CALLCLIP_API", "http://10.77.0.2:8080")
TOKEN = os.environ.get("CALLCLIP_TOKEN", "lab-token")
CALLBACK = os.environ.get("CALLBACK_URL", "http://10.77.0.5:9000/callback")
OUT = os.environ.get("RECORDINGS", "/recordings")


def request(method, url, body=None, token=TOKEN):
    req = urllib.request.Request(url if url.startswith("http") else API + url, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def handle(n):
    data, change = n.get("resourceData") or {}, n.get("changeType")
    kind, call = data.get("@odata.type", ""), "/communications/calls/" + n["resourceUrl"].split("/")[3]
    print(change, kind, data.get("state") or data.get("completionReason") or "", call, flush=True)
    if kind.endswith(".call") and data.get("state") == "incoming":
        request("POST", call + "/answer", {"callbackUri": CALLBACK, "acceptedModalities": ["audio"],
                "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"}})
    elif kind.endswith(".call") and data.get("state") == "established":
        request("POST", call + "/record", {"playBeep": True, "stopTones": ["#"], "maxSilenceTimeoutInSeconds": 3,
                                           "maxRecordDurationInSeconds": 60, "clientContext": "compose-lab"})
    elif kind.endswith("recordOperation") and change == "deleted" and data.get("recordingLocation"):
        wav = request("GET", data["recordingLocation"], token=data["recordingAccessToken"])
        path = os.path.join(OUT, "%s.wav" % data["id"])
        with open(path, "wb") as f:
            f.write(wav)
        print("saved", path, len(wav), "bytes,", data.get("completionReason"), flush=True)
        request("DELETE", call)


class Callback(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.send_response(202)
        self.end_headers()
        for n in body.get("value", []):  # act after answering, so callclip is never kept waiting
            threading.Thread(target=handle, args=(n,), daemon=True).start()


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    ThreadingHTTPServer(("0.0.0.0", 9000), Callback).serve_forever()
