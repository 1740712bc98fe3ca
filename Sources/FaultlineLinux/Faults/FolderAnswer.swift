/// A host's answer to `folder PATH` (`HostCapability`).
struct FolderAnswer {
    var problem: String?
    var free: UInt64 = 0
    var size: UInt64 = 0
    var stateFilesystem = false

    init?(_ detail: String?) {
        guard let detail else { return nil }
        guard detail.hasPrefix("yes: ") else {
            problem = String(detail.drop { $0 != ":" }.dropFirst().drop { $0 == " " })
            return
        }
        for field in detail.dropFirst(5).split(separator: " ") {
            let kv = field.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, let v = UInt64(kv[1]) else { return nil }
            switch kv[0] {
            case "free": free = v
            case "size": size = v
            case "state": stateFilesystem = v == 1
            default: break
            }
        }
    }

    /// Asks `host` about `path`: the answer when the folder may be used, else why not (missing,
    /// not a folder, or on the agent's state filesystem without `allowStateFilesystem`).
    static func ask(
        _ agents: AgentCalls, _ host: String, _ path: String, allowStateFilesystem: Bool, verb: String
    ) -> (FolderAnswer?, String?) {
        guard let f = FolderAnswer(agents.call(host, .capability("folder \(path)"))?.detail) else {
            return (nil, "could not ask host '\(host)' about \(path)")
        }
        if let why = f.problem { return (nil, "on '\(host)': \(why)") }
        if f.stateFilesystem, !allowStateFilesystem {
            return (
                nil,
                "on '\(host)': \(path) is on the filesystem of the agent's state directory (its ledger): say 'allow_state_filesystem: true' to \(verb) it anyway"
            )
        }
        return (f, nil)
    }
}
