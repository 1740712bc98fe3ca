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
}
