import ArgumentParser
import FaultlineCore
import FaultlineLinux
import Foundation

/// `faultline proxy`: the fault proxy on its own, with Toxiproxy's HTTP API. No root needed.
struct ProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "A TCP fault proxy driven by Toxiproxy's HTTP API (no root needed).",
        discussion: """
            Serves the API (proxies, toxics, populate, reset, version) on --host:--port, as \
            Toxiproxy does on 8474, so Toxiproxy clients drive it unchanged. Toxics: latency, \
            bandwidth, slow_close, timeout, reset_peer, slicer, limit_data; a proxy disabled is \
            down. --config is a JSON list of proxies ({name, listen, upstream, enabled}) created \
            at start. Runs until SIGINT or SIGTERM.
            """)

    @Option(help: "Address the API listens on.")
    var host = "127.0.0.1"
    @Option(help: "Port the API listens on (0: any free port; the address is printed).")
    var port: UInt16 = 8474
    @Option(help: "A JSON file listing proxies to create at start.")
    var config: String?

    func run() throws {
        let server: ProxyServer
        let api: ToxiproxyAPI
        do {
            server = try ProxyServer()
            api = try ToxiproxyAPI(server: server, listen: "\(host):\(port)")
        } catch {
            Output.stderr("faultline proxy: \(error)\n")
            throw ExitCode(FaultlineCore.ExitCode.internalError)
        }
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                Output.stderr("faultline proxy: cannot read \(ShownText.escaped(config))\n")
                throw ExitCode(FaultlineCore.ExitCode.badInput)
            }
            do {
                let created = try api.populate(Array(data))
                for line in created { Output.line("proxy \(line)") }
            } catch {
                Output.stderr("faultline proxy: \(ShownText.escaped(config)): \(error)\n")
                throw ExitCode(FaultlineCore.ExitCode.badInput)
            }
        }
        api.start()
        Output.stdout("faultline proxy: API on http://\(api.address)\n")
        let interrupts = Interrupts.shared
        interrupts.install()
        while !interrupts.wait(until: MonotonicClock.now() + 3_600_000_000_000) {}
        api.stop()
        server.stop()
    }
}
