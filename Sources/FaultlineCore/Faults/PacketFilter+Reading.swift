import Yams

extension PacketFilter {
    static func read(_ f: Fields, reader r: NodeReader) -> PacketFilter? {
        var filter = PacketFilter()
        var ok = true
        if let node = f.values["to"] {
            let items: [Node]
            if case .sequence(let s) = node { items = Array(s) } else { items = [node] }
            for item in items {
                guard case .scalar(let s) = item, !s.string.isEmpty else {
                    r.error(
                        item,
                        "'\(f.child("to"))' must list lab hosts, addresses or networks like 198.18.4.0/24, got \(NodeReader.describe(item))"
                    )
                    ok = false
                    continue
                }
                if let subnet = IPv4Subnet(s.string) {
                    filter.peers.append(.network(subnet))
                } else if IPv4Address(s.string) != nil, let host = IPv4Subnet("\(s.string)/32") {
                    filter.peers.append(.network(host))
                } else if s.string.hasPrefix(HostSet.regionPrefix) {
                    filter.peers.append(.host(s.string))
                } else if s.string.contains(".") || s.string.contains("/") || s.string.contains(":") {
                    r.error(
                        item, "'\(f.child("to"))' holds \(shown: s.string), which is not an IPv4 address or network (like 198.18.4.0/24)")
                    ok = false
                } else {
                    filter.peers.append(.host(s.string))
                }
            }
        }
        filter.port = r.int(f, "port", range: 1...65_535)
        if let p = r.string(f, "protocol") {
            if let v = Proto(rawValue: p) {
                filter.proto = v
            } else {
                r.error(f.values["protocol"], "'\(f.child("protocol"))' must be one of all, tcp, udp, icmp, got \(shown: p)")
                ok = false
            }
        }
        if filter.port != nil, filter.proto != .tcp, filter.proto != .udp {
            r.error(f.values["port"], "'\(f.child("port"))' needs 'protocol: tcp' or 'protocol: udp' (a port belongs to one)")
            ok = false
        }
        if let d = r.string(f, "direction") {
            if let v = Direction(rawValue: d) {
                filter.direction = v
            } else {
                r.error(f.values["direction"], "'\(f.child("direction"))' must be one of egress, ingress, both, got \(shown: d)")
                ok = false
            }
        }
        return ok ? filter : nil
    }
}
