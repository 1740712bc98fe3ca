"""Drives `faultline proxy` with toxiproxy-python, the Toxiproxy client from PyPI, as a
Toxiproxy user's test suite would: proxies created, listed, disabled and re-enabled, toxics
added, listed, removed, populate and reset; each effect checked with real traffic.

Usage: python toxiproxy_client.py API_PORT ECHO_PORT. Exits non-zero on the first failed check.
"""
import socket
import sys
import time

from toxiproxy import Toxiproxy
from toxiproxy.exceptions import NotFound, ProxyExists

api_port, echo_port = int(sys.argv[1]), int(sys.argv[2])
server = Toxiproxy()
server.update_api_consumer("127.0.0.1", api_port)
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        print("FAILED:", what)
        sys.exit(1)


def round_trip(listen):
    """ms for 4 bytes through the echo behind `listen`; None if it cannot connect."""
    host, port = listen.rsplit(":", 1)
    try:
        c = socket.create_connection((host, int(port)), timeout=3)
    except OSError:
        return None
    with c:
        c.settimeout(1)
        t = time.monotonic()
        try:
            c.sendall(b"ping")
            got = b""
            while len(got) < 4:
                b = c.recv(16)
                if not b:
                    return None
                got += b
        except OSError:  # a timeout, or a reset
            return None
        return (time.monotonic() - t) * 1000


check(server.running(), "the API answers on its port")
check(b"version" in server.version(), "version: %r" % server.version())
server.destroy_all()
check(server.proxies() == {}, "no proxies at start")

echo = "127.0.0.1:%d" % echo_port
p = server.create(upstream=echo, name="echo")
check(p.name == "echo" and p.upstream == echo and p.enabled, "created as asked")
check(not p.listen.endswith(":0"), "listen reports the port chosen: %s" % p.listen)
try:
    server.create(upstream=echo, name="echo")
    check(False, "a second proxy of the same name is refused")
except ProxyExists:
    check(True, "409 for a duplicate proxy")
check(list(server.proxies().keys()) == ["echo"], "listed")
base = round_trip(p.listen)
check(base is not None and base < 50, "forwards: %s ms" % base)

p.add_toxic(type="latency", attributes={"latency": 150, "jitter": 0})
toxics = p.toxics()
check(list(toxics.keys()) == ["latency_downstream"], "toxic listed with its default name: %s" % list(toxics))
t = toxics["latency_downstream"]
check(t.type == "latency" and t.stream == "downstream" and t.toxicity == 1.0, "toxic fields")
check(t.attributes == {"latency": 150, "jitter": 0}, "toxic attributes: %s" % t.attributes)
slow = round_trip(p.listen)
check(slow is not None and 150 <= slow < 200, "latency 150 ms: %s ms" % slow)
p.add_toxic(type="latency", stream="upstream", name="up", attributes={"latency": 100})
both = round_trip(p.listen)
check(both is not None and 250 <= both < 300, "upstream 100 + downstream 150: %s ms" % both)
p.destroy_toxic("up")
p.destroy_toxic("latency_downstream")
check(p.toxics() == {}, "toxics removed")
fast = round_trip(p.listen)
check(fast is not None and fast < 50, "fast again: %s ms" % fast)

with p.down():
    check(round_trip(p.listen) is None, "down: connections refused")
    check(server.get_proxy("echo").enabled is False, "down: listed as disabled")
check(round_trip(p.listen) is not None, "up again after the context")

for kind, attributes in [
    ("bandwidth", {"rate": 100}),
    ("slow_close", {"delay": 10}),
    ("timeout", {"timeout": 100}),
    ("reset_peer", {"timeout": 100}),
    ("slicer", {"average_size": 2, "size_variation": 1, "delay": 10}),
    ("limit_data", {"bytes": 2}),
]:
    p.add_toxic(type=kind, attributes=attributes)
    got = p.get_toxic("%s_downstream" % kind)
    check(got is not None and got.type == kind and all(got.attributes[k] == v for k, v in attributes.items()), "toxic %s accepted" % kind)
    p.destroy_toxic("%s_downstream" % kind)

p.add_toxic(type="timeout", attributes={"timeout": 0})
check(round_trip(p.listen) is None, "timeout 0: nothing comes back")
check(server.reset() and server.get_proxy("echo").toxics() == {}, "reset removes every toxic")
check(round_trip(p.listen) is not None, "after reset the proxy forwards again")

populated = server.populate([
    {"name": "echo", "listen": p.listen, "upstream": echo},
    {"name": "second", "listen": "127.0.0.1:0", "upstream": echo},
])
check([x.name for x in populated] == ["second"], "populate creates only what is missing: %s" % [x.name for x in populated])
check(sorted(server.proxies().keys()) == ["echo", "second"], "both listed")
check(round_trip(server.get_proxy("second").listen) is not None, "the populated proxy forwards")
server.destroy_all()
check(server.proxies() == {}, "destroyed")
try:
    p.toxics()
    check(False, "toxics of a deleted proxy")
except NotFound:
    check(True, "404 for a deleted proxy")
print("ok: %d checks" % checks)
