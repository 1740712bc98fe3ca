import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The limit form of `cpu` and `memory` on a lab whose services have cgroups of their own
/// (`cgroup: true`), one of them under faultline's supervisor (`restart: always`): a web
/// server that keeps 256 KiB of every request (a leak) under a memory limit the kernel enforces
/// by killing it, a busy loop under a CPU quota, and direct writes under a disk write limit. What is checked comes from the kernel:
/// the cgroup's OOM kills and throttled periods, and each limit file read by a rollback (a
/// command of the experiment, run after every revert) once the fault is gone.
@Suite(
    "cgroup limits: memory.max, cpu.max and io.max on a lab service's cgroup", .serialized,
    .enabled(if: getuid() == 0, "needs root for a lab"))
struct CgroupLimitTests {
    final class Scratch {
        let dir: String
        let lab = "cg\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
        init() throws {
            dir = try temporaryDirectory()
            try """
            lab: \(lab)
            subnet: 198.18.240.0/24
            hosts:
              n1:
                address: 198.18.240.11
                files:
                  leaky.py: |
                    import http.server, sys
                    kept = []
                    class H(http.server.BaseHTTPRequestHandler):
                        def do_GET(self):
                            kept.append(b"x" * (256 * 1024))
                            body = b"%d\\n" % len(kept)
                            self.send_response(200)
                            self.send_header("Content-Length", str(len(body)))
                            self.end_headers()
                            self.wfile.write(body)
                        def log_message(self, *a):
                            pass
                    http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
                services:
                  - name: web
                    argv: [python3, "{dir}/leaky.py", "{address}", "8000"]
                    cgroup: true
                    restart: always
                    restart_delay: 200ms
                    ready: {tcp: "{address}:8000"}
                  - name: spin
                    argv: [python3, -c, "while True: pass", cgroup-test-spin]
                    cgroup: true
                  - name: writer
                    argv: [sh, -c, "while true; do dd if=/dev/zero of={dir}/io.bin bs=1M count=16 oflag=direct conv=fsync 2>/dev/null; done", cgroup-test-writer]
                    cgroup: true

            """.write(toFile: "\(dir)/lab.yaml", atomically: true, encoding: .utf8)
        }
        deinit {
            _ = try? FaultlineBinary.run(["lab", "down", lab, "--lab-dir", "\(dir)/labs"], in: dir)
            try? FileManager.default.removeItem(atPath: dir)
        }

        /// The limits from 500 ms for `hold`; the rollback writes each limit file's content to
        /// `after.txt`; a stop condition on a file when `stop`.
        func experiment(hold: String, length: String, stop: Bool = false) throws {
            let read =
                #"for d in $(find /sys/fs/cgroup -type d -name n1-web -path '*/faultline-lab-LAB/*') $(find /sys/fs/cgroup -type d -name n1-spin -path '*/faultline-lab-LAB/*') $(find /sys/fs/cgroup -type d -name n1-writer -path '*/faultline-lab-LAB/*'); do for f in memory.max memory.limit_in_bytes cpu.max cpu.cfs_quota_us io.max blkio.throttle.write_bps_device; do [ -e $d/$f ] && echo "$f $(cat $d/$f)"; done; done > after.txt"#
                .replacingOccurrences(of: "LAB", with: lab)
            try """
            version: 1
            title: limits on a lab's cgroups
            lab: lab.yaml
            duration: \(length)
            probes:
              - {name: web, interval: 20ms, http: {url: "http://198.18.240.11:8000/", timeout: 500ms}}
              - {name: guard, interval: 20ms, command: {argv: [test, "!", "-e", "\(dir)/trip"]}}
            faults:
              - {name: leak-limit, at: 500ms, duration: \(hold), memory: {host: n1, process: {cmdline: 'leaky\\.py'}, max: 40MiB}}
              - {name: quota, at: 500ms, duration: \(hold), cpu: {host: n1, process: {cmdline: cgroup-test-spin}, max: 20%}}
              - {name: slow-disk, at: 500ms, duration: \(hold), io: {host: n1, process: {cmdline: cgroup-test-writer}, device: \(dir)/labs, write: 2MiB/s}}
            expect:
              healed: {fault: leak-limit, within: 2s}
            rollbacks: [{name: read-limits, command: [sh, -c, \(JSONText.quoted(read))]}]
            \(stop ? "stop_when: {failures: {probe: guard}}" : "")
            """.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        }

        func start() throws -> Spawned {
            try FaultlineBinary.start(["run", "e.yaml", "--state-dir", "state", "--out", "reports", "--lab-dir", "\(dir)/labs"], in: dir)
        }
        func journal() throws -> Journal {
            try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
        }
        /// What the rollback read: file → value, both cgroups.
        func after() -> [String: String] {
            let text = (try? String(contentsOfFile: "\(dir)/after.txt", encoding: .utf8)) ?? ""
            return Dictionary(
                text.split(separator: "\n").map { l in
                    let kv = l.split(separator: " ", maxSplits: 1)
                    return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
                }, uniquingKeysWith: { a, _ in a })
        }
        /// Unlimited, as each version says it: v2 `max`, v1 the largest page multiple, -1 quota.
        func expectUnlimited(_ a: [String: String]) {
            #expect(!a.isEmpty, "the rollback read no limit file")
            for (file, value) in a {
                switch file {
                case "memory.max": #expect(value == "max", "\(file) \(value)")
                case "memory.limit_in_bytes": #expect((UInt64(value) ?? 0) > 1 << 60, "\(file) \(value)")
                case "cpu.max": #expect(value.hasPrefix("max "), "\(file) \(value)")
                case "cpu.cfs_quota_us": #expect(value == "-1", "\(file) \(value)")
                // No line for the disk: no limit on it.
                case "io.max", "blkio.throttle.write_bps_device": #expect(value.isEmpty, "\(file) \(value)")
                default: Issue.record("unexpected \(file)")
                }
            }
        }
        var labCgroups: [String] {
            let r = Spawner.run(.argv(["find", "/sys/fs/cgroup", "-type", "d", "-name", "faultline-lab-\(lab)"]), timeout: 10_000_000_000)
            return r.output.split(separator: "\n").map(String.init)
        }
    }

    @Test(
        "normal end: the kernel kills the leak at its limit and the supervisor restarts it (healed, a bracket); the quota throttles; both files back"
    )
    func normalEnd() throws {
        let s = try Scratch()
        try s.experiment(hold: "4s", length: "5s")
        let out = FaultlineBinary.collect(try s.start(), in: s.dir)
        let j = try s.journal()
        let f = Dictionary(uniqueKeysWithValues: j.faults.map { ($0.name, $0) })
        #expect(j.faults.allSatisfy { $0.confirmed && $0.revertedAt != nil }, "\(j.faults)\n\(out.stdout)")
        // 50 requests a second keep 12.5 MiB a second: the 40 MiB limit is reached within 4 s.
        let kills = f["leak-limit"]?.measured?.firstMatch(of: /([0-9]+) OOM kill/).flatMap { Int($0.1) }
        #expect((kills ?? 0) >= 1, "\(f["leak-limit"]?.measured ?? "")")
        let healed = try #require(j.checks.first { $0.name == "healed(leak-limit)" })
        // restart_delay 200 ms, then a Python start; the bracket is two 20 ms polls wide.
        let bounds = healed.measured.split(separator: "–").compactMap { DurationText.parse(String($0)) }
        #expect(healed.passed && bounds.count == 2 && bounds[0] >= 150_000_000 && bounds[0] <= bounds[1], "\(healed)")
        #expect(f["quota"]?.confirmation?.contains("throttled in") == true, "\(f["quota"].debugDescription)")
        // A busy loop held to 20 % of a CPU, throttled in nearly every 100 ms period.
        let share = f["quota"]?.measured?.firstMatch(of: /\(([0-9]+)% of a CPU\)/).flatMap { Int($0.1) }
        #expect(share.map { (10...30).contains($0) } == true, "\(f["quota"]?.measured ?? "")")
        // dd with O_DIRECT writes about 400 MB/s here unlimited; the cgroup held it to about 2 MiB/s.
        let wrote = f["slow-disk"]?.measured?.firstMatch(of: /wrote ([0-9.]+) (KiB|MiB|GiB)\/s/)
        let mib = wrote.flatMap { Double($0.1) }.map { v in wrote?.2 == "KiB" ? v / 1024 : wrote?.2 == "GiB" ? v * 1024 : v }
        #expect(mib.map { (1.0...2.6).contains($0) } == true, "\(f["slow-disk"]?.measured ?? "")")
        s.expectUnlimited(s.after())
        #expect(j.residue.isEmpty && s.labCgroups.isEmpty, "\(j.residue) \(s.labCgroups)")
    }

    @Test("web-memory-limit-heals (shipped): the kernel kills the leak at its limit, the supervisor restarts it, it serves again")
    func shipped() throws {
        let (out, j, dir) = try ShippedExperiment.run("web-memory-limit-heals.yaml")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(out.status == 0 && j.verdict == .passed, "\(out.stdout)\(out.stderr)")
        let kills = j.faults.first?.measured?.firstMatch(of: /([0-9]+) OOM kill/).flatMap { Int($0.1) }
        #expect((kills ?? 0) >= 1, "\(j.faults.first?.measured ?? "")")
        #expect(j.faults.first?.goneAt != nil && j.faults.first?.healedBy != nil)
    }

    @Test("a stop condition, SIGTERM: the limits are restored in the sweep", arguments: ["stop", "sigterm"])
    func stopped(_ how: String) throws {
        let s = try Scratch()
        try s.experiment(hold: "20s", length: "25s", stop: how == "stop")
        let p = try s.start()
        defer { p.stop() }
        try waitUntil(15) { s.holding() }
        if how == "stop" { FileManager.default.createFile(atPath: "\(s.dir)/trip", contents: nil) } else { kill(p.pid, SIGTERM) }
        let out = FaultlineBinary.collect(p, in: s.dir)
        #expect(out.status == ExitCode.aborted, "\(out.stdout)\(out.stderr)")
        s.expectUnlimited(s.after())
        #expect(s.labCgroups.isEmpty, "\(s.labCgroups)")
    }

    @Test("SIGKILL of the runner: the agent's lease lapses and it writes the old limits back")
    func runnerKilled() throws {
        let s = try Scratch()
        try s.experiment(hold: "20s", length: "25s")
        let p = try s.start()
        try waitUntil(15) { s.holding() }
        kill(p.pid, SIGKILL)
        p.wait()
        // The lab outlives its runner (`lab down` takes it down): its cgroups are there to read.
        try waitUntil(5) { s.limitsNow().values.allSatisfy { !$0.limited } && !s.limitsNow().isEmpty }
        let r = try FaultlineBinary.run(["recover", "--all", "--state-dir", "state", "--lab-dir", "\(s.dir)/labs"], in: s.dir)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let down = try FaultlineBinary.run(["lab", "down", s.lab, "--lab-dir", "\(s.dir)/labs"], in: s.dir)
        #expect(down.status == 0 && s.labCgroups.isEmpty, "\(down.stdout)\(down.stderr) \(s.labCgroups)")
    }
}

extension CgroupLimitTests.Scratch {
    /// Each limit file of the lab's two service cgroups, read now.
    func limitsNow() -> [String: (value: String, limited: Bool)] {
        var out: [String: (String, Bool)] = [:]
        for top in labCgroups {
            for leaf in ["n1-web", "n1-spin"] {
                for file in ["memory.max", "memory.limit_in_bytes", "cpu.max", "cpu.cfs_quota_us"] {
                    let path = "\(top)/\(leaf)/\(file)"
                    guard let v = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
                        continue
                    }
                    let unlimited = v == "max" || v.hasPrefix("max ") || v == "-1" || (UInt64(v) ?? 0) > 1 << 60
                    out[path] = (v, !unlimited)
                }
            }
        }
        return out
    }

    /// Both limits in place (a memory and a CPU file limited).
    func holding() -> Bool {
        let now = limitsNow()
        return now.contains { $0.key.contains("/memory") && $0.value.limited }
            && now.contains { $0.key.contains("cpu") && $0.value.limited }
    }
}
