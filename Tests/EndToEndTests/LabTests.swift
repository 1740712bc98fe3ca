import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// `faultline lab` against the real kernel: namespaces, veths, a bridge, PID namespaces.
@Suite("lab up and down", .serialized, .enabled(if: getuid() == 0, "needs root to create network namespaces"))
struct LabTests {
    /// A scratch lab directory and a lab with a unique name.
    final class Scratch {
        let dir: String
        let name = "t\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
        init() throws { dir = try temporaryDirectory() }
        deinit {
            _ = try? FaultlineBinary.run(["lab", "down", name, "--lab-dir", "\(dir)/labs"], in: dir)
            try? FileManager.default.removeItem(atPath: dir)
        }

        /// Writes a lab of `hosts` hosts on 198.18.`octet`.0/24, each serving HTTP on :8000.
        func lab(octet: Int, hosts: Int = 2, name: String? = nil, extraService: String = "") throws -> String {
            let labName = name ?? self.name
            var text = "lab: \(labName)\nsubnet: 198.18.\(octet).0/24\nhosts:\n"
            for i in 1...hosts {
                text += """
                      n\(i):
                        address: 198.18.\(octet).\(10 + i)
                        services:
                          - name: web
                            argv: [python3, -m, http.server, "8000", --bind, "{address}", --directory, "{dir}"]
                            ready: {tcp: "{address}:8000"}
                    \(extraService)

                    """
            }
            let file = "\(labName).yaml"
            try text.write(toFile: "\(dir)/\(file)", atomically: true, encoding: .utf8)
            return file
        }

        func faultline(_ args: [String]) throws -> FaultlineBinary.Output {
            try FaultlineBinary.run(args + ["--lab-dir", "\(dir)/labs"], in: dir)
        }

        /// Everything of lab `name` the kernel or the file system still holds.
        func leftovers(_ lab: String? = nil) -> [String] {
            let prefix = "fl-\(lab ?? name)-"
            var out: [String] = []
            let namespaces = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
            out += namespaces.filter { $0.hasPrefix(prefix) }.map { "netns \($0)" }
            let links = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
            out += links.filter { $0.hasPrefix(prefix) }.map { "link \($0)" }
            for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? [] {
                let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
                if cmd.contains("\(dir)/labs/\(lab ?? name)") { out.append("process \(pid)") }
            }
            if FileManager.default.fileExists(atPath: "\(dir)/labs/\(lab ?? name)") { out.append("state dir") }
            return out
        }

        func file(_ relative: String) -> String { (try? String(contentsOfFile: "\(dir)/\(relative)", encoding: .utf8)) ?? "" }

        func state(_ lab: String? = nil) throws -> LabState {
            try #require(LabState.read(dataRoot: "\(dir)/labs", lab: lab ?? name))
        }
    }

    @Test("up: hosts reachable on their addresses, each in its own PID namespace; down leaves nothing")
    func upDown() throws {
        let s = try Scratch()
        let file = try s.lab(octet: 231, hosts: 3)
        let up = try s.faultline(["lab", "up", file])
        #expect(up.status == 0, "\(up.stdout)\(up.stderr)")
        let state = try s.state()
        #expect(state.hosts.map(\.namespace) == ["fl-\(s.name)-n1", "fl-\(s.name)-n2", "fl-\(s.name)-n3"])
        for i in 1...3 { try waitForAddress("198.18.231.\(10 + i)", port: 8000) }
        // Inside n1 only n1's processes exist: its init (PID 1) and its web server.
        let initPid = try #require(state.hosts[0].initProcess?.pid)
        let ps = Spawner.run(
            .argv(["nsenter", "--target", String(initPid), "--pid", "--mount", "ps", "-e", "-o", "pid=,comm="]), timeout: 5_000_000_000)
        let lines = ps.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.filter { $0.hasSuffix("python3") }.count == 1, "\(ps.output)")
        #expect(lines.first?.hasPrefix("1 ") == true)
        let status = try s.faultline(["lab", "status", s.name])
        #expect(status.stdout.components(separatedBy: "init alive").count == 4, "\(status.stdout)")
        let down = try s.faultline(["lab", "down", s.name])
        #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("two labs coexist; a third with an overlapping subnet is refused")
    func twoLabs() throws {
        let s = try Scratch()
        let other = "u\(s.name.dropFirst())"
        let a = try s.lab(octet: 232)
        let b = try s.lab(octet: 233, name: other)
        #expect(try s.faultline(["lab", "up", a]).status == 0)
        defer { _ = try? s.faultline(["lab", "down", other]) }
        #expect(try s.faultline(["lab", "up", b]).status == 0)
        try waitForAddress("198.18.232.11", port: 8000)
        try waitForAddress("198.18.233.11", port: 8000)
        let clash = try s.lab(octet: 232, name: "v\(s.name.dropFirst())")
        let refused = try s.faultline(["lab", "up", clash])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("overlaps lab '\(s.name)'"), "\(refused.stderr)")
        #expect(try s.faultline(["lab", "down", other]).status == 0)
        #expect(try s.faultline(["lab", "down", s.name]).status == 0)
        #expect(s.leftovers().isEmpty && s.leftovers(other).isEmpty)
    }

    @Test("a service that never gets ready: up fails and removes what it created")
    func failedBringUp() throws {
        let s = try Scratch()
        let file = try s.lab(
            octet: 234, hosts: 1,
            extraService: """
                      - name: never
                        argv: [sh, -c, "echo starting; echo cannot listen on 9 >&2; exec sleep 600"]
                        ready: {tcp: "{address}:9"}
                        ready_within: 500ms
                """)
        let up = try s.faultline(["lab", "up", file])
        #expect(up.status != 0)
        #expect(up.stderr.contains("service 'never' not ready within 500ms"), "\(up.stderr)")
        // What the service said last is in the error: usually the reason.
        #expect(up.stderr.contains("never.log) ends: starting / cannot listen on 9"), "\(up.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("lab up SIGKILLed half-way: lab down removes everything from the state file")
    func crashDuringUp() throws {
        let s = try Scratch()
        let file = try s.lab(
            octet: 235, hosts: 2,
            extraService: """
                      - name: slow
                        argv: [sleep, "600"]
                        ready: {tcp: "{address}:9"}
                        ready_within: 60s
                """)
        let p = try FaultlineBinary.start(["lab", "up", file, "--lab-dir", "\(s.dir)/labs"], in: s.dir)
        // Wait until both hosts and their services exist, then kill the bring-up mid-wait.
        try waitUntil(10) {
            (LabState.read(dataRoot: "\(s.dir)/labs", lab: s.name)?.hosts.flatMap(\.services).compactMap(\.process).count ?? 0) == 4
        }
        kill(p.pid, SIGKILL)
        p.wait()
        #expect(!s.leftovers().isEmpty)
        let down = try s.faultline(["lab", "down", s.name])
        #expect(down.status == 0, "\(down.stdout)\(down.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("a malformed lab file exits 64 with positions")
    func malformed() throws {
        let s = try Scratch()
        try "lab: Bad_Name\nsubnet: 10.0.0.0/24\nhosts: {n1: {address: 198.18.1.300}}\n".write(
            toFile: "\(s.dir)/bad.yaml", atomically: true, encoding: .utf8)
        let out = try s.faultline(["lab", "up", "bad.yaml"])
        #expect(out.status == 64)
        #expect(
            out.stderr.split(separator: "\n").map(String.init) == [
                "bad.yaml:1:6: 'lab' must be 1 to 8 lowercase letters or digits starting with a letter (it prefixes interface names), got 'Bad_Name'",
                "bad.yaml:2:9: 'subnet' must be a network from /16 to /29 inside 198.18.0.0/15 (the benchmarking range), like '198.18.1.0/24', got '10.0.0.0/24'",
            ])
    }
}

/// Polls until a TCP connect to `address:port` succeeds (at most 10 s).
func waitForAddress(_ address: String, port: Int) throws {
    let probe = try Probes.make(ProbeSpec(name: "t", kind: .tcp(.init(host: address, port: port))))
    try waitUntil(10) { probe.sample().ok }
}

/// Experiments whose faults run on lab hosts, through agents inside the hosts.
@Suite("experiments in a lab", .serialized, .enabled(if: getuid() == 0, "needs root to create network namespaces"))
struct LabRunTests {
    /// A two-host lab on 198.18.`octet`.0/24 and an experiment pausing `python3` on n1.
    func write(_ s: LabTests.Scratch, octet: Int, pause: String, duration: String) throws -> String {
        _ = try s.lab(octet: octet, hosts: 2)
        let text = """
            version: 1
            title: pause n1's server
            lab: \(s.name).yaml
            duration: \(duration)
            steady_state: [{name: n2, http: "http://198.18.\(octet).12:8000/"}]
            probes:
              - {name: n1, interval: 20ms, http: {url: "http://198.18.\(octet).11:8000/", timeout: 100ms}}
              - {name: n2, interval: 20ms, http: {url: "http://198.18.\(octet).12:8000/", timeout: 100ms}}
            faults: [{name: freeze, at: 200ms, duration: \(pause), pause: {host: n1, process: python3}}]
            expect: {availability: {probe: n2, min: 100%}}
            """
        try text.write(toFile: "\(s.dir)/e.yaml", atomically: true, encoding: .utf8)
        return "e.yaml"
    }

    func run(_ s: LabTests.Scratch, _ file: String) throws -> Spawned {
        try FaultlineBinary.start(["run", file, "--state-dir", "state", "--out", "reports", "--lab-dir", "\(s.dir)/labs"], in: s.dir)
    }

    /// The root-namespace pid of the web server on lab host `host`.
    func server(_ s: LabTests.Scratch, _ host: Int) -> Int32? {
        guard let hosts = LabState.read(dataRoot: "\(s.dir)/labs", lab: s.name)?.hosts, hosts.indices.contains(host) else { return nil }
        return hosts[host].services.first?.process?.pid
    }

    @Test("a process name on a lab host matches only that host; the run brings the lab up and down")
    func pauseOneHost() throws {
        let s = try LabTests.Scratch()
        let p = try run(s, try write(s, octet: 241, pause: "600ms", duration: "1500ms"))
        var states: [Character] = []
        try waitUntil(10) { server(s, 0) != nil && server(s, 1) != nil }
        let (n1, n2) = (server(s, 0) ?? 0, server(s, 1) ?? 0)
        while p.isRunning {
            if let st = processState(n1), st == "T" { states.append(st) }
            #expect(processState(n2) != "T")
            usleep(5_000)
        }
        let out = FaultlineBinary.collect(p, in: s.dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(!states.isEmpty, "n1's server was never seen stopped")
        let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(s.dir)/reports/latest/journal.json")))
        #expect(j.faults.first?.host == "n1" && j.faults.first?.confirmed == true && j.faults.first?.revertedAt != nil)
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("runner SIGKILLed while a lab host is paused: the agent inside the host continues it")
    func runnerKilledInLab() throws {
        let s = try LabTests.Scratch()
        let p = try run(s, try write(s, octet: 242, pause: "20s", duration: "30s"))
        try waitUntil(10) { server(s, 0).flatMap(processState) == "T" }
        let n1 = server(s, 0) ?? 0
        kill(p.pid, SIGKILL)
        let killedAt = Date()
        p.wait()
        do {
            try waitUntil(3) { processState(n1) != "T" }
        } catch {
            Issue.record("still stopped 3 s after the runner died; runner stderr: \(s.file("stderr"))")
        }
        #expect(Date().timeIntervalSince(killedAt) < 2, "lease expiry (1 s) + 1 s")
        #expect(try s.faultline(["lab", "down", s.name]).status == 0)
        #expect(s.leftovers().isEmpty)
    }

    @Test("runner and the lab host's agent SIGKILLed: recover --all reverts from the ledger inside the host")
    func recoverInLab() throws {
        let s = try LabTests.Scratch()
        let p = try run(s, try write(s, octet: 243, pause: "20s", duration: "30s"))
        try waitUntil(10) { server(s, 0).flatMap(processState) == "T" }
        let n1 = server(s, 0) ?? 0
        // This runner's agents only (other suites run experiments at the same time).
        let agents = descendants(of: p.pid).filter { commandLine($0).contains(" agent --run ") }
        #expect(agents.count == 2, "\(agents.map(commandLine))")
        for a in agents { kill(a, SIGKILL) }
        kill(p.pid, SIGKILL)
        p.wait()
        usleep(300_000)
        #expect(processState(n1) == "T")
        let out = try s.faultline(["recover", "--all", "--state-dir", "state"])
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("lab \(s.name) host n1: run "), "\(out.stdout)")
        try waitUntil(2) { processState(n1) != "T" }
        #expect(try s.faultline(["lab", "down", s.name]).status == 0)
        #expect(s.leftovers().isEmpty)
    }

    @Test("a host with a private /tmp starts its service and runs its agent when the faultline binary lives under /tmp")
    func binaryUnderTmp() throws {
        // A checkout under /tmp, as a CI runner's work folder or a downloaded release is: the
        // binary there is hidden inside a host whose /tmp is private ("nsenter: failed to
        // execute /tmp/…/faultline" before), so commands enter the host through a descriptor.
        let bin = try temporaryDirectory()
        let outside = try temporaryDirectory(under: "/var/tmp")
        defer {
            _ = try? FaultlineBinary.run(["lab", "down", "tmpbin", "--lab-dir", "\(outside)/labs"], in: outside)
            try? FileManager.default.removeItem(atPath: bin)
            try? FileManager.default.removeItem(atPath: outside)
        }
        try FileManager.default.copyItem(atPath: FaultlineBinary.path, toPath: "\(bin)/faultline")
        try """
        lab: tmpbin
        subnet: 198.18.212.0/24
        hosts:
          n1:
            address: 198.18.212.11
            private: [/run, /tmp]
            services:
              - name: web
                argv: [python3, -m, http.server, "8000", --bind, "{address}", --directory, "{dir}"]
                ready: {tcp: "{address}:8000"}
        """.write(toFile: "\(outside)/lab.yaml", atomically: true, encoding: .utf8)
        try """
        version: 1
        title: a pause on a host with a private /tmp
        lab: lab.yaml
        duration: 800ms
        faults: [{name: hold, at: 200ms, duration: 300ms, pause: {host: n1, process: {cmdline: "http\\\\.server 8000"}}}]
        """.write(toFile: "\(outside)/e.yaml", atomically: true, encoding: .utf8)
        let p = try Spawned(
            ["\(bin)/faultline", "run", "e.yaml", "--lab-dir", "\(outside)/labs", "--state-dir", "\(outside)/state", "--out", "reports"],
            in: outside, stdout: "\(outside)/out", stderr: "\(outside)/err")
        let status = p.wait()
        let printed = ["out", "err"].map { (try? String(contentsOfFile: "\(outside)/\($0)", encoding: .utf8)) ?? "" }.joined()
        #expect(status == 0, "\(printed)")
        let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(outside)/reports/latest/journal.json")))
        #expect(j.faults.first?.confirmed == true && j.faults.first?.revertedAt != nil, "\(j.faults)")
    }
}

/// Partitions among lab hosts: nft tables inside the hosts, confirmed and healed.
@Suite("partitions", .serialized, .enabled(if: getuid() == 0, "needs root to create network namespaces"))
struct PartitionTests {
    /// From inside `host`'s network namespace: does a TCP connect to `address` get any answer?
    func answers(_ s: LabTests.Scratch, from host: String, to address: String) -> Bool {
        let script =
            "import socket\ns=socket.socket(); s.settimeout(0.3)\ntry:\n s.connect(('\(address)', 9)); print('open')\nexcept ConnectionRefusedError: print('open')\nexcept Exception: print('cut')"
        let r = Spawner.run(.argv(["ip", "netns", "exec", "fl-\(s.name)-\(host)", "python3", "-c", script]), timeout: 5_000_000_000)
        return r.output.contains("open")
    }

    func tables(_ s: LabTests.Scratch, _ host: String) -> String {
        Spawner.run(.argv(["ip", "netns", "exec", "fl-\(s.name)-\(host)", "nft", "list", "tables"]), timeout: 5_000_000_000).output
    }

    func experiment(_ s: LabTests.Scratch, octet: Int, faults: String, duration: String) throws -> Spawned {
        _ = try s.lab(octet: octet, hosts: 3)
        try """
        version: 1
        title: partition
        lab: \(s.name).yaml
        duration: \(duration)
        faults:
        \(faults)
        """.write(toFile: "\(s.dir)/p.yaml", atomically: true, encoding: .utf8)
        return try FaultlineBinary.start(
            ["run", "p.yaml", "--state-dir", "state", "--out", "reports", "--lab-dir", "\(s.dir)/labs"], in: s.dir)
    }

    @Test("a partition blocks TCP across the cut and not within a side; the heal restores it; both confirmed")
    func groups() throws {
        let s = try LabTests.Scratch()
        let p = try experiment(
            s, octet: 244, faults: "  - {name: split, at: 300ms, duration: 2s, partition: {groups: [[n1], [n2, n3]]}}", duration: "3s")
        try waitUntil(10) { tables(s, "n2").contains("faultline_") }
        usleep(100_000)
        #expect(!answers(s, from: "n2", to: "198.18.244.11"), "n2 reaches n1 across the cut")
        #expect(answers(s, from: "n2", to: "198.18.244.13"), "n2 cannot reach n3 on its own side")
        #expect(!answers(s, from: "n1", to: "198.18.244.12"))
        let out = FaultlineBinary.collect(p, in: s.dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(s.dir)/reports/latest/journal.json")))
        let f = try #require(j.faults.first)
        #expect(f.kind == "partition" && f.confirmed && f.revertedAt != nil, "\(f)")
        #expect(j.events.contains { $0.what == "healed split" })
        #expect(j.residue.isEmpty, "\(j.residue)")
        #expect(s.leftovers().isEmpty)
    }

    @Test("runner SIGKILLed while a partition and a pause hold: the agents remove the tables and continue the process")
    func runnerKilled() throws {
        let s = try LabTests.Scratch()
        let faults = """
              - {name: split, at: 200ms, partition: {isolate: n3}}
              - {name: freeze, at: 200ms, duration: 20s, pause: {host: n1, process: python3}}
            """
        let p = try experiment(s, octet: 245, faults: faults, duration: "30s")
        try waitUntil(10) { tables(s, "n3").contains("faultline_") && tables(s, "n1").contains("faultline_") }
        let n1 = try #require(LabState.read(dataRoot: "\(s.dir)/labs", lab: s.name)?.hosts[0].services.first?.process?.pid)
        try waitUntil(5) { processState(n1) == "T" }
        kill(p.pid, SIGKILL)
        let killedAt = Date()
        p.wait()
        try waitUntil(3) {
            ["n1", "n2", "n3"].allSatisfy { !tables(s, $0).contains("faultline_") } && processState(n1) != "T"
        }
        #expect(Date().timeIntervalSince(killedAt) < 2, "within lease expiry (1 s) + 1 s")
        #expect(answers(s, from: "n1", to: "198.18.245.13"))
        #expect(try s.faultline(["lab", "down", s.name]).status == 0)
        #expect(s.leftovers().isEmpty)
    }
}

@Suite("residue in a lab host", .serialized, .enabled(if: getuid() == 0, "needs root to create network namespaces"))
struct LabResidueTests {
    @Test("a process left stopped inside a lab host is that host's residue: exit 4")
    func stoppedProcess() throws {
        let s = try LabTests.Scratch()
        let lab = try s.lab(
            octet: 246, hosts: 1,
            extraService: """
                      - name: sleeper
                        argv: [sleep, "600"]
                """)
        #expect(try s.faultline(["lab", "up", lab]).status == 0)
        let state = try s.state()
        let web = try #require(state.hosts[0].services.first { $0.name == "web" }?.process?.pid)
        defer { kill(web, SIGCONT) }
        // The agent on n1 exists because of the kill; the action stops n1's web server and
        // nothing continues it.
        try """
        version: 1
        title: leaves a process stopped
        lab: \(lab)
        duration: 300ms
        faults: [{at: 0s, kill: {host: n1, process: sleep, signal: KILL}}]
        actions: [{at: 100ms, command: [kill, -STOP, "\(web)"]}]
        """.write(toFile: "\(s.dir)/e.yaml", atomically: true, encoding: .utf8)
        let out = try s.faultline(["run", "e.yaml", "--state-dir", "state", "--out", "reports"])
        #expect(out.status == 4, "\(out.stdout)\(out.stderr)")
        let j = try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(s.dir)/reports/latest/journal.json")))
        #expect(
            j.residue.count == 1 && j.residue.first?.hasPrefix("n1: process ") == true
                && j.residue.first?.hasSuffix("(python3) is stopped") == true, "\(j.residue)")
        kill(web, SIGCONT)
        #expect(try s.faultline(["lab", "down", s.name]).status == 0)
        #expect(s.leftovers().isEmpty)
    }
}
