internal import CNetlink
import Glibc

/// An rtnetlink socket (`nl_socket_alloc` + `nl_connect(NETLINK_ROUTE)`), freed with `nl_socket_free`.
package final class NetlinkRoute {
    /// The connected socket, for the other rtnetlink users of this module (TrafficControl).
    let socket: OpaquePointer

    package init() throws(NetlinkError) {
        guard let s = nl_socket_alloc() else { throw NetlinkError.call("nl_socket_alloc", "out of memory") }
        let rc = nl_connect(s, NETLINK_ROUTE)
        guard rc == 0 else {
            nl_socket_free(s)
            throw NetlinkError.call("nl_connect", String(cString: nl_geterror(rc)))
        }
        socket = s
    }

    deinit { nl_socket_free(socket) }

    /// The link names and every qdisc of this network namespace (`rtnl_link_alloc_cache`,
    /// `rtnl_qdisc_alloc_cache`). A link that is down may have no qdisc at all.
    package func linksAndQdiscs() throws(NetlinkError) -> (links: [String], qdiscs: [QdiscEntry]) {
        var links: OpaquePointer?
        var rc = rtnl_link_alloc_cache(socket, AF_UNSPEC, &links)
        guard rc == 0, let links else { throw NetlinkError.call("rtnl_link_alloc_cache", String(cString: nl_geterror(rc))) }
        defer { nl_cache_free(links) }
        var names: [String] = []
        var link = nl_cache_get_first(links)
        while let l = link {
            if let n = rtnl_link_get_name(l) { names.append(String(cString: n)) }
            link = nl_cache_get_next(l)
        }
        var cache: OpaquePointer?
        rc = rtnl_qdisc_alloc_cache(socket, &cache)
        guard rc == 0, let cache else { throw NetlinkError.call("rtnl_qdisc_alloc_cache", String(cString: nl_geterror(rc))) }
        defer { nl_cache_free(cache) }
        var out: [QdiscEntry] = []
        var name = [CChar](repeating: 0, count: 64)
        var object = nl_cache_get_first(cache)
        while let o = object {
            // struct rtnl_qdisc begins with struct rtnl_tc (libnl's TC_CAST).
            let tc = o
            let index = rtnl_tc_get_ifindex(tc)
            let link = rtnl_link_i2name(links, index, &name, name.count).map { String(cString: $0) } ?? "if\(index)"
            let kind = rtnl_tc_get_kind(tc).map { String(cString: $0) } ?? "?"
            out.append(QdiscEntry(link: link, kind: kind, handle: rtnl_tc_get_handle(tc), parent: rtnl_tc_get_parent(tc)))
            object = nl_cache_get_next(o)
        }
        return (names.sorted(), out.sorted { ($0.link, $0.handle) < ($1.link, $1.handle) })
    }
}

/// One queueing discipline as the kernel reports it.
public struct QdiscEntry: Hashable, Codable, Sendable, CustomStringConvertible {
    public var link: String
    public var kind: String
    public var handle: UInt32
    public var parent: UInt32

    public var description: String {
        "\(kind) \(String(handle >> 16, radix: 16)):\(String(handle & 0xffff, radix: 16)) on \(link)"
    }
}

public enum NetlinkError: Error, Equatable, Sendable, CustomStringConvertible {
    case call(String, String)
    public var description: String {
        switch self {
        case .call(let f, let why): return "netlink: \(f): \(why)"
        }
    }
}
