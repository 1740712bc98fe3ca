import FaultlineCore
import Foundation
import Glibc

extension Runner {
    /// The most of one service log that is read and saved: its end, where the run is.
    static let logReadLimit = 32 << 20

    /// Reads every lab service's log once, before the lab goes down: lines the experiment's
    /// `markers:` match become markers on the run's clock, and the logs are copied into
    /// `options.logsDirectory` (`HOST/SERVICE.log`), where they outlive the lab.
    func readLabLogs() {
        // Nothing to save and nothing to look for: the logs are not read at all.
        guard !labLogsRead, options.logsDirectory != nil || !experiment.markers.isEmpty, let lab = experiment.lab, let state = labState
        else { return }
        labLogsRead = true
        // The wall clock and the run's clock at one instant: a line's wall time maps onto the
        // run's clock through it (both read within a microsecond of each other).
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let wallNow = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        let runNow = now
        let scan = MarkerScan(toRun: { $0 - wallNow + runNow }, span: 0..<runNow)
        var markers: [MarkerRecord] = []
        var undated: [String] = []
        var dropped = 0
        for host in lab.hosts {
            for service in host.services {
                let path = service.log.hasPrefix("/") ? service.log : "\(state.dataDir)/\(host.name)/\(service.log)"
                guard let data = Self.tail(path, limit: Self.logReadLimit) else { continue }
                if let dir = options.logsDirectory {
                    let target = "\(dir)/\(host.name)/\(service.name).log"
                    do {
                        try FileManager.default.createDirectory(atPath: "\(dir)/\(host.name)", withIntermediateDirectories: true)
                        try data.write(to: URL(fileURLWithPath: target))
                    } catch {
                        emit(.lab("lab \(lab.name): \(host.name) \(service.name) log not saved", detail: "\(error)"))
                    }
                }
                let specs = experiment.markers.filter { $0.service == service.name && $0.hosts.contains(host.name) }
                guard !specs.isEmpty else { continue }
                let r = scan.scan(String(decoding: data, as: UTF8.self), source: "\(host.name):\(service.name)", specs: specs)
                markers += r.markers
                undated += r.undated
                dropped += r.dropped
            }
        }
        guard !experiment.markers.isEmpty else { return }
        journal.markers = markers.sorted { ($0.at, $0.source) < ($1.at, $1.source) }
        for spec in experiment.markers where !markers.contains(where: { $0.name == spec.name }) {
            emit(.lab("marker \(spec.name): no line matched", detail: "in \(spec.hosts.joined(separator: ", ")) \(spec.service) logs"))
        }
        if !undated.isEmpty {
            emit(.lab("markers: \(undated.count) matching line(s) carry no time faultline reads", detail: undated.first ?? ""))
        }
        if dropped > 0 { emit(.lab("markers: \(dropped) more matching line(s) than \(MarkerSpec.linesKept) per log kept", detail: "")) }
    }

    /// The last `limit` bytes of a regular file (from a line's start), or nil when it is not
    /// one or cannot be read.
    static func tail(_ path: String, limit: Int) -> Data? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(st.st_size)
        let start = max(0, size - limit)
        var out = Data(count: size - start)
        let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size - start, off_t(start)) }
        guard n >= 0 else { return nil }
        out.count = n
        if start > 0, let nl = out.firstIndex(of: 10) { out = out.subdata(in: (nl + 1)..<out.count) }
        return out
    }
}
