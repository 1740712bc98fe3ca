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

    /// KVM where a guest booted under it before on this machine (`.build/guest/accel`), else
    /// TCG: a KVM guest hangs at boot on these machines although /dev/kvm exists.
    /// FAULTLINE_GUEST_ACCEL=kvm asks for KVM.
    static func accelerator() -> String {
        if let asked = ProcessInfo.processInfo.environment["FAULTLINE_GUEST_ACCEL"], ["kvm", "tcg"].contains(asked) { return asked }
        let kept = (try? String(contentsOfFile: "\(root)/.build/guest/accel", encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
        return kept == "kvm" ? "kvm" : "tcg"
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
        #expect(abs(added - 40) < 5, "the delay added \(added) ms")
        let after = Self.handshakes(g, count: 20, gapMs: 20)
        #expect(Self.median(after) < base + 10, "after the run: \(after)")
        let qdiscs = g.run(["tc", "qdisc", "show", "dev", "eth0"]).stdout
        #expect(!qdiscs.contains("netem"), "left in the guest: \(qdiscs)")
    }
}
