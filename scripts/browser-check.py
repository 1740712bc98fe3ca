#!/usr/bin/env python3
"""Opens a report.html in headless Chromium (Debian's) and says what a reader's browser saw.

    browser-check.py REPORT.html SCREENSHOT.png [--width PX]

(and the timeline alone, at twice the scale, as SCREENSHOT-timeline.png)

Drives the browser over the DevTools protocol on a pipe (--remote-debugging-pipe: no port, no
network), and prints one JSON object: every request the page made besides its own file,
every console error, exception and log error (a blocked fetch shows as one), the time from
navigation to the load event, facts about the timeline read from the DOM, and whether the page
is wider than the window. Saves a full-page screenshot. Exits 2 when Chromium cannot be run.
"""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def main():
    args = sys.argv[1:]
    width = 1280
    if "--width" in args:
        i = args.index("--width")
        width = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    report, shot = pathlib.Path(args[0]).resolve(), pathlib.Path(args[1])
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("browser-check: chromium is not installed (scripts/install-deps.sh)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("no answer from chromium in 90 s")))
    signal.alarm(90)
    profile = tempfile.mkdtemp(prefix="faultline-browser-")
    # fd 3: what chromium reads (our commands); fd 4: what it writes (answers and events).
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()

    def plumb():
        a, b = os.dup(to_r), os.dup(from_w)
        os.dup2(a, 3)
        os.dup2(b, 4)

    proc = subprocess.Popen(
        [
            chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--mute-audio", f"--window-size={width},900", "about:blank",
        ],
        preexec_fn=plumb, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(to_r)
    os.close(from_w)
    out = os.fdopen(to_w, "wb", buffering=0)
    inp = os.fdopen(from_r, "rb", buffering=0)
    buf = b""
    events = []
    ids = iter(range(1, 1 << 30))

    def read_message():
        nonlocal buf
        while b"\0" not in buf:
            chunk = inp.read(1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            buf += chunk
        msg, buf = buf.split(b"\0", 1)
        return json.loads(msg)

    def call(method, params=None, session=None):
        i = next(ids)
        m = {"id": i, "method": method, "params": params or {}}
        if session:
            m["sessionId"] = session
        out.write(json.dumps(m).encode() + b"\0")
        while True:
            r = read_message()
            if r.get("id") == i:
                if "error" in r:
                    raise RuntimeError(f"{method}: {r['error']}")
                return r.get("result", {})
            events.append(r)

    def wait_for(method, session, timeout=60):
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for e in events[seen:]:
                if e.get("method") == method and e.get("sessionId") == session:
                    return e
            seen = len(events)
            events.append(read_message())
        raise TimeoutError(method)

    try:
        target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            call(f"{domain}.enable", session=s)
        call("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}, session=s)
        url = report.as_uri()
        began = time.monotonic()
        call("Page.navigate", {"url": url}, session=s)
        wait_for("Page.loadEventFired", s)
        load_ms = (time.monotonic() - began) * 1000
        facts = call(
            "Runtime.evaluate",
            {"expression": FACTS, "returnByValue": True}, session=s,
        )["result"]["value"]
        page_ms = call("Runtime.evaluate", {"expression": TIMING, "returnByValue": True}, session=s)["result"]["value"]
        metrics = call("Page.getLayoutMetrics", session=s)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot_data = call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True,
             "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000), "scale": 1}},
            session=s,
        )["data"]
        import base64

        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(base64.b64decode(shot_data))
        # The timeline alone, at twice the scale: the picture a review looks at.
        box = call("Runtime.evaluate", {"expression": BOX, "returnByValue": True}, session=s)["result"].get("value")
        if box:
            data = call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                    "clip": dict(box, scale=2)}, session=s)["data"]
            shot.with_name(shot.stem + "-timeline.png").write_bytes(base64.b64decode(data))
        requests, errors = [], []
        for e in events:
            if e.get("sessionId") != s:
                continue
            m, p = e.get("method"), e.get("params", {})
            if m == "Network.requestWillBeSent" and p["request"]["url"] != url:
                requests.append(p["request"]["url"])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                errors.append("exception: " + p["exceptionDetails"].get("text", ""))
            elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                errors.append("log: " + p["entry"].get("text", ""))
        print(json.dumps({"requests": requests, "errors": errors, "load_ms": round(load_ms, 1),
                          "page_load_ms": page_ms, "facts": facts}))
        try:
            call("Browser.close")
        except RuntimeError:
            pass
        return 0
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


# What the test asks of the page, read from the rendered DOM.
FACTS = r"""(() => {
  const q = s => Array.from(document.querySelectorAll(s));
  const svg = document.querySelector('svg#timeline');
  const box = svg ? svg.getBoundingClientRect() : null;
  return {
    title: document.title,
    verdict: (document.querySelector('#verdict .v') || {}).textContent || null,
    timeline: !!svg, timelineWidth: box ? Math.round(box.width) : 0, timelineHeight: box ? Math.round(box.height) : 0,
    faultWindows: q('svg#timeline rect.fault-window').map(e => e.dataset.fault),
    faultBars: q('svg#timeline rect.fault').map(e => e.dataset.fault),
    markers: q('svg#timeline g.markers line.marker').map(e => e.textContent),
    eventTicks: q('svg#timeline g.events line.marker').length,
    outcomes: q('svg#timeline g.outcomes').map(e => e.dataset.series),
    latency: q('svg#timeline g.latency').map(e => e.dataset.series),
    failedChecks: q('#evidence .card h3').map(e => e.textContent),
    evidence: ((document.querySelector('#evidence') || {}).innerText || '').slice(0, 20000),
    tables: q('table').length,
    overflow: document.documentElement.scrollWidth > window.innerWidth,
    scripts: q('script').length,
  };
})()"""

BOX = r"""(() => { const e = document.querySelector('#timeline-section'); if (!e) return null;
  const r = e.getBoundingClientRect();
  return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; })()"""

TIMING = r"""(() => { const n = performance.getEntriesByType('navigation')[0];
  return n ? Math.round(n.loadEventEnd - n.startTime) : null; })()"""

if __name__ == "__main__":
    sys.exit(main())
