import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// Network faults on lab hosts, through the built binary: the engine chosen on the host and said,
/// the delay confirmed by measuring it, a crash of the agent that holds it, and qdiscs that
/// faultline did not add left exactly as they were.
@Suite("network faults in a lab", .serialized, .enabled(if: getuid() == 0, "needs root to create network namespaces"))
struct NetworkTests {
    /// `argv` inside lab host `host`'s network namespace.
    func inHost(_ s: LabTests.Scratch, _ host: String, _ argv: [String], timeout: Nanos = 10_000_000_000) -> Spawner.Result {
        Spawner.run(.argv(["ip", "netns", "exec", "fl-\(s.name)-\(host)"] + argv), timeout: timeout)
    }

    func qdiscs(_ s: LabTests.Scratch, _ host: String) -> String { inHost(s, host, ["tc", "qdisc", "show"]).output }

    /// Every faultline object a network fault can leave in a host: nft tables, IFB links, queues.
    func owned(_ s: LabTests.Scratch, _ host: String) -> [String] {
        var out: [String] = []
        let tables = inHost(s, host, ["nft", "list", "tables"]).output
        out += tables.split(separator: "\n").filter { $0.contains("faultline_") }.map(String.init)
        let links = inHost(s, host, ["ip", "-o", "link", "show"]).output
        out += links.split(separator: "\n").filter { $0.contains("flifb") }.map(String.init)
        let queues = inHost(s, host, ["cat", "/proc/net/netfilter/nfnetlink_queue"]).output
        out += queues.split(separator: "\n").map { "queue \($0)" }
        let q = qdiscs(s, host)
        out += q.split(separator: "\n").filter { $0.contains(" fa17:") || $0.contains("ingress ffff:") }.map(String.init)
        return out
    }

    func experiment(_ s: LabTests.Scratch, octet: Int, fault: String, duration: String = "3s", extra: String = "") throws -> String {
        try """
        version: 1
        title: network
        lab: \(s.name).yaml
        duration: \(duration)
        \(extra)
        faults:
          - {name: slow, \(fault)}
        """.write(toFile: "\(s.dir)/n.yaml", atomically: true, encoding: .utf8)
        return "n.yaml"
    }

    func start(_ s: LabTests.Scratch, _ file: String) throws -> Spawned {
        try FaultlineBinary.start(["run", file, "--state-dir", "state", "--out", "reports", "--lab-dir", "\(s.dir)/labs"], in: s.dir)
    }

    func journal(_ s: LabTests.Scratch) throws -> Journal {
        try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(s.dir)/reports/latest/journal.json")))
    }

    @Test("100 ms toward one peer's port: the engine chosen on the host and said, the delay confirmed and measured, nothing left")
    func slowLink() throws {
        let s = try LabTests.Scratch()
        _ = try s.lab(octet: 246, hosts: 2)
        let probe = "[nsenter, --net=/run/netns/fl-\(s.name)-n1, curl, -sS, -o, /dev/null, --max-time, '1', 'http://198.18.246.12:8000/']"
        let file = try experiment(
            s, octet: 246,
            fault:
                "at: 1s, duration: 1500ms, network: {host: n1, to: n2, protocol: tcp, port: 8000, delay: 100ms, jitter: 5ms, distribution: normal}",
            duration: "3500ms",
            extra: """
                probes: [{name: n1-to-n2, interval: 100ms, command: \(probe), max_latency: 150ms}]
                expect: {availability: {probe: n1-to-n2, min: 90%, window: outside}}
                """)
        let out = FaultlineBinary.collect(try start(s, file), in: s.dir)
        let j = try journal(s)
        let samples = j.probes.first.map { p in
            zip(p.started, zip(p.latency, p.ok)).map { "\($0.0 / 1_000_000)ms \($0.1.0 / 1_000_000)ms \($0.1.1)" }
        }
        #expect(
            out.status == 0,
            "\(out.stdout)\(out.stderr)\nfault \(j.faults.first.map { "\($0.injectedAt ?? 0)–\($0.revertedAt ?? 0)" } ?? ""); samples \(samples ?? [])"
        )
        let f = try #require(j.faults.first)
        let engine = KernelFeatures.netem.available ? "netem" : "queue"
        #expect(f.preflight?.hasPrefix("engine \(engine) on n1: ") == true, "\(f.preflight ?? "")")
        if engine == "queue" { #expect(f.preflight?.contains("CONFIG_NET_SCH_NETEM") == true) }
        #expect(out.stdout.contains("engine \(engine) on n1"), "the engine is said while it runs: \(out.stdout)")
        #expect(f.confirmed && f.revertedAt != nil, "\(f)")
        #expect(f.confirmation?.contains("added to the round trip measured toward 198.18.246.12:8000") == true, "\(f.confirmation ?? "")")
        if engine == "queue" {
            // The delay line's own account: ~60 packets with σ 5 ms jitter put the median's standard
            // error near 0.8 ms, so ±3 ms.
            let median = f.measured?.firstMatch(of: /held median ([0-9.]+)ms/).flatMap { Double($0.1) }
            #expect(median.map { abs($0 - 100) <= 3 } == true, "\(f.measured ?? "")")
        }
        // The probe saw the delay only inside the fault's window.
        let series = try #require(j.probes.first)
        let inside = series.started.indices.filter {
            series.started[$0] > f.confirmedAt ?? 0 && series.started[$0] < (f.revertedAt ?? 0) - 300_000_000
        }
        #expect(
            !inside.isEmpty && inside.allSatisfy { !series.ok[$0] },
            "every sample inside the window was slower than 150 ms (two round trips of 100 ms); outside, a busy machine's curl stays well under"
        )
        // The run brought the lab up and took it down: its residue check ran inside n1 first.
        #expect(j.residue.isEmpty, "\(j.residue)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test(
        "20 % loss toward a peer and from it: confirmed by the delay line's own counters while probe packets (bare TCP ACKs, no connection) go toward the peer",
        arguments: ["egress", "ingress"])
    func lossConfirmed(_ direction: String) throws {
        let s = try LabTests.Scratch()
        _ = try s.lab(octet: 239, hosts: 2)
        let file = try experiment(
            s, octet: 239, fault: "at: 500ms, duration: 1500ms, network: {host: n1, to: n2, direction: \(direction), loss: 20%}",
            duration: "2500ms")
        let out = FaultlineBinary.collect(try start(s, file), in: s.dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let f = try #require(try journal(s).faults.first)
        #expect(f.confirmed, "\(f)")
        // 1,000 ACKs toward n2's port 9 (egress), or the resets n2 answers them with (ingress):
        // about a fifth of them dropped, by the delay line's own count.
        let m = f.confirmation?.firstMatch(
            of: /([0-9]+) dropped of ([0-9]+) packets the delay line was handed while ([0-9]+) probes went toward 198\.18\.239\.12:9/)
        let (dropped, handled, sent) = (m.flatMap { Int($0.1) } ?? -1, m.flatMap { Int($0.2) } ?? -1, m.flatMap { Int($0.3) } ?? -1)
        print("loss \(direction): \(f.confirmation ?? "")")
        #expect(sent == 1_000 && handled >= 900 && Double(dropped) / Double(max(1, handled)) > 0.14, "\(f.confirmation ?? "")")
        #expect(Double(dropped) / Double(max(1, handled)) < 0.26, "\(f.confirmation ?? "")")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test(
        "engine netem where the kernel has no sch_netem: invalid before anything is injected, the module and the option named",
        .enabled(if: !KernelFeatures.netem.available, "this kernel has sch_netem; the netem engine runs here instead"))
    func netemRefused() throws {
        let s = try LabTests.Scratch()
        _ = try s.lab(octet: 247, hosts: 2)
        let file = try experiment(s, octet: 247, fault: "at: 500ms, duration: 1s, network: {host: n1, to: n2, delay: 50ms, engine: netem}")
        let out = FaultlineBinary.collect(try start(s, file), in: s.dir)
        #expect(out.status == ExitCode.invalid, "\(out.stdout)\(out.stderr)")
        let j = try journal(s)
        #expect(j.verdict == .invalid)
        let reason = j.reasons.joined(separator: "\n")
        #expect(
            reason.contains("engine netem on 'n1': sch_netem is not in this kernel (CONFIG_NET_SCH_NETEM is not set); use engine queue"),
            "\(reason)")
        #expect(j.faults.allSatisfy { $0.injectedAt == nil }, "\(j.faults)")
        #expect(!j.events.contains { $0.what.hasPrefix("injected") })
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("a root qdisc faultline did not add and an egress rate: refused before any injection, naming it; it is left as it was")
    func foreignRootRefused() throws {
        let s = try LabTests.Scratch()
        let lab = try s.lab(octet: 249, hosts: 2)
        #expect(try s.faultline(["lab", "up", lab]).status == 0)
        let add = inHost(
            s, "n1",
            ["tc", "qdisc", "add", "dev", "eth0", "root", "handle", "7:", "tbf", "rate", "1gbit", "burst", "128kb", "latency", "50ms"])
        #expect(add.status == 0, "\(add.output)")
        let before = qdiscs(s, "n1")
        let file = try experiment(s, octet: 249, fault: "at: 500ms, duration: 1s, network: {host: n1, to: n2, rate: 10mbit}")
        let out = FaultlineBinary.collect(try start(s, file), in: s.dir)
        #expect(out.status == ExitCode.invalid, "\(out.stdout)\(out.stderr)")
        let j = try journal(s)
        let reason = j.reasons.joined(separator: "\n")
        #expect(reason.contains("on 'n1': eth0 has a root qdisc faultline did not add (tbf 7:"), "\(reason)")
        #expect(j.faults.allSatisfy { $0.injectedAt == nil }, "\(j.faults)")
        #expect(qdiscs(s, "n1") == before, "the foreign root is exactly as it was")
        #expect(owned(s, "n1").isEmpty)
    }

    /// A program in n1's namespace that starts a measurement every 50 ms, each on its own thread:
    /// a TCP connect to n2's web server and a 20 kB download from n2's blob server. One line per
    /// measurement: start (CLOCK_MONOTONIC ns), connect ms, download ms (-1: failed).
    static let monitor = """
        import socket, sys, threading, time
        peer, out = sys.argv[1], open(sys.argv[2], "w", buffering=1)
        lock = threading.Lock()
        def once():
            t0 = time.monotonic_ns()
            try:
                a = time.monotonic(); c = socket.create_connection((peer, 8000), timeout=3); conn = (time.monotonic() - a) * 1000; c.close()
                a = time.monotonic(); c = socket.create_connection((peer, 9000), timeout=3); n = 0
                while True:
                    b = c.recv(65536)
                    if not b: break
                    n += len(b)
                c.close(); down = (time.monotonic() - a) * 1000 if n == 20000 else -1
            except Exception:
                conn, down = -1, -1
            with lock: out.write(f"{t0} {conn:.1f} {down:.1f}\\n")
        while True:
            threading.Thread(target=once, daemon=True).start()
            time.sleep(0.05)
        """

    static let blob = """
        import socket, sys, threading
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], 9000)); s.listen(128)
        def serve(c):
            try: c.sendall(b"x" * 20000)
            finally: c.close()
        while True:
            c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
        """

    /// The inode of a network namespace, as /proc/PID/ns/net names it.
    func netnsInode(_ path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    @Test(
        "SIGKILL of the agent holding an ingress delay and rate: traffic unimpaired within 1 s; no rule, qdisc, IFB or queue left; the foreign root as it was"
    )
    func agentKilled() throws {
        let s = try LabTests.Scratch()
        try Self.blob.write(toFile: "\(s.dir)/blob.py", atomically: true, encoding: .utf8)
        try Self.monitor.write(toFile: "\(s.dir)/monitor.py", atomically: true, encoding: .utf8)
        let service = [
            "      - name: blob", "        argv: [python3, \(s.dir)/blob.py, \"{address}\"]", "        ready: {tcp: \"{address}:9000\"}",
        ].joined(separator: "\n")
        let lab = try s.lab(octet: 248, hosts: 2, extraService: service)
        let up = try s.faultline(["lab", "up", lab])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let tbf = inHost(
            s, "n1",
            ["tc", "qdisc", "add", "dev", "eth0", "root", "handle", "7:", "tbf", "rate", "1gbit", "burst", "128kb", "latency", "50ms"])
        #expect(tbf.status == 0, "\(tbf.output)")
        let before = qdiscs(s, "n1")
        let file = try experiment(
            s, octet: 248, fault: "at: 300ms, duration: 20s, network: {host: n1, to: n2, direction: ingress, delay: 200ms, rate: 4mbit}",
            duration: "25s")
        let monitor = try Spawned(
            ["ip", "netns", "exec", "fl-\(s.name)-n1", "python3", "\(s.dir)/monitor.py", "198.18.248.12", "\(s.dir)/samples"], in: s.dir,
            stdout: "\(s.dir)/monitor.out", stderr: "\(s.dir)/monitor.err")
        defer {
            kill(monitor.pid, SIGKILL)
            monitor.wait()
        }
        let p = try start(s, file)
        try waitUntil(15) { owned(s, "n1").contains { $0.contains("flifb") } && owned(s, "n1").contains { $0.contains("faultline_") } }
        usleep(3_000_000)
        let n1 = netnsInode("/run/netns/fl-\(s.name)-n1")
        let agents = descendants(of: p.pid).filter {
            !commandLine($0).hasPrefix("nsenter") && commandLine($0).contains(" agent --run ") && netnsInode("/proc/\($0)/ns/net") == n1
        }
        #expect(agents.count == 1, "\(agents.map(commandLine))")
        let killedAt = MonotonicClock.now()
        for a in agents { kill(a, SIGKILL) }
        let out = FaultlineBinary.collect(p, in: s.dir)
        usleep(1_500_000)
        kill(monitor.pid, SIGKILL)
        monitor.wait()

        let samples = ((try? String(contentsOfFile: "\(s.dir)/samples", encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            line -> (at: Int64, connect: Double, download: Double)? in
            let f = line.split(separator: " ")
            guard f.count == 3, let at = Int64(f[0]), let c = Double(f[1]), let d = Double(f[2]) else { return nil }
            return (at, c, d)
        }.sorted { $0.at < $1.at }
        // Unimpaired: a connect well under the 200 ms added, 20 kB well under the two delayed round trips it takes.
        func fine(_ x: (at: Int64, connect: Double, download: Double)) -> Bool {
            x.connect >= 0 && x.connect < 50 && x.download >= 0 && x.download < 100
        }
        // Measurements that ended before the SIGKILL (a connect whose SYN-ACK the full shaper
        // dropped retries after 1 s, and its download then runs after the kill).
        let held = samples.filter {
            $0.at > killedAt - 1_500_000_000 && $0.connect >= 0 && $0.download >= 0
                && $0.at + Int64(($0.connect + $0.download) * 1e6) < killedAt
        }
        #expect(
            !held.isEmpty && held.allSatisfy { $0.connect >= 200 && $0.download >= 200 },
            "while the fault held, every connect and every download took 200 ms or more: \(held)")
        let after = samples.filter { $0.at > killedAt }
        let lastBad = after.last { !fine($0) }
        let recovered = lastBad.map { b in after.first { $0.at > b.at } } ?? after.first
        let within = recovered.map { Double($0.at - killedAt) / 1e9 }
        print("network agent SIGKILL: unimpaired \(within.map { String(format: "%.3f s", $0) } ?? "never") after, \(after.count) samples")
        #expect(
            within != nil && within! < 1.0,
            "unimpaired from \(within.map { "\($0) s" } ?? "never") after the SIGKILL; after: \(after.prefix(30))")
        #expect(after.count > 20)

        #expect(out.status == ExitCode.invalid, "\(out.stdout)\(out.stderr)")
        let j = try journal(s)
        #expect(j.reasons.contains { $0.contains("agent on 'n1' was lost") }, "\(j.reasons)")
        #expect(j.residue.isEmpty, "\(j.residue)")
        #expect(owned(s, "n1").isEmpty, "\(owned(s, "n1"))")
        #expect(qdiscs(s, "n1") == before, "the foreign root qdisc is exactly as it was:\n\(before)\nnow\n\(qdiscs(s, "n1"))")
    }
}
