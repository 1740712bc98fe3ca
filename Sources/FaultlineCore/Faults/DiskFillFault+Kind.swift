import Yams

extension DiskFillFault: FaultKindReader {
    public static let summary =
        "fill a filesystem: a file in the folder 'path' leaves only 'leave' (a size or a share) free; refused on the filesystem of the agent's state directory unless 'allow_state_filesystem'; confirmed and measured by the free space"
    public static let fields = ["host", "path", "leave", "allow_state_filesystem"]
    public static let holding = FaultHolding.held(durationRequired: false)

    static func read(_ node: Node, path: String, reader r: NodeReader) -> DiskFillFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        let host = r.string(f, "host") ?? "local"
        let allow = r.bool(f, "allow_state_filesystem") ?? false
        let folder = r.string(f, "path", required: true)
        if let folder, !folder.hasPrefix("/") || folder.split(separator: "/").contains("..") || folder.utf8.contains(where: { $0 < 32 }) {
            r.error(f.values["path"], "'\(f.child("path"))' must be an absolute path without '..', got \(shown: folder)")
        }
        guard let text = r.string(f, "leave", required: true) else { return nil }
        let leave: Leave
        if text.hasSuffix("%") {
            guard let p = PercentText.parse(text), p < 1 else {
                r.error(
                    f.values["leave"],
                    "'\(f.child("leave"))' must be a share below 100% like '5%', or a size like '50MiB', got \(shown: text)")
                return nil
            }
            leave = .share(p)
        } else {
            guard let b = ByteSizeText.parse(text) else {
                r.error(f.values["leave"], "'\(f.child("leave"))' must be a size like '50MiB' or a share like '5%', got \(shown: text)")
                return nil
            }
            leave = .bytes(b)
        }
        guard let folder else { return nil }
        return DiskFillFault(host: host, path: folder, leave: leave, allowStateFilesystem: allow)
    }

    public var target: String {
        switch leave {
        case .bytes(let b): return "\(path), \(ByteSizeText.format(b)) left free"
        case .share(let p): return "\(path), \(PercentText.format(p)) left free"
        }
    }
    public var exclusion: FaultExclusion? { FaultExclusion(key: "disk_fill \(host)", what: "another disk fill on host '\(host)'") }
    public func hosts(in hosts: HostSet) -> [String] { [host] }
    public func impact(in hosts: HostSet) -> FaultImpact { .degraded([host]) }
    public func validate(_ step: FaultStep, _ v: FaultValidation) { v.knownHost(host, at: "\(v.path).\(Self.key).host") }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String { "disk_fill on \(host): \(target) [\(step.name)]" }
    public func describeRevert(_ step: FaultStep) -> String { "remove the fill file of '\(step.name)'" }
}
