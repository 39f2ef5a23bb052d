#!/usr/bin/env python3
"""Telethon's own MTProto stack as a load client, for benches/side_by_side/run.sh.

Usage: telethon_bench.py HOST PORT PUBLIC_PEM CONCURRENCY SECONDS

One MTProtoSender (Telethon 1.45, no auth key: it makes its own) over
ConnectionTcpIntermediate, then CONCURRENCY tasks that each send
messages.setTyping(inputPeerSelf, typing) and wait for the answer, again and
again, for SECONDS. Every answer is checked (True; anything else counts as an
error). One call is made before the clock starts, so the salt correction
Telethon needs (it starts with salt 0) is not measured.

Prints one JSON object, the shape `mtproto bench --json` prints, plus
"client": {"connections", "concurrency", "calls", "errors", "seconds", "rps",
"handshake_ms": {"p50", "p99"}, "latency_us": {"p50", "p90", "p99", "max"}}.
Exits 1 if a call failed, 2 on bad usage.
"""

import asyncio
import json
import logging
import sys
import time

import telethon
from telethon.crypto import rsa as tl_rsa
from telethon.network import ConnectionTcpIntermediate, MTProtoSender
from telethon.tl.functions.messages import SetTypingRequest
from telethon.tl.types import InputPeerSelf, SendMessageTypingAction

DC_ID = 2  # only used by Telethon for MTProxy
STEP_TIMEOUT = 60.0


class Loggers(dict):
    """What TelegramBaseClient passes as `loggers`: name -> logging.Logger."""

    def __missing__(self, key):
        if key.startswith("telethon."):
            key = key.split(".", maxsplit=1)[1]
        return logging.getLogger("telethon").getChild(key)


def percentile(sorted_values, q):
    """The q-quantile (0..1) of a sorted list, nearest rank."""
    if not sorted_values:
        return 0
    i = min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i]


def request():
    return SetTypingRequest(peer=InputPeerSelf(), action=SendMessageTypingAction())


async def main(argv):
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, pem_path = argv[1], int(argv[2]), argv[3]
    concurrency, seconds = int(argv[4]), float(argv[5])
    with open(pem_path, encoding="ascii") as f:
        tl_rsa.add_key(f.read(), old=False)

    loggers = Loggers()
    sender = MTProtoSender(None, loggers=loggers, retries=1, delay=0.2,
                           auto_reconnect=False, connect_timeout=30)
    t0 = time.perf_counter()
    await asyncio.wait_for(sender.connect(ConnectionTcpIntermediate(host, port, DC_ID, loggers=loggers)),
                           STEP_TIMEOUT)
    handshake_ms = (time.perf_counter() - t0) * 1000.0
    try:
        if await asyncio.wait_for(sender.send(request()), STEP_TIMEOUT) is not True:
            print("telethon: the warm-up call did not answer True", file=sys.stderr)
            return 1
        latencies = []
        errors = [0]
        first_error = []
        deadline = time.perf_counter() + seconds

        async def loop():
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    r = await asyncio.wait_for(sender.send(request()), STEP_TIMEOUT)
                    ok = r is True
                    why = f"answered {r!r}"
                except Exception as e:  # noqa: BLE001 - counted, like any wrong answer
                    ok, why = False, f"{type(e).__name__}: {e}"
                latencies.append(int((time.perf_counter() - t) * 1e6))
                if not ok:
                    errors[0] += 1
                    if not first_error:
                        first_error.append(why)

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        try:
            await asyncio.wait_for(sender.disconnect(), 10)
        except Exception:  # noqa: BLE001 - the numbers are taken already
            pass

    latencies.sort()
    out = {
        "client": f"telethon {telethon.__version__}",
        "connections": 1,
        "concurrency": concurrency,
        "calls": len(latencies),
        "errors": errors[0],
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 1),
        "handshake_ms": {"p50": round(handshake_ms, 3), "p99": round(handshake_ms, 3)},
        "latency_us": {
            "p50": percentile(latencies, 0.50),
            "p90": percentile(latencies, 0.90),
            "p99": percentile(latencies, 0.99),
            "max": latencies[-1] if latencies else 0,
        },
    }
    if first_error:
        out["first_error"] = first_error[0]
    print(json.dumps(out), flush=True)
    return 1 if errors[0] else 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING,
                        format="telethon-log %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(main(sys.argv)))
