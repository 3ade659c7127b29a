"""What the PollMasters GUI does, with the libraries it uses (requests + python-socketio),
asserting the field names and types it reads. Run with Debian's /usr/bin/python3.

usage: gui-client.py BASE_URL CHAT_ID
Prints `POLL <id>` once the poll is announced, then waits for a vote to be shown and exits 0.
Any contract break raises (exit 1) with the reason on stderr.
"""
import sys
import threading

import requests
import socketio

BASE, CHAT = sys.argv[1], sys.argv[2]
events = []
cond = threading.Condition()


def record(name):
    def handler(data=None):
        with cond:
            events.append((name, data))
            cond.notify_all()
    return handler


def wait_for(pred, what, timeout=20):
    with cond:
        if not cond.wait_for(lambda: any(pred(e) for e in events), timeout=timeout):
            raise AssertionError("timed out waiting for %s; saw %r" % (what, [e[0] for e in events]))
        return next(e for e in events if pred(e))


def check_poll(poll, where):
    assert isinstance(poll["question"], str), where
    assert isinstance(poll["options"], list) and all(isinstance(o, str) for o in poll["options"]), where
    assert isinstance(poll["results"], dict), where
    for option in poll["options"]:
        assert isinstance(poll["results"][option], int), "%s: results keyed by option text" % where
    assert isinstance(poll["voters"], dict), where
    for voter, hashes in poll["voters"].items():
        assert isinstance(voter, str) and isinstance(hashes, list), where
    assert poll["selectableCount"] in (0, 1), where


sio = socketio.Client(reconnection=False)
for name in ("client_status", "qr_code", "whatsapp_user", "initial_poll_data", "new_poll_sent", "poll_update_to_gui"):
    sio.on(name, record(name))
sio.connect(BASE, transports=["websocket"])

wait_for(lambda e: e[0] == "initial_poll_data", "initial_poll_data")
with cond:
    names = [e[0] for e in events]
assert names[0] == "client_status", "client_status comes first, got %r" % names
assert names.index("initial_poll_data") > 0
status = events[0][1]
assert status in ("ready", "qr_pending", "disconnected", "logged_out"), status
if status == "ready":
    assert names[1] == "whatsapp_user", names
    user = events[1][1]
    assert isinstance(user["id"], str) and "name" in user
for pid, poll in dict(wait_for(lambda e: e[0] == "initial_poll_data", "polls")[1]).items():
    check_poll(poll, "initial_poll_data[%s]" % pid)
    assert isinstance(poll["timestamp"], int) and poll["timestamp"] > 10 ** 12, "timestamp in ms"

r = requests.get(BASE + "/status", timeout=10)
r.raise_for_status()
assert r.json()["status"] == "ready"

r = requests.get(BASE + "/get-chats", timeout=10)
r.raise_for_status()
chats = r.json()["chats"]
assert r.json()["success"] is True
for chat in chats:
    assert isinstance(chat["id"], str) and isinstance(chat["name"], str) and isinstance(chat["isGroup"], bool)
    label = "%s (%s)" % (chat["name"], "Group" if chat["isGroup"] else "Contact")
assert any(c["id"] == CHAT for c in chats), "the chat is listed"

payload = {"chatId": CHAT, "question": "GUI poll?", "options": ["One", "Two"], "allowMultipleAnswers": False}
r = requests.post(BASE + "/send-poll", json=payload, timeout=20)
r.raise_for_status()
body = r.json()
assert body["success"] is True and isinstance(body["pollMsgId"], str), body
pid = body["pollMsgId"]

bad = requests.post(BASE + "/send-poll", json={"chatId": CHAT, "question": "", "options": []}, timeout=10)
assert bad.status_code == 400 and bad.json()["success"] is False and bad.json()["message"], bad.text

sent = wait_for(lambda e: e[0] == "new_poll_sent" and e[1]["pollMsgId"] == pid, "new_poll_sent")[1]
check_poll(sent["pollData"], "new_poll_sent")
assert sent["pollData"]["selectableCount"] == 1
assert sent["pollData"]["options"] == ["One", "Two"]
assert isinstance(sent["pollData"]["timestamp"], int) and sent["pollData"]["timestamp"] > 10 ** 12

print("POLL %s" % pid, flush=True)

update = wait_for(lambda e: e[0] == "poll_update_to_gui" and e[1]["pollMsgId"] == pid and e[1]["results"].get("Two") == 1,
                  "poll_update_to_gui with the vote")[1]
for key in ("pollMsgId", "results", "question", "options", "voters", "selectableCount"):
    assert key in update, key
check_poll(update, "poll_update_to_gui")
assert update["results"] == {"One": 0, "Two": 1}, update["results"]
assert len(update["voters"]) == 1

r = requests.get(BASE + "/get-all-poll-data", timeout=10)
r.raise_for_status()
assert r.json()["polls"][pid]["results"] == {"One": 0, "Two": 1}

sio.disconnect()
print("OK", flush=True)
