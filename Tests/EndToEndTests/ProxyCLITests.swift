import FaultlineCore
import FaultlineLinux
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

/// `faultline proxy` as a Toxiproxy user runs it: the binary on its own, driven over HTTP by
/// toxiproxy-python (from PyPI, in the venv `scripts/install-deps.sh` makes).
@Suite("faultline proxy and a Toxiproxy client", .serialized)
struct ProxyCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let python = "\(root)/.build/venv/bin/python"

    /// Starts `faultline proxy --port 0` and returns it with the API's port (from its first line).
    func startProxy(_ dir: String, _ extra: [String] = []) throws -> (Spawned, UInt16) {
        let p = try FaultlineBinary.start(["proxy", "--port", "0"] + extra, in: dir)
        var port: UInt16?
        try waitUntil(10) {
            let out = (try? String(contentsOfFile: "\(dir)/stdout", encoding: .utf8)) ?? ""
            port = out.firstMatch(of: /API on http:\/\/127\.0\.0\.1:([0-9]+)/).flatMap { UInt16($0.1) }
            return port != nil
        }
        return (p, try #require(port))
    }

    @Test("toxiproxy-python creates, lists, disables, populates and resets proxies and adds every toxic; each effect measured")
    func client() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.python), "no venv with toxiproxy-python: run scripts/install-deps.sh")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let echo = try Loopback.echo()
        let (proxy, port) = try startProxy(dir)
        defer {
            kill(proxy.pid, SIGTERM)
            proxy.wait()
        }
        let r = Spawner.run(
            .argv([Self.python, "\(Self.root)/Tests/EndToEndTests/Fixtures/toxiproxy_client.py", "\(port)", "\(echo.port)"]),
            timeout: 60_000_000_000)
        #expect(r.status == 0 && r.output.contains("ok: "), "\(r.output)")
        print("toxiproxy-python: \(r.output.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    @Test("a config file populates proxies at start; SIGTERM ends it with nothing listening")
    func configAndStop() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let echo = try Loopback.echo()
        try #"[{"name": "e", "listen": "127.0.0.1:0", "upstream": "\#(echo.address)"}]"#.write(
            toFile: "\(dir)/proxies.json", atomically: true, encoding: .utf8)
        let (proxy, _) = try startProxy(dir, ["--config", "proxies.json"])
        let out = (try? String(contentsOfFile: "\(dir)/stdout", encoding: .utf8)) ?? ""
        let listen = try #require(out.firstMatch(of: /proxy e: 127\.0\.0\.1:([0-9]+) →/).flatMap { UInt16($0.1) }, "\(out)")
        let fd = try Loopback.connect(listen)
        Loopback.send(fd, [1, 2, 3])
        #expect(Loopback.receive(fd, 3).bytes == [1, 2, 3])
        close(fd)
        kill(proxy.pid, SIGTERM)
        #expect(proxy.wait() == 0)
        #expect(throws: Loopback.Refused.self) { try Loopback.connect(listen) }
        // A config that is not a list of proxies is bad input, named.
        try "{\"nope\": 1}".write(toFile: "\(dir)/bad.json", atomically: true, encoding: .utf8)
        let bad = try FaultlineBinary.run(["proxy", "--port", "0", "--config", "bad.json"], in: dir)
        #expect(bad.status == ExitCode.badInput && bad.stderr.contains("bad.json: 400 expected a list of proxies"), "\(bad.stderr)")
    }
}

/// The `proxy` fault kind in a run, without root: the shipped experiment against a real HTTP
/// server on loopback.
@Suite("proxy faults in a run")
struct ProxyRunTests {
    @Test("experiments/proxy-slow-upstream.yaml: toxics confirmed and measured, down confirmed by a refused connect, nothing left")
    func shipped() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let web = try Spawned(["python3", "-m", "http.server", "18090", "--bind", "127.0.0.1", "--directory", dir])
        defer {
            kill(web.pid, SIGKILL)
            web.wait()
        }
        try waitUntil(10) { (try? Loopback.connect(18090)).map { close($0) } != nil }
        let (out, j, scratch) = try ShippedExperiment.run("proxy-slow-upstream.yaml")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        #expect(out.stdout.contains("proxies on local: web: 127.0.0.1:18091 → 127.0.0.1:18090"))
        let slow = try #require(j.faults.first { $0.name == "slow" })
        let gone = try #require(j.faults.first { $0.name == "gone" })
        #expect(slow.confirmed && slow.revertedAt != nil && gone.confirmed && gone.revertedAt != nil)
        #expect(gone.confirmation == "a connection to 127.0.0.1:18091 is refused", "\(gone.confirmation ?? "")")
        let median = slow.measured?.firstMatch(of: /held median ([0-9.]+)ms/).flatMap { Double($0.1) }
        // Each chunk waits 200 ms ± up to 20 ms (uniform): every held time, and so their median,
        // lies in [180, 220] ms plus the proxy's lateness. With 8 writes the median alone is
        // spread (189.7 ms was seen): the bound is what the toxic promises, not a guess at it.
        #expect(median.map { (180...230).contains($0) } == true, "200 ms ± 20 ms asked: \(slow.measured ?? "")")
        let p99 = slow.measured?.firstMatch(of: /p99 ([0-9.]+)ms/).flatMap { Double($0.1) }
        #expect(p99.map { (180...240).contains($0) } == true, "\(slow.measured ?? "")")
        // Inside each window every sample that started after the confirmation (and 250 ms before
        // the revert) failed; outside, the expectation held (the run passed). A sample takes at
        // most 220 ms plus the 50 ms interval, so a window of W ms holds at least W / 270 - 1 of
        // them: the window shrinks when the injection is late (160 ms was seen under load).
        let p = try #require(j.probes.first)
        for f in [slow, gone] {
            let from = f.confirmedAt ?? 0
            let to = (f.revertedAt ?? 0) - 250_000_000
            let inside = p.started.indices.filter { p.started[$0] > from && p.started[$0] < to }
            let least = max(1, Int((to - from) / 270_000_000) - 1)
            #expect(inside.count >= least && inside.allSatisfy { !p.ok[$0] }, "\(f.name): \(inside.map { p.ok[$0] }), at least \(least)")
        }
        #expect(j.residue.isEmpty, "\(j.residue)")
        #expect(throws: Loopback.Refused.self, "the proxy ended with the run") { try Loopback.connect(18091) }
    }
}
