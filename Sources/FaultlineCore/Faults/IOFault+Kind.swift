import Yams

extension IOFault: FaultKindReader, CgroupLimitable {
    public static let summary =
        "IO pressure on a host: 'workers' processes (faultline's own) each rewrite a 64 MiB file in the folder 'path', fsync after every 1 MiB, confirmed by the bytes they write, measured with the host's IO pressure; or with 'process', io.max on that process's cgroup for the disk under 'device' ('read'/'write' bytes a second, 'read_iops'/'write_iops'), restored on revert, measured by the cgroup's bytes done"
    public static let fields =
        ["host", "path", "workers", "allow_state_filesystem"] + CgroupLimit.keys.filter { $0 != "host" } + [
            "device", "read", "write", "read_iops", "write_iops",
        ]
    public static let holding = FaultHolding.held(durationRequired: false)

    static func read(_ node: Node, path: String, reader r: NodeReader) -> IOFault? {
        guard let f = r.fields(node, path: path, allowed: fields) else { return nil }
        let limitKeys = ["device", "read", "write", "read_iops", "write_iops"]
        CgroupLimit.refuseMixed(f, limitKeys: limitKeys, workerKeys: ["path", "workers", "allow_state_filesystem"], kind: "io", reader: r)
        if f.values["process"] != nil {
            guard let target = CgroupLimit.target(f, kind: "io", reader: r) else { return nil }
            guard let device = r.string(f, "device", required: true) else { return nil }
            guard device.hasPrefix("/"), !device.split(separator: "/").contains(".."), !device.utf8.contains(where: { $0 < 32 }) else {
                r.error(
                    f.values["device"],
                    "'\(f.child("device"))' must be an absolute path without '..' (a device node, or a path on its filesystem), got \(shown: device)"
                )
                return nil
            }
            let rates = ["read", "write"].map { k -> UInt64? in
                guard let text = r.string(f, k) else { return nil }
                let body = text.hasSuffix("/s") ? String(text.dropLast(2)) : text
                guard let b = ByteSizeText.parse(body), b >= 4096, b <= 1 << 40 else {
                    r.error(f.values[k], "'\(f.child(k))' must be a rate from 4KiB/s to 1TiB/s like '1MiB/s', got \(shown: text)")
                    return nil
                }
                return b
            }
            let iops = ["read_iops", "write_iops"].map { r.int(f, $0, range: 1...10_000_000).map(UInt64.init) }
            guard rates.contains(where: { $0 != nil }) || iops.contains(where: { $0 != nil }) else {
                if !limitKeys.dropFirst().contains(where: { f.values[$0] != nil }) {
                    r.error(
                        node,
                        "'\(path)' with 'process' needs 'read' or 'write' (bytes a second) or 'read_iops' or 'write_iops': the limit its cgroup gets"
                    )
                }
                return nil
            }
            let setting = CgroupSetting.ioMax(device: device, rbps: rates[0], wbps: rates[1], riops: iops[0], wiops: iops[1])
            return IOFault(host: target.host, path: device, limit: CgroupLimit(process: target, settings: [setting]))
        }
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

    public var target: String {
        limit.map { "\($0.description) on \($0.process.selector)" } ?? "\(workers) writer\(workers == 1 ? "" : "s") in \(path)"
    }

    public func describe(_ step: FaultStep, _ hosts: HostSet) -> String {
        guard let limit else { return "io on \(host): \(target), fsync after every 1 MiB [\(step.name)]" }
        return describeLimit(limit, step)
    }
    public func describeRevert(_ step: FaultStep) -> String {
        limit == nil ? "end the IO workers of '\(step.name)' and remove their files" : "restore the IO limits '\(step.name)' set"
    }
}
