import Yams

extension IOFault: FaultKindReader {
    public static let summary =
        "IO pressure on a host: 'workers' processes (faultline's own) each rewrite a 64 MiB file in the folder 'path', fsync after every 1 MiB; confirmed by the bytes they write, measured with the host's IO pressure"
    public static let fields = ["host", "path", "workers", "allow_state_filesystem"]
    public static let holding = FaultHolding.held(durationRequired: false)

    static func read(_ node: Node, path: String, reader r: NodeReader) -> IOFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        let host = r.string(f, "host") ?? "local"
        let workers = r.int(f, "workers", range: 1...64) ?? 1
        let allow = r.bool(f, "allow_state_filesystem") ?? false
        guard let folder = r.string(f, "path", required: true) else { return nil }
        guard folder.hasPrefix("/"), !folder.split(separator: "/").contains(".."), !folder.utf8.contains(where: { $0 < 32 }) else {
            r.error(f.values["path"], "'\(f.child("path"))' must be an absolute path without '..', got \(shown: folder)")
            return nil
        }
        return IOFault(host: host, path: folder, workers: workers, allowStateFilesystem: allow)
    }

    public var target: String { "\(workers) writer\(workers == 1 ? "" : "s") in \(path)" }
    public var exclusion: FaultExclusion? { nil }
    public func hosts(in hosts: HostSet) -> [String] { [host] }
    /// A host under IO pressure is slowed, not taken.
    public func impact(in hosts: HostSet) -> FaultImpact { .degraded([host]) }
    public func validate(_ step: FaultStep, _ v: FaultValidation) { v.knownHost(host, at: "\(v.path).\(Self.key).host") }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        "io on \(host): \(target), fsync after every 1 MiB [\(step.name)]"
    }
    public func describeRevert(_ step: FaultStep) -> String { "end the IO workers of '\(step.name)' and remove their files" }
}
