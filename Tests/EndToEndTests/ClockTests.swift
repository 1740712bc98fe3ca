import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// The clock fault on a lab host whose web server runs under libfaketime: measured where the
/// application shows its clock (the `Date:` header it writes), not only in the control file.
@Suite(
    "clock skew through libfaketime", .serialized,
    .enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: Faketime.library), "needs root and faketime"))
struct ClockTests {
    final class Scratch {
        let dir: String
        init() throws {
            dir = try temporaryDirectory(under: "/var/tmp")
            try """
            lab: clk
            subnet: 198.18.216.0/24
            hosts:
              c1:
                address: 198.18.216.11
                services:
                  - name: web
                    argv: [python3, -m, http.server, "8000", --bind, "{address}", --directory, "{dir}"]
                    clock: faketime
                    ready: {tcp: "{address}:8000"}
            """.write(toFile: "\(dir)/clk.yaml", atomically: true, encoding: .utf8)
        }
        deinit {
            _ = try? FaultlineBinary.run(["lab", "down", "clk", "--lab-dir", "\(dir)/labs"], in: dir)
            try? FileManager.default.removeItem(atPath: dir)
        }

        /// `offset` for `hold` from 1 s; a probe printing the server's clock minus this machine's.
        func experiment(_ offset: String, hold: String = "2s", length: String = "4s", rate: String? = nil) throws {
            try """
            version: 1
            title: the web server's clock
            lab: clk.yaml
            duration: \(length)
            probes:
              - name: skew
                interval: 250ms
                command:
                  value: true
                  shell: >-
                    d=$(curl -s -m 1 -D - -o /dev/null http://198.18.216.11:8000/ | sed -n 's/^[Dd]ate: //p' | tr -d '\\r');
                    echo $(( $(date -d "$d" +%s) - $(date +%s) ))
            faults:
              - {name: step, at: 1s, duration: \(hold), clock: {host: c1, offset: "\(offset)"\(rate.map { ", rate: \($0)" } ?? "")}}
            """.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        }

        func start() throws -> Spawned {
            try FaultlineBinary.start(["run", "e.yaml", "--state-dir", "state", "--out", "reports", "--lab-dir", "\(dir)/labs"], in: dir)
        }
        func journal() throws -> Journal {
            try Journal.decode(Data(contentsOf: URL(fileURLWithPath: "\(dir)/reports/latest/journal.json")))
        }
        var controlFile: String { (try? String(contentsOfFile: "\(dir)/labs/clk/c1/\(Faketime.controlFileName)", encoding: .utf8)) ?? "" }
    }

    @Test("a step of -45 s: the server's Date header is 45 s behind inside the window, on time outside it", arguments: ["-45s", "+30s"])
    func step(_ offset: String) throws {
        let s = try Scratch()
        try s.experiment(offset)
        let out = FaultlineBinary.collect(try s.start(), in: s.dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let j = try s.journal()
        let f = try #require(j.faults.first)
        let want = Double(offset.dropLast())!
        let confirmed = f.confirmation?.firstMatch(of: /reads the wall clock ([+-][0-9.]+) s off/).flatMap { Double($0.1) }
        #expect(f.confirmed && confirmed.map { abs($0 - want) < 0.25 } == true, "\(f)")
        let p = try #require(j.probes.first)
        let (injected, reverted) = (try #require(f.injectedAt), try #require(f.revertedAt))
        // The header has whole seconds: a reading is the offset ±1 s. Samples whose request
        // began before the injection or ended after the revert are left out.
        var inside: [Double] = []
        var outside: [Double] = []
        for i in p.started.indices {
            guard let v = p.values?[i] ?? nil else { continue }
            let end = p.started[i] + p.latency[i]
            if p.started[i] > injected && end < reverted { inside.append(v) }
            if end < injected || p.started[i] > reverted { outside.append(v) }
        }
        #expect(inside.count >= 4 && inside.allSatisfy { abs($0 - want) <= 1 }, "inside: \(inside)")
        #expect(outside.count >= 4 && outside.allSatisfy { abs($0) <= 1 }, "outside: \(outside)")
        // The run took its lab down with the file; the revert wrote it back first.
        #expect(j.events.contains { $0.what == "reverted step" && $0.detail?.contains("faketime.rc back to +0") == true }, "\(j.events)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("a drift: rate 1.5 from the fault's start, so the clock is half the hold ahead at its end, and on time after")
    func drift() throws {
        let s = try Scratch()
        try s.experiment("+0s", hold: "3s", length: "5s", rate: "1.5")
        let out = FaultlineBinary.collect(try s.start(), in: s.dir)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let j = try s.journal()
        let f = try #require(j.faults.first)
        let held = Double(try #require(f.revertedAt) - (try #require(f.injectedAt))) / 1e9
        let seen = f.measured?.firstMatch(of: /read \+([0-9.]+) s off/).flatMap { Double($0.1) }
        // Read just before the revert: half of the time held, within what a sample takes.
        #expect(seen.map { abs($0 - held / 2) < 0.3 } == true, "held \(held) s: \(f.measured ?? "")")
        // The application's clock (whole seconds) went from on time to a second or more ahead.
        let p = try #require(j.probes.first)
        let inside = p.started.indices.filter { p.started[$0] > f.injectedAt! && p.started[$0] + p.latency[$0] < f.revertedAt! }
            .compactMap { p.values?[$0] ?? nil }
        #expect(inside.first.map { $0 <= 1 } == true && inside.last.map { $0 >= 1 } == true, "\(inside)")
        // The run took its lab down with the file; the revert wrote it back first.
        #expect(j.events.contains { $0.what == "reverted step" && $0.detail?.contains("faketime.rc back to +0") == true }, "\(j.events)")
        #expect(j.residue.isEmpty, "\(j.residue)")
    }

    @Test("SIGKILL of the runner mid-step: the host's agent puts the clock back when its lease lapses")
    func runnerKilled() throws {
        let s = try Scratch()
        try s.experiment("+600s", hold: "20s", length: "25s")
        let p = try s.start()
        try waitUntil(15) { s.controlFile.hasPrefix("+600") }
        kill(p.pid, SIGKILL)
        p.wait()
        try waitUntil(3) { s.controlFile == "+0\n" }
    }
}
