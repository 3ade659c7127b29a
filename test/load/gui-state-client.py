"""A GUI-like Socket.IO client for the load test (python-socketio, as the PollMasters GUI uses).
Run with Debian's /usr/bin/python3.

usage: gui-state-client.py BASE_URL [TOKEN]

Keeps the poll list the way the GUI does: `initial_poll_data` replaces it, `new_poll_sent`
adds a poll, `poll_update_to_gui` replaces that poll's results, voters (and question,
options, selectableCount). Prints `READY` once connected and given the initial data.
Commands on stdin, one per line:
  DUMP  prints `STATE <json>` with {"polls": ..., "events": {name: count}}
  QUIT  disconnects and exits 0
"""
import json
import sys
import threading

import socketio

BASE = sys.argv[1]
TOKEN = sys.argv[2] if len(sys.argv) > 2 else None
lock = threading.Lock()
polls = {}
counts = {}
ready = threading.Event()


def count(name):
    counts[name] = counts.get(name, 0) + 1


sio = socketio.Client(reconnection=False)


@sio.on("initial_poll_data")
def on_initial(data):
    global polls
    with lock:
        count("initial_poll_data")
        polls = dict(data)
    ready.set()


@sio.on("new_poll_sent")
def on_new(data):
    with lock:
        count("new_poll_sent")
        polls[data["pollMsgId"]] = data["pollData"]


@sio.on("poll_update_to_gui")
def on_update(data):
    with lock:
        count("poll_update_to_gui")
        poll = polls.get(data["pollMsgId"])
        if poll is None:
            # The GUI keys its tree by id; an update for a poll it never saw is a contract break.
            count("update_for_unknown_poll")
            return
        for key in ("results", "voters", "question", "options", "selectableCount"):
            poll[key] = data[key]


@sio.on("client_status")
def on_status(data):
    with lock:
        count("client_status")


sio.connect(BASE, transports=["websocket"], auth={"token": TOKEN} if TOKEN else None)
if not ready.wait(30):
    sys.stderr.write("no initial_poll_data within 30 s\n")
    sys.exit(1)
print("READY", flush=True)

for line in sys.stdin:
    cmd = line.strip()
    if cmd == "DUMP":
        with lock:
            text = json.dumps({"polls": polls, "events": counts}, separators=(",", ":"))
        print("STATE " + text, flush=True)
    elif cmd == "QUIT":
        break
sio.disconnect()
