internal import CNetlink
import FaultlineEssentials
import Glibc

/// Queueing disciplines, classes, filters and IFB links through libnl-route — never by
/// starting `tc`. Owns its rtnetlink socket (`nl_socket_alloc` + `nl_connect`, freed with
/// `nl_socket_free`); every C return code becomes a thrown error with libnl's own text.
///
/// Everything faultline adds carries the handle major `0xfa17` (an IFB link, the prefix `flifb`),
/// so an undo step can tell faultline's objects from anyone else's.
package final class TrafficControl {
    static let major: UInt32 = 0xfa17
    static let root: UInt32 = 0xFFFF_FFFF  // TC_H_ROOT
    static let ingressParent: UInt32 = 0xFFFF_FFF1  // TC_H_INGRESS
    static let ingressHandle: UInt32 = 0xFFFF_0000

    private let route: NetlinkRoute
    private var socket: OpaquePointer { route.socket }

    package init() throws(NetlinkError) { route = try NetlinkRoute() }

    static func handle(_ major: UInt32, _ minor: UInt32) -> UInt32 { major << 16 | minor }

    func check(_ rc: Int32, _ what: String) throws(NetlinkError) {
        guard rc >= 0 else { throw NetlinkError.call(what, String(cString: nl_geterror(rc))) }
    }

    /// The index of an interface of this namespace, or nil (`if_nametoindex`).
    static func index(_ device: String) -> Int32? {
        let i = if_nametoindex(device)
        return i == 0 ? nil : Int32(i)
    }

    /// The qdiscs of a device as the kernel reports them.
    func qdiscs(_ device: String) throws(NetlinkError) -> [QdiscEntry] {
        try NetlinkRoute().linksAndQdiscs().qdiscs.filter { $0.link == device }
    }

    /// A root HTB (handle fa17:) whose default class fa17:2 passes traffic unlimited (10 Gbit/s)
    /// and whose class fa17:1, at `rate` bytes/s with a bucket of `burst` bytes, takes what any of
    /// the u32 `filters` match (each a set of keys that must all match; no keys: everything).
    package func addRateLimit(device: String, rate: UInt64, burst: UInt32, filters: [[U32Key]]) throws(NetlinkError) {
        guard let index = Self.index(device) else { throw NetlinkError.call("if_nametoindex", "no device '\(device)'") }
        try addHTB(index, device)
        try addClass(index, minor: 1, rate: rate, burst: burst)
        for keys in filters.isEmpty ? [[]] : filters { try addFilter(index, device, keys: keys) }
    }

    /// netem (handle fa18:) as the leaf of an HTB class fa17:1 that the u32 `filters` select; the
    /// class's rate is the fault's rate, or unlimited. Delays and jitter in microseconds, shares as
    /// netem's 32-bit fractions (`rtnl_netem_set_*`).
    package func addNetem(device: String, shaping s: Shaping, filters: [[U32Key]]) throws(NetlinkError) {
        guard let index = Self.index(device) else { throw NetlinkError.call("if_nametoindex", "no device '\(device)'") }
        try addHTB(index, device)
        try addClass(index, minor: 1, rate: s.rate.map { $0.bitsPerSecond / 8 } ?? 1_250_000_000, burst: s.rate?.burst ?? 200_000)
        guard let q = netemQdisc(index, s) else { throw NetlinkError.call("rtnl_qdisc_alloc", "out of memory") }
        defer { rtnl_qdisc_put(q) }
        if s.jitter > 0, s.distribution != .uniform {
            guard let table = NetemTables.table(s.distribution.rawValue) else {
                throw NetlinkError.call("netem", "no table for distribution \(s.distribution.rawValue)")
            }
            try check(
                table.withUnsafeBufferPointer { rtnl_netem_set_delay_distribution_data(q, $0.baseAddress, $0.count) },
                "netem distribution \(s.distribution.rawValue) (\(table.count) values)")
        }
        try check(rtnl_qdisc_add(socket, q, NLM_F_CREATE | NLM_F_EXCL), "add netem qdisc on \(device)")
        for keys in filters.isEmpty ? [[]] : filters { try addFilter(index, device, keys: keys) }
    }

    /// The netem qdisc object for `s`, not yet added (a unit test reads its request).
    func netemQdisc(_ index: Int32, _ s: Shaping) -> OpaquePointer? {
        guard let q = rtnl_qdisc_alloc() else { return nil }
        rtnl_tc_set_ifindex(q, index)
        rtnl_tc_set_parent(q, Self.handle(Self.major, 1))
        rtnl_tc_set_handle(q, Self.handle(Self.major + 1, 0))
        _ = rtnl_tc_set_kind(q, "netem")
        let fraction = { (p: Double) in Int32(bitPattern: UInt32((min(1, max(0, p)) * 4_294_967_295).rounded())) }
        rtnl_netem_set_limit(q, 100_000)
        if s.delay > 0 { rtnl_netem_set_delay(q, Int32(s.delay / 1_000)) }
        if s.jitter > 0 { rtnl_netem_set_jitter(q, Int32(s.jitter / 1_000)) }
        if s.correlation > 0 { rtnl_netem_set_delay_correlation(q, fraction(s.correlation)) }
        if case .random(let p, let c)? = s.loss {
            rtnl_netem_set_loss(q, fraction(p))
            if c > 0 { rtnl_netem_set_loss_correlation(q, fraction(c)) }
        }
        if let d = s.duplicate { rtnl_netem_set_duplicate(q, fraction(d)) }
        if let c = s.corrupt { rtnl_netem_set_corruption_probability(q, fraction(c)) }
        if let r = s.reorder {
            rtnl_netem_set_reorder_probability(q, fraction(r.p))
            if r.correlation > 0 { rtnl_netem_set_reorder_correlation(q, fraction(r.correlation)) }
        }
        return q
    }

    /// Why faultline may not add a root qdisc on `device`: one is there that it did not add (the
    /// kernel's own have handle 0:); nil when the root is the kernel's default.
    static func foreignRoot(_ device: String) -> String? {
        let qdiscs: [QdiscEntry]
        do { qdiscs = try TrafficControl().qdiscs(device) } catch { return "cannot list the qdiscs of \(device): \(error)" }
        guard let top = qdiscs.first(where: { $0.parent == Self.root }), top.handle >> 16 != 0 else { return nil }
        return
            "\(device) has a root qdisc faultline did not add (\(top)); it is never replaced or deleted: remove it, or degrade another device"
    }

    /// Why faultline may not add an ingress qdisc on `device`: one is there already.
    static func foreignIngress(_ device: String) -> String? {
        let qdiscs: [QdiscEntry]
        do { qdiscs = try TrafficControl().qdiscs(device) } catch { return "cannot list the qdiscs of \(device): \(error)" }
        guard let q = qdiscs.first(where: { $0.handle == ingressHandle }) else { return nil }
        return "\(device) already has an ingress qdisc (\(q)) faultline did not add; it is never replaced"
    }

    /// The bytes of the request that would add netem for `s` on device `index` (for unit tests).
    func netemRequest(_ index: Int32, _ s: Shaping) throws(NetlinkError) -> [UInt8] {
        guard let q = netemQdisc(index, s) else { throw NetlinkError.call("rtnl_qdisc_alloc", "out of memory") }
        defer { rtnl_qdisc_put(q) }
        return try request(q)
    }

    /// The bytes of the netlink request that would add `q` (`rtnl_qdisc_build_add_request`).
    func request(_ q: OpaquePointer) throws(NetlinkError) -> [UInt8] {
        var msg: OpaquePointer?
        try check(rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_EXCL, &msg), "rtnl_qdisc_build_add_request")
        guard let msg, let header = nlmsg_hdr(msg) else { return [] }
        defer { nlmsg_free(msg) }
        let length = Int(header.pointee.nlmsg_len)
        return header.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    private func addHTB(_ index: Int32, _ device: String) throws(NetlinkError) {
        guard let q = rtnl_qdisc_alloc() else { throw NetlinkError.call("rtnl_qdisc_alloc", "out of memory") }
        defer { rtnl_qdisc_put(q) }
        rtnl_tc_set_ifindex(q, index)
        rtnl_tc_set_parent(q, Self.root)
        rtnl_tc_set_handle(q, Self.handle(Self.major, 0))
        try check(rtnl_tc_set_kind(q, "htb"), "htb")
        try check(rtnl_htb_set_defcls(q, Self.handle(Self.major, 2)), "rtnl_htb_set_defcls")
        try check(rtnl_qdisc_add(socket, q, NLM_F_CREATE | NLM_F_EXCL), "add htb qdisc on \(device)")
        try addClass(index, minor: 2, rate: 1_250_000_000, burst: 200_000)  // 10 Gbit/s: unlimited for a lab
    }

    private func addFilter(_ index: Int32, _ device: String, keys: [U32Key]) throws(NetlinkError) {
        guard let cls = rtnl_cls_alloc() else { throw NetlinkError.call("rtnl_cls_alloc", "out of memory") }
        defer { rtnl_cls_put(cls) }
        rtnl_tc_set_ifindex(cls, index)
        rtnl_tc_set_parent(cls, Self.handle(Self.major, 0))
        try check(rtnl_tc_set_kind(cls, "u32"), "u32")
        rtnl_cls_set_prio(cls, 1)
        rtnl_cls_set_protocol(cls, 0x0800)  // ETH_P_IP
        try check(rtnl_u32_set_classid(cls, Self.handle(Self.major, 1)), "rtnl_u32_set_classid")
        // tc's `flowid` marks the selector terminal; without it a match classifies nothing.
        try check(rtnl_u32_set_cls_terminal(cls), "rtnl_u32_set_cls_terminal")
        for k in keys.isEmpty ? [U32Key(value: 0, mask: 0, offset: 0)] : keys {
            try check(rtnl_u32_add_key_uint32(cls, k.value, k.mask, k.offset, 0), "rtnl_u32_add_key_uint32")
        }
        try check(rtnl_cls_add(socket, cls, NLM_F_CREATE), "add u32 filter on \(device)")
    }

    private func addClass(_ index: Int32, minor: UInt32, rate: UInt64, burst: UInt32) throws(NetlinkError) {
        guard let c = rtnl_class_alloc() else { throw NetlinkError.call("rtnl_class_alloc", "out of memory") }
        defer { rtnl_class_put(c) }
        rtnl_tc_set_ifindex(c, index)
        rtnl_tc_set_parent(c, Self.handle(Self.major, 0))
        rtnl_tc_set_handle(c, Self.handle(Self.major, minor))
        try check(rtnl_tc_set_kind(c, "htb"), "htb class")
        try check(rtnl_htb_set_rate64(c, rate), "rtnl_htb_set_rate64")
        try check(rtnl_htb_set_ceil64(c, rate), "rtnl_htb_set_ceil64")
        try check(rtnl_htb_set_rbuffer(c, burst), "rtnl_htb_set_rbuffer")
        try check(rtnl_htb_set_cbuffer(c, burst), "rtnl_htb_set_cbuffer")
        try check(rtnl_class_add(socket, c, NLM_F_CREATE | NLM_F_EXCL), "add htb class \(String(minor, radix: 16))")
    }

    /// The bytes class `major:minor` of `device` has sent (`rtnl_tc_get_stat`, RTNL_TC_BYTES).
    package func sentBytes(device: String, class minor: UInt32) throws(NetlinkError) -> UInt64 {
        var cache: OpaquePointer?
        guard let index = Self.index(device) else { throw NetlinkError.call("if_nametoindex", "no device '\(device)'") }
        try check(rtnl_class_alloc_cache(socket, index, &cache), "rtnl_class_alloc_cache")
        guard let cache else { return 0 }
        defer { nl_cache_free(cache) }
        var object = nl_cache_get_first(cache)
        while let o = object {
            if rtnl_tc_get_handle(o) == Self.handle(Self.major, minor) { return rtnl_tc_get_stat(o, RTNL_TC_BYTES) }
            object = nl_cache_get_next(o)
        }
        return 0
    }

    /// What faultline's netem qdisc on `device` passed and dropped (`rtnl_tc_get_stat`:
    /// RTNL_TC_PACKETS, RTNL_TC_DROPS); nil when it has none there.
    func netemStats(device: String) throws(NetlinkError) -> (packets: UInt64, drops: UInt64)? {
        var cache: OpaquePointer?
        guard let index = Self.index(device) else { return nil }
        try check(rtnl_qdisc_alloc_cache(socket, &cache), "rtnl_qdisc_alloc_cache")
        guard let cache else { return nil }
        defer { nl_cache_free(cache) }
        var object = nl_cache_get_first(cache)
        while let o = object {
            if rtnl_tc_get_ifindex(o) == index, rtnl_tc_get_handle(o) == Self.handle(Self.major + 1, 0) {
                return (rtnl_tc_get_stat(o, RTNL_TC_PACKETS), rtnl_tc_get_stat(o, RTNL_TC_DROPS))
            }
            object = nl_cache_get_next(o)
        }
        return nil
    }

    /// An IFB link named `name`, up.
    func addIFB(_ name: String) throws(NetlinkError) {
        guard let l = rtnl_link_alloc() else { throw NetlinkError.call("rtnl_link_alloc", "out of memory") }
        defer { rtnl_link_put(l) }
        rtnl_link_set_name(l, name)
        try check(rtnl_link_set_type(l, "ifb"), "ifb")
        rtnl_link_set_flags(l, UInt32(IFF_UP))
        try check(rtnl_link_add(socket, l, NLM_F_CREATE | NLM_F_EXCL), "add ifb link \(name)")
    }

    /// The ingress qdisc on `device` and a filter redirecting everything it receives to `ifb`,
    /// whose egress the rate limit then shapes.
    func redirectIngress(device: String, to ifb: String) throws(NetlinkError) {
        guard let index = Self.index(device), let target = Self.index(ifb) else { throw NetlinkError.call("if_nametoindex", "no device") }
        guard let q = rtnl_qdisc_alloc() else { throw NetlinkError.call("rtnl_qdisc_alloc", "out of memory") }
        defer { rtnl_qdisc_put(q) }
        rtnl_tc_set_ifindex(q, index)
        rtnl_tc_set_parent(q, Self.ingressParent)
        rtnl_tc_set_handle(q, Self.ingressHandle)
        try check(rtnl_tc_set_kind(q, "ingress"), "ingress")
        try check(rtnl_qdisc_add(socket, q, NLM_F_CREATE | NLM_F_EXCL), "add ingress qdisc on \(device)")
        guard let cls = rtnl_cls_alloc(), let act = rtnl_act_alloc() else { throw NetlinkError.call("alloc", "out of memory") }
        defer {
            rtnl_cls_put(cls)
            rtnl_act_put(act)
        }
        rtnl_tc_set_ifindex(cls, index)
        rtnl_tc_set_parent(cls, Self.ingressHandle)
        try check(rtnl_tc_set_kind(cls, "u32"), "u32")
        rtnl_cls_set_prio(cls, 1)
        rtnl_cls_set_protocol(cls, 0x0800)
        try check(rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0), "rtnl_u32_add_key_uint32")
        try check(rtnl_u32_set_cls_terminal(cls), "rtnl_u32_set_cls_terminal")
        try check(rtnl_tc_set_kind(act, "mirred"), "mirred")
        try check(rtnl_mirred_set_action(act, 1), "rtnl_mirred_set_action")  // TCA_EGRESS_REDIR
        try check(rtnl_mirred_set_policy(act, 4), "rtnl_mirred_set_policy")  // TC_ACT_STOLEN
        try check(rtnl_mirred_set_ifindex(act, UInt32(target)), "rtnl_mirred_set_ifindex")
        try check(rtnl_u32_add_action(cls, act), "rtnl_u32_add_action")
        try check(rtnl_cls_add(socket, cls, NLM_F_CREATE | NLM_F_EXCL), "add redirect filter on \(device)")
    }

    /// Deletes a qdisc by parent and handle; one already gone is done.
    func deleteQdisc(device: String, parent: UInt32, handle: UInt32) throws(NetlinkError) {
        guard let index = Self.index(device) else { return }
        guard let q = rtnl_qdisc_alloc() else { throw NetlinkError.call("rtnl_qdisc_alloc", "out of memory") }
        defer { rtnl_qdisc_put(q) }
        rtnl_tc_set_ifindex(q, index)
        rtnl_tc_set_parent(q, parent)
        rtnl_tc_set_handle(q, handle)
        let rc = rtnl_qdisc_delete(socket, q)
        if rc < 0, rc != -NLE_OBJ_NOTFOUND, rc != -NLE_NOADDR, rc != -NLE_INVAL {
            throw NetlinkError.call("delete qdisc on \(device)", String(cString: nl_geterror(rc)))
        }
    }

    /// Deletes a link by name; one already gone is done.
    func deleteLink(_ name: String) throws(NetlinkError) {
        guard Self.index(name) != nil else { return }
        guard let l = rtnl_link_alloc() else { throw NetlinkError.call("rtnl_link_alloc", "out of memory") }
        defer { rtnl_link_put(l) }
        rtnl_link_set_name(l, name)
        let rc = rtnl_link_delete(socket, l)
        if rc < 0, Self.index(name) != nil { throw NetlinkError.call("delete link \(name)", String(cString: nl_geterror(rc))) }
    }
}

/// One u32 key: the 32-bit word at `offset` of the IP header, masked, equals `value` (host order).
package struct U32Key: Equatable, Sendable {
    var value: UInt32
    var mask: UInt32
    var offset: Int32
}
