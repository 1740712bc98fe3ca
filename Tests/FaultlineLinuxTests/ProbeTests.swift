import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

@Suite("probes against real endpoints", .serialized)
struct ProbeTests {
    @Test("http probe: status, body match, refused connection")
    func http() throws {
        let port = freePort()
        let server = try Child.httpServer(port: port)
        defer { server.stop() }
        var spec = ProbeSpec.HTTP(url: "http://127.0.0.1:\(port)/")
        #expect(try Probes.make(ProbeSpec(name: "h", kind: .http(spec))).sample().ok)
        spec.bodyContains = "Directory listing"
        #expect(try Probes.make(ProbeSpec(name: "h", kind: .http(spec))).sample().ok)
        spec.bodyContains = "no such words in the page"
        let miss = try Probes.make(ProbeSpec(name: "h", kind: .http(spec))).sample()
        #expect(!miss.ok && miss.reason == "body lacks 'no such words in the page'")
        var notFound = ProbeSpec.HTTP(url: "http://127.0.0.1:\(port)/definitely-missing")
        #expect(try Probes.make(ProbeSpec(name: "h", kind: .http(notFound))).sample().reason == "status 404")
        notFound.status = [404...404]
        #expect(try Probes.make(ProbeSpec(name: "h", kind: .http(notFound))).sample().ok)
        let refused = try Probes.make(ProbeSpec(name: "h", kind: .http(ProbeSpec.HTTP(url: "http://127.0.0.1:\(freePort())/")))).sample()
        #expect(!refused.ok)
        #expect(refused.reason?.contains("connect") == true || refused.reason?.contains("Couldn't") == true)
    }

    @Test("http probe sends the method asked for, with headers and body")
    func httpMethod() throws {
        let port = freePort()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A server that answers 200 with the method, a header and the body it received.
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def answer(self):
                    n = int(self.headers.get('Content-Length') or 0)
                    text = f"{self.command} {self.headers.get('X-Probe')} {self.rfile.read(n).decode()}".encode()
                    self.send_response(200); self.send_header('Content-Length', str(len(text))); self.end_headers(); self.wfile.write(text)
                do_GET = do_POST = do_PUT = answer
                def log_message(self, *a): pass
            http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
            """
        try script.write(toFile: "\(dir)/echo.py", atomically: true, encoding: .utf8)
        let server = try Child(["python3", "\(dir)/echo.py", String(port)])
        defer { server.stop() }
        try waitForPort(port)
        for method in ["GET", "PUT", "POST"] {
            var spec = ProbeSpec.HTTP(url: "http://127.0.0.1:\(port)/")
            spec.method = method
            spec.body = "payload"
            spec.headers = ["X-Probe": "yes"]
            spec.bodyContains = "\(method) yes payload"
            let s = try Probes.make(ProbeSpec(name: "h", kind: .http(spec))).sample()
            #expect(s.ok, "\(method): \(s.reason ?? "")")
        }
    }

    @Test("http probe times out against a paused server")
    func httpTimeout() throws {
        let port = freePort()
        let server = try Child.httpServer(port: port)
        defer { server.stop() }
        kill(server.pid, SIGSTOP)
        defer { kill(server.pid, SIGCONT) }
        var spec = ProbeSpec.HTTP(url: "http://127.0.0.1:\(port)/")
        spec.timeout = 100_000_000
        let s = try Probes.make(ProbeSpec(name: "h", kind: .http(spec))).sample()
        #expect(!s.ok)
        #expect(s.latency >= 100_000_000)
    }

    @Test("tcp probe: open and closed ports")
    func tcp() throws {
        let port = freePort()
        let server = try Child.httpServer(port: port)
        defer { server.stop() }
        #expect(try Probes.make(ProbeSpec(name: "t", kind: .tcp(.init(host: "127.0.0.1", port: port)))).sample().ok)
        let closed = try Probes.make(ProbeSpec(name: "t", kind: .tcp(.init(host: "127.0.0.1", port: freePort())))).sample()
        #expect(!closed.ok && closed.reason == "connect: Connection refused")
    }

    @Test("command probe: argv without a shell, exit code, output")
    func command() throws {
        var c = ProbeSpec.Command(command: .argv(["echo", "$HOME;", "ready"]))
        c.stdoutContains = "$HOME; ready"
        #expect(try Probes.make(ProbeSpec(name: "c", kind: .command(c))).sample().ok)
        c = ProbeSpec.Command(command: .shell("echo ready; exit 3"))
        c.exitCode = 3
        c.stdoutContains = "ready"
        #expect(try Probes.make(ProbeSpec(name: "c", kind: .command(c))).sample().ok)
        let missing = try Probes.make(ProbeSpec(name: "c", kind: .command(.init(command: .argv(["/nonexistent/program"]))))).sample()
        #expect(!missing.ok && missing.reason?.hasPrefix("cannot run '/nonexistent/program'") == true)
    }

    @Test("command timeout kills the whole process group")
    func commandTimeout() throws {
        let start = MonotonicClock.now()
        let r = Spawner.run(.shell("sleep 37 & sleep 37; echo never"), timeout: 200_000_000)
        #expect(r.timedOut)
        #expect(MonotonicClock.now() - start < 2_000_000_000)
        usleep(100_000)
        #expect(try ProcessResolver.matches(.cmdline("^sleep 37$")).isEmpty)
    }

    @Test("process probe and latency tolerance")
    func processAndLatency() throws {
        let sleeper = try Child(["sleep", "38"])
        defer { sleeper.stop() }
        var p = ProbeSpec.Process(selector: .pid(sleeper.pid))
        #expect(try Probes.make(ProbeSpec(name: "p", kind: .process(p))).sample().ok)
        p.min = 2
        #expect(try !Probes.make(ProbeSpec(name: "p", kind: .process(p))).sample().ok)
        let slow = ProbeSpec(name: "s", kind: .command(.init(command: .argv(["sleep", "0.05"]))), maxLatency: 10_000_000)
        let s = try Probes.make(slow).sample()
        #expect(!s.ok && s.reason == "slower than 10ms")
    }
}

@Suite("block fault input")
struct PartitionTableNameTests {
    @Test("only faultline_ tables of 1 to 40 word characters are touched")
    func tableNames() {
        for ok in ["faultline_a", "faultline_20261127_120000_ab12_0", "faultline_" + String(repeating: "Z", count: 40)] {
            #expect(UndoStep.isFaultlineTable(ok), "\(ok)")
        }
        for bad in [
            "faultline_", "faultline-a", "filter", "xfaultline_a", "faultline_a b", "faultline_a;", "faultline_é",
            "faultline_" + String(repeating: "a", count: 41),
        ] {
            #expect(!UndoStep.isFaultlineTable(bad), "\(bad)")
        }
    }
}
