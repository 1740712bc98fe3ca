import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// A QEMU guest on Debian's stock kernel (scripts/guest-kernel.sh: unpacked, never installed),
/// booted on this machine's root shared read-only over 9p (scripts/guest-init.sh), its network
/// card a tap on a lab's bridge, running Debian's sshd: an ssh host whose kernel has sch_netem,
/// which this machine's does not, and whose monotonic clock started when it booted.
final class Guest {
    /// Why a guest cannot run here, for the tests to skip with.
    static let unavailable: String? = {
        if getuid() != 0 { return "needs root (a tap device on a lab bridge)" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64") {
            return "needs qemu-system-x86 (scripts/install-deps.sh)"
        }
        if access("/dev/net/tun", R_OK | W_OK) != 0 { return "needs /dev/net/tun for the guest's tap device" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") { return "needs openssh-server" }
        if kernelDirectory == nil { return "scripts/guest-kernel.sh could not prepare Debian's kernel: \(kernelProblem)" }
        return nil
    }()

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .path
    nonisolated(unsafe) static var kernelProblem = ""
    static let kernelDirectory: String? = {
        let r = Spawner.run(.argv(["\(root)/scripts/guest-kernel.sh"]), timeout: 600_000_000_000)
        guard r.status == 0 else {
            kernelProblem = String((r.error ?? r.output).suffix(300))
            return nil
        }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    let lab: LabTests.Scratch
    let octet: Int
    let accel: String
    private(set) var qemu: Spawned?
    /// From QEMU's start to the first ssh session answered, and to the guest's init.
    private(set) var bootSeconds = 0.0
    private(set) var initSeconds = 0.0
    var dir: String { lab.dir }
    var address: String { "198.18.\(octet).20" }
    var bridgeAddress: String { "198.18.\(octet).1" }
    /// The lab host beside the guest on the bridge (n1), the peer of its network faults.
    var peer: String { "198.18.\(octet).11" }
    var peerNamespace: String { "fl-\(lab.name)-n1" }

    init(octet: Int) throws {
        self.octet = octet
        lab = try LabTests.Scratch()
        accel = Self.accelerator()
        let file = try lab.lab(octet: octet, hosts: 1)
        let up = try lab.faultline(["lab", "up", file])
        guard up.status == 0 else { throw TestFailure("lab up: \(up.stdout)\(up.stderr)") }
        for key in ["id", "host_key"] {
            let r = Spawner.run(.argv(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "\(dir)/\(key)"]), timeout: 10_000_000_000)
            guard r.status == 0 else { throw TestFailure("ssh-keygen: \(r.output)") }
        }
        try FileManager.default.copyItem(atPath: "\(dir)/id.pub", toPath: "\(dir)/authorized_keys")
        try """
        ListenAddress \(address)
        HostKey \(dir)/host_key
        AuthorizedKeysFile \(dir)/authorized_keys
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        PidFile none

        """.write(toFile: "\(dir)/sshd_config", atomically: true, encoding: .utf8)
        let hostKey = try String(contentsOfFile: "\(dir)/host_key.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(
            separator: " ")
        try "\(address) \(hostKey)\n".write(toFile: "\(dir)/known_hosts", atomically: true, encoding: .utf8)
        try boot()
    }

    /// TCG unless FAULTLINE_GUEST_ACCEL=kvm: a KVM guest hangs at boot on these machines
    /// although /dev/kvm exists, and a hang would cost the suite its boot timeout. The test
    /// prints which it used.
    static func accelerator() -> String {
        ProcessInfo.processInfo.environment["FAULTLINE_GUEST_ACCEL"] == "kvm" ? "kvm" : "tcg"
    }

    var tap: String { "flq\(octet)" }

    private func boot() throws {
        guard let kernel = Self.kernelDirectory else { throw TestFailure("no kernel: \(Self.kernelProblem)") }
        let append = [
            "console=ttyS0", "panic=-1", "fl.tree=\(kernel)/tree", "fl.init=\(Self.root)/scripts/guest-init.sh", "fl.dir=\(dir)",
            "fl.name=g1", "fl.addr=\(address)/24", "fl.faultline=\(FaultlineBinary.path)",
        ].joined(separator: " ")
        let argv = [
            "qemu-system-x86_64", "-accel", accel, "-cpu", accel == "kvm" ? "host" : "max", "-m", "768", "-smp", "1",
            "-kernel", "\(kernel)/vmlinux", "-initrd", "\(kernel)/initramfs.cpio.gz", "-append", append,
            "-fsdev", "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=root,mount_tag=root",
            "-netdev", "tap,id=n0,ifname=\(tap),script=no,downscript=no",
            "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:\(String(format: "%02x", octet)):20",
            "-display", "none", "-serial", "file:\(dir)/console.log", "-no-reboot",
        ]
        let start = MonotonicClock.now()
        qemu = try Spawned(argv, stdout: "\(dir)/qemu.out", stderr: "\(dir)/qemu.err")
        // The tap appears once QEMU has opened it; it joins the lab's bridge.
        while !interfaceExists(tap) {
            guard qemu?.isRunning == true, MonotonicClock.now() - start < 20_000_000_000 else {
                throw TestFailure("QEMU never made its tap: \(tail("qemu.err"))")
            }
            usleep(20_000)
        }
        let bridge = "fl-\(lab.name)-br"
        let link = Spawner.run(.argv(["ip", "link", "set", tap, "master", bridge, "up"]), timeout: 5_000_000_000)
        guard link.status == 0 else { throw TestFailure("tap onto \(bridge): \(link.output)") }
        while !tail("console.log").contains("faultline-guest: up") {
            guard qemu?.isRunning == true, MonotonicClock.now() - start < 90_000_000_000 else {
                throw TestFailure("the guest never came up (\(accel)): \(tail("console.log"))\(tail("qemu.err"))")
            }
            usleep(50_000)
        }
        initSeconds = Double(MonotonicClock.now() - start) / 1e9
        while run(["true"], timeout: 5_000_000_000).status != 0 {
            guard MonotonicClock.now() - start < 120_000_000_000 else { throw TestFailure("the guest's sshd never answered") }
            usleep(100_000)
        }
        bootSeconds = Double(MonotonicClock.now() - start) / 1e9
    }

    func interfaceExists(_ name: String) -> Bool { access("/sys/class/net/\(name)", F_OK) == 0 }

    func tail(_ file: String) -> String {
        String(((try? String(contentsOfFile: "\(dir)/\(file)", encoding: .utf8)) ?? "").suffix(1500))
    }

    /// A command in the guest over a connection of its own.
    func run(_ argv: [String], timeout: Int64 = 30_000_000_000) -> (status: Int32, stdout: String, stderr: String) {
        let target = SSHTarget(user: "root", host: address, identity: "\(dir)/id", knownHosts: "\(dir)/known_hosts", directory: "/run/fl")
        return SSHLink(target: target, controlPath: "\(dir)/no-master").run(argv, timeout: timeout)
    }

    /// The `hosts:` entry of the guest as an ssh host.
    var host: String { "g1: {ssh: {address: \"root@\(address)\", identity: id, known_hosts: known_hosts, dir: /run/fl}}" }

    deinit {
        if let qemu {
            kill(qemu.pid, SIGTERM)
            let until = MonotonicClock.now() + 5_000_000_000
            while qemu.isRunning, MonotonicClock.now() < until { usleep(20_000) }
            qemu.stop()
        }
    }
}

@Suite(
    "a QEMU guest on Debian's kernel: the netem engine for real", .serialized,
    .enabled(if: Guest.unavailable == nil, "\(Guest.unavailable ?? "")"))
struct GuestTests {
    /// Round trips of a TCP SYN from the lab host beside the guest to a closed port of the
    /// guest, measured there (not by faultline): the guest's kernel answers with a reset, no
    /// program of the guest runs (a SYN to sshd would start an sshd, a second of emulation),
    /// so its egress shaping is what the peer sees. Samples `gapMs` apart, in ms (-1: none came
    /// back), `count` of them or, with `until`, until that file exists.
    static let sampler = """
        import os, socket, sys, time
        addr, count, gap, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000, sys.argv[4]
        out = []
        while len(out) < count and not (stop and os.path.exists(stop)):
            s = socket.socket(); s.settimeout(2)
            t = time.monotonic()
            try:
                s.connect((addr, 9)); out.append(-1)
            except ConnectionRefusedError:
                out.append((time.monotonic() - t) * 1000)
            except OSError:
                out.append(-1)
            s.close(); time.sleep(gap)
        print(" ".join("%.3f" % x for x in out), flush=True)
        """

    static func samplerArgv(_ g: Guest, count: Int, gapMs: Int, until stop: String = "") -> [String] {
        ["ip", "netns", "exec", g.peerNamespace, "python3", "-c", sampler, g.address, String(count), String(gapMs), stop]
    }

    static func parse(_ text: String) -> [Double] {
        text.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
    }

    static func handshakes(_ g: Guest, count: Int, gapMs: Int) -> [Double] {
        parse(Spawner.run(.argv(samplerArgv(g, count: count, gapMs: gapMs)), timeout: 120_000_000_000).output)
    }

    /// Samples through a whole run of `file`: the run's exit status and the samples.
    static func sampledRun(_ g: Guest, _ file: String, gapMs: Int) throws -> (status: Int32, output: String, samples: [Double]) {
        let stop = "\(g.dir)/sampler.stop"
        let sampler = try Spawned(samplerArgv(g, count: 100_000, gapMs: gapMs, until: stop), stdout: "\(g.dir)/samples")
        let runner = try FaultlineBinary.start(["run", file, "--state-dir", "state", "--out", "reports"], in: g.dir)
        let status = runner.wait()
        FileManager.default.createFile(atPath: stop, contents: nil)
        _ = sampler.wait()
        let output = (try? String(contentsOfFile: "\(g.dir)/stdout", encoding: .utf8)) ?? ""
        let samples = parse((try? String(contentsOfFile: "\(g.dir)/samples", encoding: .utf8)) ?? "")
        return (status, output, samples)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : s[s.count / 2]
    }

    /// ICMP echo requests from the lab host beside the guest, `gapMs` apart until `stop`
    /// exists, and every echo reply that comes back, read from a raw socket there (the guest's
    /// kernel answers; no guest program runs): what faultline's shaping of the guest's traffic
    /// does, counted at the receiver. Replies are matched by sequence number; their checksum
    /// is checked, so a corrupted reply is told from a lost one.
    static let prober = """
        import json, os, socket, struct, sys, threading, time
        addr, gap, stop = sys.argv[1], int(sys.argv[2]) / 1000, sys.argv[3]
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.settimeout(0.2)
        ident = os.getpid() & 0xFFFF
        def csum(b):
            if len(b) % 2: b += b"\\0"
            t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
            while t >> 16: t = (t & 0xFFFF) + (t >> 16)
            return ~t & 0xFFFF
        sent, recv, done = [], [], [False]
        def rx():
            while not done[0]:
                try: data, a = s.recvfrom(4096)
                except socket.timeout: continue
                if a[0] != addr: continue
                icmp = data[(data[0] & 15) * 4:]
                if len(icmp) < 8 or icmp[0] != 0: continue
                i, q = struct.unpack("!HH", icmp[4:8])
                if i == ident: recv.append([q, time.monotonic(), csum(icmp) == 0])
        th = threading.Thread(target=rx); th.start()
        seq = 0
        while not os.path.exists(stop) and seq < 60000:
            body = struct.pack("!HH", ident, seq) + b"faultline-probe-" * 2
            pkt = struct.pack("!BBH", 8, 0, csum(b"\\x08\\0\\0\\0" + body)) + body
            sent.append([seq, time.monotonic()]); s.sendto(pkt, (addr, 0)); seq += 1
            time.sleep(gap)
        time.sleep(1.0); done[0] = True; th.join()
        print(json.dumps({"sent": sent, "recv": recv}))
        """

    /// What the probes saw of one run, by sequence number.
    struct Probes {
        var sent: [Int: Double] = [:]
        var replies: [Int: [(at: Double, ok: Bool)]] = [:]

        init(json: String) throws {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            for pair in object?["sent"] as? [[Any]] ?? [] {
                if let q = pair[0] as? Int, let t = pair[1] as? Double { sent[q] = t }
            }
            for r in object?["recv"] as? [[Any]] ?? [] {
                if let q = r[0] as? Int, let t = r[1] as? Double, let ok = r[2] as? Bool { replies[q, default: []].append((t, ok)) }
            }
        }

        /// The first good reply's round trip, in ms.
        func rtt(_ q: Int) -> Double? {
            guard let t = sent[q], let first = replies[q]?.first(where: { $0.ok }) else { return nil }
            return (first.at - t) * 1000
        }

        /// The probes sent while the fault held: the longest stretch of probes whose round trip
        /// is `marker` ms or more above `base` (every fault here delays, which marks it), where
        /// a stretch ends at 20 probes in a row without such a round trip. A lone slow probe
        /// outside it (the emulated guest stalls now and then, starting an agent) is not in it.
        func window(base: Double, marker: Double) -> [Int] {
            let marked = sent.keys.sorted().filter { (rtt($0) ?? 0) >= base + marker }
            var best: [Int] = []
            var current: [Int] = []
            for q in marked {
                if let last = current.last, q - last > 20 {
                    if current.count > best.count { best = current }
                    current = []
                }
                current.append(q)
            }
            if current.count > best.count { best = current }
            guard let a = best.first, let b = best.last else { return [] }
            return Array(a...b).filter { sent[$0] != nil }
        }
    }

    /// `NAME.yaml` in the guest's folder: a 7 s run holding `fault` (the network keys after
    /// `to:`) on the guest's eth0 toward the peer from 1 s for 5 s.
    static func writeExperiment(_ g: Guest, name: String, fault: String) throws {
        try """
        version: 1
        title: \(name) in a guest
        duration: 7s
        hosts:
          \(g.host)
        faults:
          - {name: f, at: 1s, duration: 5s, network: {host: g1, device: eth0, to: \(g.peer), \(fault)}}
        """.write(toFile: "\(g.dir)/\(name).yaml", atomically: true, encoding: .utf8)
    }

    /// Runs `fault` on the guest with the prober going through the whole run.
    static func probedRun(_ g: Guest, name: String, fault: String, gapMs: Int = 10) throws -> Probes {
        try probedRunWithJournal(g, name: name, fault: fault, gapMs: gapMs).probes
    }

    /// `probedRun`, with the run's journal and the instant (this machine's monotonic clock,
    /// in seconds, as the prober's) just before the runner was started.
    static func probedRunWithJournal(_ g: Guest, name: String, fault: String, gapMs: Int = 10) throws -> (
        probes: Probes, journal: Journal, spawnedAt: Double, ran: Bool
    ) {
        try Self.writeExperiment(g, name: name, fault: fault)
        let stop = "\(g.dir)/\(name).stop"
        let prober = try Spawned(
            ["ip", "netns", "exec", g.peerNamespace, "python3", "-c", Self.prober, g.address, String(gapMs), stop],
            stdout: "\(g.dir)/\(name).probes", stderr: "\(g.dir)/\(name).prober-err")
        let spawnedAt = Double(MonotonicClock.now()) / 1e9
        let runner = try FaultlineBinary.start(["run", "\(name).yaml", "--state-dir", "state", "--out", "reports"], in: g.dir)
        let status = runner.wait()
        FileManager.default.createFile(atPath: stop, contents: nil)
        _ = prober.wait()
        let out = (try? String(contentsOfFile: "\(g.dir)/stdout", encoding: .utf8)) ?? ""
        let notes = out.split(separator: "\n").filter { $0.contains("note:") || $0.contains("could not") || $0.contains("verdict") }
        if status != 0, name == "loss-queue" {
            // Seen once in four runs of the suite: the run invalid after the loss had held for
            // 2.5 s (17 % of 224 replies lost). The queue engine's loss confirmation counts its
            // delay line's verdicts while 1,000 probe packets go out 50 µs apart, which an
            // emulated guest cannot keep to; on this machine's kernel it holds (NetworkTests).
            withKnownIssue("the queue engine's loss confirmation under emulation", isIntermittent: true) {
                Issue.record("\(name): exit \(status): \(notes.joined(separator: " | "))")
            }
            return (try Probes(json: "{}"), try Self.journal(g), spawnedAt, false)
        }
        #expect(status == 0, "\(name): exit \(status): \(notes.joined(separator: " | ")) \(out.suffix(1500))")
        let journal = try Self.journal(g)
        let engine = fault.contains("engine: queue") ? "queue" : "netem"
        #expect(journal.faults.first?.detail?.contains(engine) == true, "\(name): \(journal.faults.first?.detail ?? "-")")
        let probes = try Probes(json: (try? String(contentsOfFile: "\(g.dir)/\(name).probes", encoding: .utf8)) ?? "")
        return (probes, journal, spawnedAt, true)
    }

    /// A server in the guest that streams bytes to whoever connects (the guest's egress).
    static func startStreamer(_ g: Guest) throws {
        let server = """
            import socket
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", 5001)); s.listen(4); buf = b"x" * 65536
            while True:
                c, _ = s.accept()
                try:
                    while True: c.sendall(buf)
                except OSError: c.close()
            """
        let start = g.run([
            "sh", "-c", "setsid python3 -c '\(server)' guest-streamer-marker > /dev/null 2>&1 < /dev/null &",
        ])
        guard start.status == 0 else { throw TestFailure("streamer: \(start.stderr)") }
        try waitUntil(60) { g.run(["sh", "-c", "ss -ltn | grep -q ':5001 '"]).status == 0 }
    }

    /// The peer reads the guest's stream through a run of `fault` (none: 4 s unshaped) and
    /// counts the bytes that arrived in the middle 3 s of the fault's 5 s (its first and last
    /// second left out: TCP's window opening and the fault's own start), in bytes per second.
    static func streamRun(_ g: Guest, name: String, fault: String?) throws -> Double {
        let reader = """
            import os, socket, sys, time
            s = socket.create_connection((sys.argv[1], 5001), timeout=5); stop = sys.argv[2]; marks = []; total = 0
            s.settimeout(0.2)
            while not os.path.exists(stop):
                try: n = len(s.recv(1 << 20))
                except socket.timeout: n = 0
                total += n; marks.append("%.4f:%d" % (time.monotonic(), total))
            print(" ".join(marks))
            """
        let stop = "\(g.dir)/\(name).stop"
        let spawned = try Spawned(
            ["ip", "netns", "exec", g.peerNamespace, "python3", "-c", reader, g.address, stop],
            stdout: "\(g.dir)/\(name).bytes", stderr: "\(g.dir)/\(name).reader-err")
        let spawnedAt = Double(MonotonicClock.now()) / 1e9
        var from = spawnedAt + 1
        if let fault {
            try Self.writeExperiment(g, name: name, fault: fault)
            let runner = try FaultlineBinary.start(["run", "\(name).yaml", "--state-dir", "state", "--out", "reports"], in: g.dir)
            let status = runner.wait()
            let out = (try? String(contentsOfFile: "\(g.dir)/stdout", encoding: .utf8)) ?? ""
            #expect(status == 0, "\(name): exit \(status): \(out.suffix(1500))")
            let record = try #require(try Self.journal(g).faults.first)
            let engine = fault.contains("engine: queue") ? "queue" : "netem"
            #expect(record.detail?.contains(engine) == true, "\(name): \(record.detail ?? "-")")
            from = spawnedAt + Double(record.confirmedAt ?? record.injectedAt ?? 0) / 1e9 + 1
        } else {
            usleep(5_000_000)
        }
        FileManager.default.createFile(atPath: stop, contents: nil)
        _ = spawned.wait()
        let text = (try? String(contentsOfFile: "\(g.dir)/\(name).bytes", encoding: .utf8)) ?? ""
        let marks = text.split(whereSeparator: \.isWhitespace).compactMap { m -> (Double, Double)? in
            let parts = m.split(separator: ":")
            guard parts.count == 2, let t = Double(parts[0]), let b = Double(parts[1]) else { return nil }
            return (t, b)
        }
        guard let a = marks.last(where: { $0.0 <= from }), let b = marks.last(where: { $0.0 <= from + 3 }), b.0 > a.0 else {
            throw TestFailure("\(name): no bytes counted around \(from) (\(marks.count) marks)")
        }
        return (b.1 - a.1) / (b.0 - a.0)
    }

    static func journal(_ g: Guest) throws -> Journal {
        try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(g.dir)/reports/latest/journal.json")))
    }

    /// σ of a normal with the same interquartile range (IQR / 1.349).
    static func quartileSpread(_ xs: [Double]) -> Double {
        guard xs.count > 3 else { return .nan }
        let s = xs.sorted()
        return (s[s.count * 3 / 4] - s[s.count / 4]) / 1.349
    }

    /// Whether `k` of `n` is inside the 99 % normal interval of a binomial share `p`.
    static func inside(_ k: Int, of n: Int, share p: Double) -> Bool {
        guard n > 0 else { return false }
        let sd = (p * (1 - p) / Double(n)).squareRoot()
        return abs(Double(k) / Double(n) - p) <= 2.576 * sd + 0.5 / Double(n)
    }

    @Test(
        "each effect in a guest, counted at the receiver: jitter's spread and distribution, loss, duplicate, corrupt, reorder, ingress through an IFB, a rate at the receiver; the queue engine beside netem, its ingress too; the guest's own clock mapped"
    )
    func effects() throws {
        let g = try Guest(octet: 237)
        print("guest: \(g.accel), ssh answered after \(fixed(g.bootSeconds, 1)) s")
        // Echo replies are not rate-limited (net.ipv4.icmp_ratemask leaves type 0 out).
        let base = Self.median(Self.handshakes(g, count: 20, gapMs: 10))
        var lines: [String] = []
        for engine in ["netem", "queue"] {
            let p = try Self.probedRun(
                g, name: "jitter-\(engine)", fault: "delay: 40ms, jitter: 10ms, distribution: normal, engine: \(engine)")
            let d = p.window(base: base, marker: 10).compactMap(p.rtt).map { $0 - base }
            // Robust figures: the emulated guest stalls now and then for a few hundred ms (more
            // so beside other tests), which a mean and a standard deviation take in whole. The
            // interquartile range of a normal is 1.349 σ.
            let spread = Self.quartileSpread(d)
            lines.append(
                "\(engine) delay 40 ms ± 10 ms normal: median \(fixed(Self.median(d), 1)) ms, σ from the quartiles \(fixed(spread, 1)) ms, n \(d.count)"
            )
            // A timer never fires early; under emulation the guest's fire late by a few ms
            // (more with many timers, as jitter makes): the bounds lean that way.
            #expect(d.count >= 200 && Self.median(d) - 40 > -2 && Self.median(d) - 40 < 6, "\(lines.last!)")
            #expect(spread > 7.5 && spread < 16, "\(lines.last!)")
            let (l, _, _, ran) = try Self.probedRunWithJournal(
                g, name: "loss-\(engine)", fault: "delay: 20ms, loss: 20%, engine: \(engine)")
            guard ran else {
                lines.append("\(engine) loss 20 %: the run was invalid (a known issue, above)")
                continue
            }
            let w = l.window(base: base, marker: 10)
            let lost = w.filter { l.replies[$0] == nil }.count
            lines.append(
                "\(engine) loss 20 %: \(lost) of \(w.count) replies lost (\(fixed(100 * Double(lost) / Double(max(1, w.count)), 1)) %)")
            #expect(w.count >= 200 && Self.inside(lost, of: w.count, share: 0.2), "\(lines.last!)")
        }
        let dup = try Self.probedRun(g, name: "duplicate", fault: "delay: 20ms, duplicate: 20%, engine: netem")
        let dw = dup.window(base: base, marker: 10).filter { dup.replies[$0] != nil }
        let doubled = dw.filter { (dup.replies[$0]?.count ?? 0) > 1 }.count
        lines.append("netem duplicate 20 %: \(doubled) of \(dw.count) replies came twice")
        #expect(dw.count >= 200 && Self.inside(doubled, of: dw.count, share: 0.2), "\(lines.last!)")
        // A corrupted reply is dropped by the receiver's IP layer (its header hit) or arrives
        // with a bad ICMP checksum: both count.
        let bad = try Self.probedRun(g, name: "corrupt", fault: "delay: 20ms, corrupt: 20%, engine: netem")
        let cw = bad.window(base: base, marker: 10)
        let spoiled = cw.filter { q in bad.replies[q].map { !$0.contains { $0.ok } } ?? true }.count
        lines.append("netem corrupt 20 %: \(spoiled) of \(cw.count) replies lost or with a bad checksum")
        #expect(cw.count >= 200 && Self.inside(spoiled, of: cw.count, share: 0.2), "\(lines.last!)")
        // Reorder 25 %: a quarter go at once, overtaking the delayed ones.
        let ro = try Self.probedRun(g, name: "reorder", fault: "delay: 40ms, reorder: 25%, engine: netem")
        let rw = ro.window(base: base, marker: 20).compactMap(ro.rtt)
        let early = rw.filter { $0 < base + 20 }.count
        lines.append("netem reorder 25 % with 40 ms: \(early) of \(rw.count) replies not delayed")
        #expect(rw.count >= 150 && Self.inside(early, of: rw.count, share: 0.25), "\(lines.last!)")
        // Ingress: the requests are delayed on their way in, through an IFB.
        let (ing, journal, spawnedAt, _) = try Self.probedRunWithJournal(
            g, name: "ingress", fault: "direction: ingress, delay: 30ms, engine: netem")
        let iw = ing.window(base: base, marker: 10).compactMap(ing.rtt).map { $0 - base }
        lines.append("netem ingress 30 ms: median \(fixed(Self.median(iw), 1)) ms added, n \(iw.count)")
        #expect(iw.count >= 200 && Self.median(iw) - 30 > -2 && Self.median(iw) - 30 < 6, "\(lines.last!)")
        // The guest's clock started at its boot, this machine's long before: the agent's
        // instants reach the journal mapped onto the runner's clock. The first delayed probe
        // left between the injection's instant (less a probe's gap) and its confirmation.
        let guestUptime =
            Double(g.run(["cut", "-d", " ", "-f1", "/proc/uptime"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let hostUptime = Double(MonotonicClock.now()) / 1e9
        let record = try #require(journal.faults.first)
        let injected = spawnedAt + Double(record.injectedAt ?? 0) / 1e9
        let confirmed = spawnedAt + Double(record.confirmedAt ?? 0) / 1e9
        if let first = ing.window(base: base, marker: 10).first, let sent = ing.sent[first] {
            lines.append(
                "clocks: the guest's monotonic clock at \(fixed(guestUptime, 1)) s, this machine's at \(fixed(hostUptime, 1)) s; "
                    + "the first delayed probe left \(fixed((sent - injected) * 1000, 1)) ms after the mapped injection "
                    + "(± \(fixed(Double(record.clockUncertainty ?? 0) / 1e6, 2)) ms), confirmed \(fixed((confirmed - injected) * 1000, 1)) ms after it"
            )
            #expect(abs(hostUptime - guestUptime) > 10, "the guest's clock is this machine's: \(guestUptime) s")
            #expect(sent - injected > -0.03 && sent - confirmed < 0.3, "\(lines.last!)")
        } else {
            Issue.record("no delayed probe in the ingress run")
        }
        // The queue engine's ingress: its delay line on the requests' way in.
        let qi = try Self.probedRun(g, name: "ingress-queue", fault: "direction: ingress, delay: 30ms, engine: queue")
        let qiw = qi.window(base: base, marker: 10).compactMap(qi.rtt).map { $0 - base }
        lines.append("queue ingress 30 ms: median \(fixed(Self.median(qiw), 1)) ms added, n \(qiw.count)")
        #expect(qiw.count >= 200 && Self.median(qiw) - 30 > -2 && Self.median(qiw) - 30 < 6, "\(lines.last!)")
        // A rate: the guest sends a stream to the peer, which counts what arrives.
        try Self.startStreamer(g)
        defer { _ = g.run(["pkill", "-f", "guest-streamer-marker"]) }
        let free = try Self.streamRun(g, name: "rate-none", fault: nil)
        lines.append("no rate: \(fixed(free / 1e6, 2)) MB/s received")
        for engine in ["netem", "queue"] {
            let got = try Self.streamRun(g, name: "rate-\(engine)", fault: "rate: 4mbit, engine: \(engine)")
            // 4 mbit is 500 kB/s on the wire; TCP's goodput is the payload of full frames
            // (1448 of 1514 bytes: 95.6 %), less what acknowledgements and timers lose.
            lines.append(
                "\(engine) rate 4 mbit: \(fixed(got / 1e3, 1)) kB/s received (\(fixed(100 * got / 500_000, 1)) % of the wire rate)")
            #expect(got > 0.85 * 500_000 && got < 1.01 * 500_000, "\(lines.last!)")
            #expect(free > 2 * got, "\(lines.last!) — unshaped only \(free) B/s")
        }
        let qdiscs = g.run(["tc", "qdisc", "show"]).stdout
        #expect(!qdiscs.contains("netem") && !qdiscs.contains("ifb"), "left in the guest: \(qdiscs)")
        print("in the guest (base round trip \(fixed(base, 2)) ms):\n  " + lines.joined(separator: "\n  "))
    }

    @Test(
        "booted on Debian's kernel, an ssh host with sch_netem: a 40 ms netem delay toward a peer is 40 ms more on the peer's handshakes, and none after"
    )
    func netemDelay() throws {
        let g = try Guest(octet: 236)
        print("guest: \(g.accel), init after \(fixed(g.initSeconds, 1)) s, ssh answered after \(fixed(g.bootSeconds, 1)) s")
        #expect(g.bootSeconds < 60, "a boot took \(g.bootSeconds) s")
        let uname = g.run(["uname", "-r"]).stdout
        #expect(uname.hasSuffix("-amd64\n"), "the guest's kernel: \(uname)")
        let before = Self.handshakes(g, count: 20, gapMs: 20)
        #expect(before.count == 20 && before.allSatisfy { $0 >= 0 }, "\(before)")
        let base = Self.median(before)
        try """
        version: 1
        title: netem delay in a guest
        duration: 14s
        hosts:
          \(g.host)
        faults:
          - {name: slow, at: 1s, duration: 10s, network: {host: g1, device: eth0, to: \(g.peer), delay: 40ms, engine: netem}}
        """.write(toFile: "\(g.dir)/delay.yaml", atomically: true, encoding: .utf8)
        let (status, out, during) = try Self.sampledRun(g, "delay.yaml", gapMs: 20)
        #expect(status == 0, "exit \(status): \(out.suffix(1500))")
        let journal = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(g.dir)/reports/latest/journal.json")))
        let slow = try #require(journal.faults.first)
        #expect(slow.detail?.contains("netem") == true, "the engine used: \(slow.detail ?? "-")")
        let delayed = during.filter { $0 >= base + 20 }
        print(
            "handshakes to the guest: \(fixed(base, 2)) ms before; \(delayed.count) of \(during.count) delayed during the run, median \(fixed(Self.median(delayed), 2)) ms"
        )
        #expect(delayed.count >= 100, "\(delayed.count) of \(during.count) handshakes were delayed")
        let added = Self.median(delayed) - base
        #expect(added - 40 > -2 && added - 40 < 6, "the delay added \(added) ms (a guest timer fires late, never early)")
        let after = Self.handshakes(g, count: 20, gapMs: 20)
        #expect(Self.median(after) < base + 10, "after the run: \(after)")
        let qdiscs = g.run(["tc", "qdisc", "show", "dev", "eth0"]).stdout
        #expect(!qdiscs.contains("netem"), "left in the guest: \(qdiscs)")
    }

    @Test(
        "cgroup v2 in the guest: memory.max below a supervised service's use makes the kernel kill it and the supervisor restart it (healed); cpu.max throttles a busy loop; both files back"
    )
    func cgroupV2Limits() throws {
        let g = try Guest(octet: 251)
        // Two services as systemd would run them: each in a cgroup of its own, one supervised.
        for c in ["fl-hog", "fl-spin"] { #expect(g.run(["mkdir", "/sys/fs/cgroup/\(c)"]).status == 0) }
        let hold = "import time; x = b'x' * (48 << 20); time.sleep(3600)"
        let spec = SupervisorSpec(
            name: "hog", argv: ["python3", "-c", hold, "guest-hog-marker"], restart: LabRestart(always: true, delay: 100_000_000),
            cgroups: ["/sys/fs/cgroup/fl-hog"])
        try JSONEncoder().encode(spec).write(to: URL(fileURLWithPath: "\(g.dir)/hog.json"))
        let start = g.run([
            "sh", "-c",
            "setsid \(FaultlineBinary.path) lab supervise --spec \(g.dir)/hog.json > /run/hog.log 2>&1 < /dev/null & "
                + "setsid \(FaultlineBinary.path) lab cgroup-exec --cgroup /sys/fs/cgroup/fl-spin -- python3 -c 'while True: pass' guest-spin-marker > /dev/null 2>&1 < /dev/null &",
        ])
        #expect(start.status == 0, "\(start.stderr)")
        // Python under emulation: until the hog holds its 48 MiB and the loop runs in its cgroup.
        try waitUntil(60) {
            (UInt64(g.run(["cat", "/sys/fs/cgroup/fl-hog/memory.current"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
                > 40 << 20 && !g.run(["cat", "/sys/fs/cgroup/fl-spin/cgroup.procs"]).stdout.isEmpty
        }
        try """
        version: 1
        title: cgroup v2 limits in a guest
        duration: 12s
        hosts:
          \(g.host)
        faults:
          - {name: squeeze, at: 1s, duration: 8s, memory: {host: g1, process: {cmdline: guest-hog-marker}, max: 32MiB}}
          - {name: quota, at: 1s, duration: 8s, cpu: {host: g1, process: {cmdline: guest-spin-marker}, max: 20%}}
        expect:
          healed: {fault: squeeze, within: 6s}
        """.write(toFile: "\(g.dir)/limits.yaml", atomically: true, encoding: .utf8)
        let runner = try FaultlineBinary.start(["run", "limits.yaml", "--state-dir", "state", "--out", "reports"], in: g.dir)
        let out = FaultlineBinary.collect(runner, in: g.dir)
        let journal = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(g.dir)/reports/latest/journal.json")))
        let f = Dictionary(uniqueKeysWithValues: journal.faults.map { ($0.name, $0) })
        print("guest limits: \(f["squeeze"]?.measured ?? "-") | \(f["quota"]?.measured ?? "-")")
        #expect(out.status == 0, "exit \(out.status): \(out.stdout.suffix(3000))\(out.stderr.suffix(1000))")
        // v2 kills to meet a limit set below what the cgroup uses (v1 refuses the write).
        let kills = f["squeeze"]?.measured?.firstMatch(of: /([0-9]+) OOM kill/).flatMap { Int($0.1) }
        #expect((kills ?? 0) >= 1 && f["squeeze"]?.detail?.contains("/sys/fs/cgroup/fl-hog") == true, "\(f["squeeze"].debugDescription)")
        #expect(journal.checks.first { $0.name == "healed(squeeze)" }?.passed == true, "\(journal.checks)")
        let throttled = f["quota"]?.measured?.firstMatch(of: /throttled in ([0-9]+) of ([0-9]+) periods/)
        #expect(throttled.map { Int($0.1)! >= 10 } == true, "\(f["quota"]?.measured ?? "")")
        #expect(g.run(["cat", "/sys/fs/cgroup/fl-hog/memory.max"]).stdout == "max\n")
        #expect(g.run(["cat", "/sys/fs/cgroup/fl-spin/cpu.max"]).stdout == "max 100000\n")
        #expect(g.run(["grep", "-c", "killed by signal 9", "/run/hog.log"]).stdout != "0\n", "\(g.run(["cat", "/run/hog.log"]).stdout)")
    }

    /// Redis with Sentinel inside the guest (a primary, a replica, three Sentinels on the guest's
    /// address): `start.sh` kills what ran before and starts them afresh, then waits until the
    /// Sentinels know the replica and agree on a quorum.
    static func startSentinels(_ g: Guest) throws {
        let a = g.address
        var script = "pkill -9 -f redis- ; sleep 0.3; rm -rf /run/redis && mkdir -p /run/redis && cd /run/redis\n"
        script +=
            "redis-server --port 6379 --bind \(a) --protected-mode no --save '' --appendonly no --dir /run/redis --daemonize yes --logfile /run/redis/r1.log\n"
        script +=
            "redis-server --port 6380 --bind \(a) --protected-mode no --save '' --appendonly no --dir /run/redis --replicaof \(a) 6379 --daemonize yes --logfile /run/redis/r2.log\n"
        for i in 0..<3 {
            script += """
                printf 'port \(26379 + i)\\nbind \(a)\\nprotected-mode no\\ndir /run/redis\\nlogfile /run/redis/s\(i).log\\ndaemonize yes\\nsentinel monitor mymaster \(a) 6379 2\\nsentinel down-after-milliseconds mymaster 1000\\nsentinel failover-timeout mymaster 5000\\n' > s\(i).conf
                redis-sentinel /run/redis/s\(i).conf

                """
        }
        script += """
            for i in $(seq 1 600); do
              n=$(redis-cli -h \(a) -p 26379 SENTINEL replicas mymaster 2>/dev/null | grep -c '^6380$')
              q=$(redis-cli -h \(a) -p 26379 SENTINEL ckquorum mymaster 2>/dev/null)
              case "$q" in OK*) [ "$n" -ge 1 ] && exit 0 ;; esac
              sleep 0.1
            done
            echo "sentinels never agreed: $q"; exit 1

            """
        try script.write(toFile: "\(g.dir)/start.sh", atomically: true, encoding: .utf8)
        let r = g.run(["sh", "\(g.dir)/start.sh"], timeout: 90_000_000_000)
        guard r.status == 0 else { throw TestFailure("Redis in the guest: \(r.stdout)\(r.stderr)") }
    }

    /// The primary killed at 1.5 s; with `jump`, the guest's system clock stepped 20 s ahead at
    /// 1 s and back at 3 s. Probes from this machine: a write at the primary the Sentinels name
    /// (its recovery is the failover), and Sentinel's own `sentinel_tilt`.
    static func sentinelRun(_ g: Guest, jump: Bool) throws -> Journal {
        let a = g.address
        let clock = jump ? "\n  - {name: jump, at: 1s, duration: 2s, clock: {host: g1, offset: 20s, system: true}}" : ""
        try """
        version: 1
        title: Redis Sentinel\(jump ? " after a clock jump" : "")
        duration: \(jump ? "90s" : "20s")
        hosts:
          \(g.host)
        probes:
          - name: primary-writable
            interval: 100ms
            command:
              shell: set -- $(redis-cli -h \(a) -p 26379 --raw SENTINEL get-master-addr-by-name mymaster) && redis-cli -h "$1" -p "$2" SET k v
              stdout_contains: OK
              timeout: 1s
          - name: not-tilted
            interval: 100ms
            command: {argv: [redis-cli, -h, \(a), -p, "26379", INFO, sentinel], stdout_contains: "sentinel_tilt:0", timeout: 1s}
        faults:
          - {name: kill-primary, at: 1500ms, kill: {host: g1, process: {port: 6379}, signal: KILL}}\(clock)
        expect:
          recovery_time:
            - {probe: primary-writable, fault: kill-primary, max: 85s, streak: 5}
        settings:
          settle_timeout: 60s
        """.write(toFile: "\(g.dir)/sentinel.yaml", atomically: true, encoding: .utf8)
        let runner = try FaultlineBinary.start(["run", "sentinel.yaml", "--state-dir", "state", "--out", "reports"], in: g.dir)
        let out = FaultlineBinary.collect(runner, in: g.dir)
        guard out.status == 0 || out.status == 1 else { throw TestFailure("exit \(out.status): \(out.stdout.suffix(3000))") }
        return try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(g.dir)/reports/latest/journal.json")))
    }

    @Test(
        "Sentinel on a clock jump: the guest's system clock stepped 20 s ahead and back puts every Sentinel in TILT, which holds the failover back until it ends; the clock is back afterwards"
    )
    func sentinelTilt() throws {
        let g = try Guest(octet: 252)
        try Self.startSentinels(g)
        let plain = try Self.sentinelRun(g, jump: false)
        let baseline = try #require(plain.checks.first { $0.name.hasPrefix("recovery_time(primary-writable") })
        try Self.startSentinels(g)
        let jumped = try Self.sentinelRun(g, jump: true)
        let delayed = try #require(jumped.checks.first { $0.name.hasPrefix("recovery_time(primary-writable") })
        let tilted = jumped.probes.first { $0.probe == "not-tilted" }?.ok.filter { !$0 }.count ?? 0
        let jump = try #require(jumped.faults.first { $0.name == "jump" })
        let series = jumped.probes.first { $0.probe == "not-tilted" }
        let failedAt = series.map { s in zip(s.started, s.ok).filter { !$0.1 }.map(\.0) } ?? []
        let tiltText =
            failedAt.isEmpty ? "never" : "from +\(DurationText.format(failedAt.first!)) to +\(DurationText.format(failedAt.last!))"
        print(
            "sentinel failover: \(baseline.measured) without a clock jump, \(delayed.measured) after one; TILT (INFO sentinel, every 100 ms) \(tiltText); \(jump.confirmation ?? "-")"
        )
        #expect(jump.confirmed && jump.detail?.contains("system clock +20") == true, "\(jump)")
        // Without a jump: down-after 1 s, then the vote and the promotion.
        let plainTook = try #require(DurationText.parse(baseline.measured), "\(baseline)")
        #expect(baseline.passed && plainTook < 15_000_000_000, "\(baseline)")
        // With it: Sentinel enters TILT at the step (20 s ahead) and again at the step back, and
        // acts on nothing for 30 s after the last: the failover waits for that.
        // What the Sentinels said, for the record (their log goes with the guest).
        print(g.run(["sh", "-c", "grep -E 'tilt|sdown|odown|failover|switch-master|elected' /run/redis/s0.log | tail -n 30"]).stdout)
        // Not recovered within the run (88 s after the kill) is a delay too, and said so.
        let jumpedTook = DurationText.parse(delayed.measured) ?? 88_500_000_000
        #expect(jumpedTook > plainTook + 20_000_000_000, "\(delayed) vs \(baseline)")
        #expect(tilted >= 200, "TILT seen in \(tilted) samples")
        // The clock is back: the guest's reads this machine's within a second.
        let guestNow = Double(g.run(["date", "+%s.%N"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(abs(guestNow - Date().timeIntervalSince1970) < 1.5, "guest clock \(guestNow)")
        #expect(jumped.residue.isEmpty, "\(jumped.residue)")
    }
}
