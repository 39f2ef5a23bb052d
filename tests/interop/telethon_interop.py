#!/usr/bin/env python3
"""Interop check: Telethon's own MTProto stack against mtproto-testserver.

Usage: telethon_interop.py HOST PORT PEM_FILE [--expect-bad-msg]

For each of Telethon's TCP connection classes (full, intermediate, abridged):
a fresh MTProtoSender with no auth key connects (so Telethon runs its own key
exchange against our server, with our key registered through
telethon.crypto.rsa.add_key), then
  - messages.setTyping(inputPeerUser, typing) must return True,
  - messages.setTyping(inputPeerEmpty, typing) must raise an RPCError
    PEER_ID_INVALID (code 400),
  - Telethon starts with server salt 0, so it must have been corrected by a
    bad_server_salt that came top-level (not in a msg_container),
  - with --expect-bad-msg (server run with a skewed clock): a top-level
    bad_msg_notification (16/17) must have corrected Telethon's clock.
It prints "keyid CLASS ID" per handshake (unsigned decimal, as the server
logs auth_key_id) for run.sh to match against the server's log, and
"stringsession CLASS STRING" (Telethon's StringSession of that key) into
the file $STRINGSESSION_OUT (a secret: never on stdout) for run.sh to
import into our client.
Prints one line per check ("ok ..." / "FAIL ...") and a closing
"N passed, N failed" line; exits 1 if any check failed. Every network step is
under an asyncio timeout, so the script never hangs.
"""

import asyncio
import logging
import os
import sys

import telethon
from telethon.sessions import StringSession
from telethon.crypto import rsa as tl_rsa
from telethon.errors import RPCError, rpc_errors_dict
from telethon.network import (
    ConnectionTcpAbridged,
    ConnectionTcpFull,
    ConnectionTcpIntermediate,
    MTProtoSender,
)
from telethon.tl.functions.messages import SetTypingRequest
from telethon.tl.core import MessageContainer
from telethon.tl.types import (
    BadMsgNotification,
    BadServerSalt,
    InputPeerEmpty,
    InputPeerUser,
    SendMessageTypingAction,
)

EXPECTED_TELETHON = "1.45.0"
PEER_ID_INVALID = rpc_errors_dict["PEER_ID_INVALID"]
STEP_TIMEOUT = 30.0  # seconds per step (the handshake factorises pq in Python)
DC_ID = 2  # only used by Telethon for MTProxy; any value works


class Loggers(dict):
    """What TelegramBaseClient passes as `loggers`: name -> logging.Logger."""

    def __missing__(self, key):
        if key.startswith("telethon."):
            key = key.split(".", maxsplit=1)[1]
        return logging.getLogger("telethon").getChild(key)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print(f"ok   {what}", flush=True)

    def fail(self, what, why):
        self.failed += 1
        print(f"FAIL {what}: {why}", flush=True)


def watch_service_messages(sender):
    """Counts bad_server_salt / bad_msg_notification that Telethon handles,
    split by whether they came top-level or inside a msg_container. Wraps
    the sender's dispatch table (MTProtoSender._handlers, keyed by
    constructor id), so Telethon's own handlers still run."""
    seen = {"bad_server_salt_top": 0, "bad_server_salt_in_container": 0,
            "bad_msg_top": 0, "bad_msg_in_container": 0}
    depth = [0]
    h = sender._handlers

    def wrap(cid, key):
        orig = h[cid]

        async def counted(message):
            where = "top" if depth[0] == 0 else "in_container"
            seen[f"{key}_{where}"] += 1
            return await orig(message)
        h[cid] = counted

    orig_container = h[MessageContainer.CONSTRUCTOR_ID]

    async def container(message):
        depth[0] += 1
        try:
            return await orig_container(message)
        finally:
            depth[0] -= 1
    h[MessageContainer.CONSTRUCTOR_ID] = container
    wrap(BadServerSalt.CONSTRUCTOR_ID, "bad_server_salt")
    wrap(BadMsgNotification.CONSTRUCTOR_ID, "bad_msg")
    return seen


async def run_one(checks, conn_cls, host, port, expect_bad_msg):
    name = conn_cls.__name__
    loggers = Loggers()
    sender = MTProtoSender(None, loggers=loggers, retries=1, delay=0.2,
                           auto_reconnect=False, connect_timeout=10)
    conn = conn_cls(host, port, DC_ID, loggers=loggers)
    try:
        try:
            await asyncio.wait_for(sender.connect(conn), STEP_TIMEOUT)
        except Exception as e:  # noqa: BLE001 - report whatever broke
            checks.fail(f"{name}: handshake", f"{type(e).__name__}: {e}")
            # Nothing else can work without a key.
            checks.fail(f"{name}: setTyping(inputPeerUser) -> True", "no connection")
            checks.fail(f"{name}: setTyping(inputPeerEmpty) -> PEER_ID_INVALID",
                        "no connection")
            return
        key = sender.auth_key.key
        if key is not None and len(key) == 256:
            kid = sender.auth_key.key_id & 0xFFFFFFFFFFFFFFFF
            checks.ok(f"{name}: handshake (auth_key_id {kid})")
            # run.sh matches this against the server's HandshakeDone line.
            print(f"keyid {name} {kid}", flush=True)
            # Telethon's own StringSession of this key: run.sh imports it
            # into our session file and connects with it, no handshake.
            ss = StringSession()
            ss.set_dc(DC_ID, host, port)
            ss.auth_key = sender.auth_key
            # A secret (the key): into a file run.sh names, never the log.
            out = os.environ.get("STRINGSESSION_OUT")
            if out:
                with open(out, "a", encoding="ascii") as f:
                    f.write(f"stringsession {name} {ss.save()}\n")
        else:
            checks.fail(f"{name}: handshake", f"no 256-byte auth key ({key!r:.40})")
            return
        if sender._state.salt == 0:
            checks.ok(f"{name}: starts with server salt 0")
        else:
            checks.fail(f"{name}: starts with server salt 0", f"salt {sender._state.salt}")
        seen = watch_service_messages(sender)

        what = f"{name}: setTyping(inputPeerUser) -> True"
        try:
            req = SetTypingRequest(
                peer=InputPeerUser(user_id=1000001, access_hash=0x1234_5678),
                action=SendMessageTypingAction(),
            )
            r = await asyncio.wait_for(sender.send(req), STEP_TIMEOUT)
            if r is True:
                checks.ok(what)
            else:
                checks.fail(what, f"got {r!r}")
        except Exception as e:  # noqa: BLE001
            checks.fail(what, f"{type(e).__name__}: {e}")

        what = f"{name}: setTyping(inputPeerEmpty) -> PEER_ID_INVALID"
        try:
            req = SetTypingRequest(peer=InputPeerEmpty(), action=SendMessageTypingAction())
            r = await asyncio.wait_for(sender.send(req), STEP_TIMEOUT)
            checks.fail(what, f"no error, got {r!r}")
        except RPCError as e:
            # Telethon maps a known error_message to its own class by exact
            # look-up (rpc_errors_dict); such classes keep only the generic
            # base message ("BAD_REQUEST") in `e.message`, so the class is
            # what tells which error_message came over the wire.
            if type(e) is PEER_ID_INVALID and e.code == 400:
                checks.ok(f"{what} ({type(e).__name__}, code {e.code})")
            else:
                checks.fail(what, f"wrong RPCError {type(e).__name__} {e.code} {e.message}")
        except Exception as e:  # noqa: BLE001
            checks.fail(what, f"{type(e).__name__}: {e}")

        # Telethon began with salt 0, so the server must have corrected it
        # with a bad_server_salt that Telethon accepted outside a container.
        what = f"{name}: bad_server_salt received top-level, salt corrected"
        if seen["bad_server_salt_top"] >= 1 and sender._state.salt != 0:
            checks.ok(f"{what} ({seen['bad_server_salt_top']}x)")
        else:
            checks.fail(what, f"{seen}, salt now {sender._state.salt}")
        if expect_bad_msg:
            what = f"{name}: bad_msg_notification 16/17 received top-level, time offset corrected"
            if seen["bad_msg_top"] >= 1:
                checks.ok(f"{what} ({seen['bad_msg_top']}x, offset {sender._state.time_offset}s)")
            else:
                checks.fail(what, f"{seen}")
        print(f"info {name}: service messages seen {seen}", flush=True)
    finally:
        try:
            await asyncio.wait_for(sender.disconnect(), 10)
        except Exception as e:  # noqa: BLE001
            print(f"note {name}: disconnect: {type(e).__name__}: {e}", flush=True)


async def main(argv):
    expect_bad_msg = "--expect-bad-msg" in argv
    argv = [a for a in argv if a != "--expect-bad-msg"]
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, pem_path = argv[1], int(argv[2]), argv[3]
    with open(pem_path, encoding="ascii") as f:
        pem = f.read()

    checks = Checks()
    if telethon.__version__ == EXPECTED_TELETHON:
        checks.ok(f"telethon version {telethon.__version__}")
    else:
        checks.fail("telethon version", f"{telethon.__version__} != {EXPECTED_TELETHON}")

    # Register our server's key (a PKCS#1 "RSA PUBLIC KEY" PEM) with Telethon.
    tl_rsa.add_key(pem, old=False)
    fp = tl_rsa._compute_fingerprint(tl_rsa.rsa.PublicKey.load_pkcs1(pem))
    print(f"info telethon fingerprint of our key: {fp & 0xFFFFFFFFFFFFFFFF:016x}", flush=True)

    for cls in (ConnectionTcpFull, ConnectionTcpIntermediate, ConnectionTcpAbridged):
        await run_one(checks, cls, host, port, expect_bad_msg)

    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING,
                        format="telethon-log %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(main(sys.argv)))
