internal import CLinux
import Dispatch
import FaultlineEssentials
import FoundationEssentials
import Glibc

/// A toxic as a proxy holds it: its name, direction, the share of connections it acts on, and
/// the toxic itself.
struct ToxicSpec: Sendable {
    var name: String
    var stream: ProxyStream.Direction
    var toxicity: Double
    var toxic: any Toxic
}

/// The proxy's data path: one thread, one epoll set, every listener and connection. Other
/// threads (the control API) change it through commands, applied between two waits; a command
/// that changes toxics acts on live connections at once.
final class ProxyLoop: @unchecked Sendable {
    enum Command {
        /// Start accepting on `fd` (bound and listening) for `proxy`, connecting each client to `upstream`.
        case listen(proxy: String, fd: Int32, upstream: sockaddr_in)
        case upstream(proxy: String, sockaddr_in)
        /// Stop accepting and close every connection of `proxy`.
        case close(proxy: String)
        case toxics(proxy: String, [ToxicSpec])
        /// Signals when the commands before it are applied.
        case barrier(DispatchSemaphore)
        case stop
    }

    /// One proxied connection: the client's socket, the upstream's, one stream each way.
    final class Link {
        let id: UInt64
        let proxy: String
        let client: Int32
        let server: Int32
        var connecting = true
        let up: ProxyStream
        let down: ProxyStream
        var interest: (client: UInt32, server: UInt32) = (0, 0)
        /// Taken out of the epoll set: the peer hung up and nothing more will be read from it
        /// (epoll reports a hang-up whatever the interest, so it would wake the loop forever).
        var detached: (client: Bool, server: Bool) = (false, false)
        /// Toxic name → applied here (the toxicity roll, kept while the toxic exists).
        var rolled: [String: Bool] = [:]
        var seed: SplitMix

        init(id: UInt64, proxy: String, client: Int32, server: Int32, seed: UInt64) {
            self.id = id
            self.proxy = proxy
            self.client = client
            self.server = server
            up = ProxyStream(.upstream, input: client, output: server)
            down = ProxyStream(.downstream, input: server, output: client)
            self.seed = SplitMix(seed)
        }

        func stream(_ d: ProxyStream.Direction) -> ProxyStream { d == .upstream ? up : down }
    }

    private let epoll: Int32
    private let wake: Int32
    private let timer: Int32
    private var links: [UInt64: Link] = [:]
    private var listeners: [Int32: (proxy: String, upstream: sockaddr_in)] = [:]
    private var toxics: [String: [ToxicSpec]] = [:]
    private var nextId: UInt64 = 16
    private var random: SplitMix
    private let commands = Locked([Command]())
    private var thread: PThread?
    private let done = DispatchSemaphore(value: 0)
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    /// Connections accepted and ended since start (for tests and the API's view).
    let counts = Locked((accepted: 0, open: 0))
    /// Per proxy: when data that went through a toxic was written, and how long it was held
    /// (up to 100,000 samples each) — what a fault's toxics did, measured.
    let held = Locked([String: [(at: Int64, held: Int64)]]())

    /// Connections the loop holds at once (two descriptors each), below the process's limit on
    /// descriptors: past it a new client is closed at once, so a flood of connections (or a
    /// proxy chain that loops) cannot take the descriptors the loop, the API and the agent need.
    let maxLinks: Int = {
        var r = rlimit()
        let soft = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 ? Int(min(r.rlim_cur, 1 << 20)) : 1_024
        return max(16, min(16_384, (soft - 128) / 2))
    }()

    private static let wakeToken: UInt64 = 1
    private static let timerToken: UInt64 = 2
    private static let listenerBase: UInt64 = 1 << 60

    init(seed: UInt64 = UInt64.random(in: 0...UInt64.max)) throws(FaultError) {
        random = SplitMix(seed)
        epoll = faultline_epoll()
        wake = faultline_eventfd()
        timer = faultline_timerfd()
        guard epoll >= 0, wake >= 0, timer >= 0 else { throw FaultError.system("proxy loop: \(errnoText())") }
        _ = faultline_epoll_ctl(epoll, EPOLL_CTL_ADD, wake, EPOLLIN.rawValue, Self.wakeToken)
        _ = faultline_epoll_ctl(epoll, EPOLL_CTL_ADD, timer, EPOLLIN.rawValue, Self.timerToken)
    }

    deinit {
        buffer.deallocate()
        close(epoll)
        close(wake)
        close(timer)
    }

    func start() {
        let t = PThread { [self] in
            run()
            done.signal()
        }
        t.name = "proxy loop"
        t.stackSize = 1 << 20
        thread = t
        t.start()
    }

    /// Closes every connection and listener and ends the thread.
    func stop() {
        send(.stop)
        done.wait()
    }

    func send(_ c: Command) {
        commands.mutate { $0.append(c) }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    /// Sends `c` and returns once the loop has applied it (a listener it closes is closed).
    func sendAndWait(_ c: Command) {
        let done = DispatchSemaphore(value: 0)
        send(c)
        send(.barrier(done))
        done.wait()
    }

    // MARK: the loop

    private func run() {
        var data = [UInt64](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        while true {
            let n = faultline_epoll_wait(epoll, &data, &events, 256, -1)
            if n < 0, errno != EINTR { return }
            let now = MonotonicClock.now()
            for i in 0..<max(0, Int(n)) {
                let token = data[i]
                if token == Self.wakeToken {
                    var v: UInt64 = 0
                    _ = read(wake, &v, 8)
                } else if token == Self.timerToken {
                    var v: UInt64 = 0
                    _ = read(timer, &v, 8)
                } else if token >= Self.listenerBase {
                    accept(Int32(token - Self.listenerBase), now: now)
                } else if let link = links[token >> 1] {
                    handle(link, client: token & 1 == 0, events: events[i], now: now)
                }
            }
            if !applyCommands(MonotonicClock.now()) {
                shutdownAll()
                return
            }
            service(MonotonicClock.now())
        }
    }

    /// Everything due by `now` on every connection, then the timer for the next due instant.
    private func service(_ now: Int64) {
        var next: Int64 = .max
        for link in Array(links.values) {
            guard !link.connecting else { continue }
            if !flush(link, now: now) { continue }
            if let t = link.up.nextDue { next = min(next, t) }
            if let t = link.down.nextDue { next = min(next, t) }
        }
        if next != .max {
            _ = faultline_timerfd_at(timer, next)
        } else {
            _ = faultline_timerfd_at(timer, MonotonicClock.now() + 3_600_000_000_000)
        }
    }

    /// Writes what is due on both streams; false when the link ended.
    private func flush(_ link: Link, now: Int64) -> Bool {
        for s in [link.up, link.down] {
            switch s.flush(now: now) {
            case .ok: break
            case .closeLink:
                end(link, reset: false)
                return false
            case .reset, .failed:
                end(link, reset: true)
                return false
            }
        }
        if link.up.finished, link.down.finished {
            end(link, reset: false)
            return false
        }
        updateInterest(link)
        return true
    }

    private func handle(_ link: Link, client: Bool, events: UInt32, now: Int64) {
        if link.connecting {
            guard !client else {
                // The client gave up before the upstream answered.
                if events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { end(link, reset: false) }
                return
            }
            var error: Int32 = 0
            var len = socklen_t(4)
            getsockopt(link.server, SOL_SOCKET, SO_ERROR, &error, &len)
            if error != 0 || events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                end(link, reset: false)
                return
            }
            link.connecting = false
            var one: Int32 = 1
            setsockopt(link.server, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
            for spec in toxics[link.proxy] ?? [] { apply(spec, to: link, now: now) }
            updateInterest(link)
            return
        }
        // The stream this descriptor feeds (readable) and the one it drains to (writable).
        let reading = client ? link.up : link.down
        if events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0, reading.inputOpen {
            let n = Glibc.read(reading.input, buffer.baseAddress, buffer.count)
            if n > 0 {
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                if reading.isIdle {
                    if !reading.pass(chunk, now: now) { return end(link, reset: true) }
                } else {
                    reading.feed(.data(Array(chunk), now), now: now)
                }
            } else if n == 0 {
                reading.inputOpen = false
                reading.feed(StreamEvent(kind: .close, due: now), now: now)
            } else if errno != EAGAIN, errno != EINTR {
                // The peer reset its connection: the other side learns it the same way.
                return end(link, reset: true)
            }
        }
        if events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0, !reading.inputOpen {
            let fd = client ? link.client : link.server
            _ = faultline_epoll_ctl(epoll, EPOLL_CTL_DEL, fd, 0, 0)
            if client { link.detached.client = true } else { link.detached.server = true }
        }
        _ = flush(link, now: now)
    }

    private func accept(_ listener: Int32, now: Int64) {
        guard let l = listeners[listener] else { return }
        while true {
            let c = faultline_accept(listener)
            if c < 0 { return }
            if links.count >= maxLinks {
                close(c)
                continue
            }
            var one: Int32 = 1
            setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, 4)
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard s >= 0 else {
                close(c)
                continue
            }
            var to = l.upstream
            let rc = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, 16) } }
            if rc != 0, errno != EINPROGRESS {
                close(s)
                close(c)
                continue
            }
            let id = nextId
            nextId += 1
            let link = Link(id: id, proxy: l.proxy, client: c, server: s, seed: random.next())
            let proxy = l.proxy
            let record: (Int64) -> Void = { [held] h in
                let now = MonotonicClock.now()
                held.mutate { all in
                    if all[proxy, default: []].count < 100_000 { all[proxy, default: []].append((now, h)) }
                }
            }
            link.up.onHeld = record
            link.down.onHeld = record
            links[id] = link
            counts.mutate {
                $0.accepted += 1
                $0.open += 1
            }
            _ = faultline_epoll_ctl(epoll, EPOLL_CTL_ADD, c, 0, id << 1)
            _ = faultline_epoll_ctl(epoll, EPOLL_CTL_ADD, s, EPOLLOUT.rawValue, id << 1 | 1)
            link.interest = (0, EPOLLOUT.rawValue)
        }
    }

    private func updateInterest(_ link: Link) {
        var c: UInt32 = 0
        var s: UInt32 = 0
        if link.connecting {
            s = EPOLLOUT.rawValue
        } else {
            if link.up.wantsInput { c |= EPOLLIN.rawValue }
            if link.down.blocked { c |= EPOLLOUT.rawValue }
            if link.down.wantsInput { s |= EPOLLIN.rawValue }
            if link.up.blocked { s |= EPOLLOUT.rawValue }
        }
        if c != link.interest.client, !link.detached.client { _ = faultline_epoll_ctl(epoll, EPOLL_CTL_MOD, link.client, c, link.id << 1) }
        if s != link.interest.server, !link.detached.server {
            _ = faultline_epoll_ctl(epoll, EPOLL_CTL_MOD, link.server, s, link.id << 1 | 1)
        }
        link.interest = (c, s)
    }

    /// Closes both sockets: with a FIN, or with a reset (SO_LINGER 0) to both peers.
    private func end(_ link: Link, reset: Bool) {
        guard links.removeValue(forKey: link.id) != nil else { return }
        for fd in [link.client, link.server] {
            if reset {
                var l = linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
            }
            close(fd)
        }
        counts.mutate { $0.open -= 1 }
    }

    /// Gives `link` an instance of `spec` if its toxicity roll says so.
    private func apply(_ spec: ToxicSpec, to link: Link, now: Int64) {
        let applied = link.rolled[spec.name] ?? (spec.toxicity >= 1 || link.seed.unit() < spec.toxicity)
        link.rolled[spec.name] = applied
        guard applied else { return }
        link.stream(spec.stream).add(spec.name, spec.toxic.instance(seed: link.seed.next()), now: now)
    }

    private func applyCommands(_ now: Int64) -> Bool {
        let pending = commands.mutate { c -> [Command] in
            defer { c = [] }
            return c
        }
        for c in pending {
            switch c {
            case .stop:
                return false
            case .barrier(let s):
                s.signal()
            case .listen(let proxy, let fd, let upstream):
                listeners[fd] = (proxy, upstream)
                _ = faultline_epoll_ctl(epoll, EPOLL_CTL_ADD, fd, EPOLLIN.rawValue, Self.listenerBase + UInt64(fd))
            case .upstream(let proxy, let address):
                for (fd, l) in listeners where l.proxy == proxy { listeners[fd] = (proxy, address) }
            case .close(let proxy):
                for (fd, l) in listeners where l.proxy == proxy {
                    _ = faultline_epoll_ctl(epoll, EPOLL_CTL_DEL, fd, 0, 0)
                    listeners[fd] = nil
                    close(fd)
                }
                for link in links.values where link.proxy == proxy { end(link, reset: false) }
            case .toxics(let proxy, let specs):
                let old = toxics[proxy] ?? []
                toxics[proxy] = specs
                for link in links.values where link.proxy == proxy && !link.connecting {
                    reconcile(link, old: old, new: specs, now: now)
                }
            }
        }
        return true
    }

    /// Brings a live connection's toxics from `old` to `new`: removed ones let go of what they
    /// held, changed ones are replaced (keeping their toxicity roll), new ones begin now.
    private func reconcile(_ link: Link, old: [ToxicSpec], new: [ToxicSpec], now: Int64) {
        for o in old {
            let n = new.first { $0.name == o.name }
            if let n, Self.same(n, o) { continue }
            link.stream(o.stream).remove(o.name, now: now)
            if n == nil || n?.toxicity != o.toxicity { link.rolled[o.name] = nil }
        }
        for n in new {
            if let o = old.first(where: { $0.name == n.name }), Self.same(n, o) { continue }
            apply(n, to: link, now: now)
        }
    }

    static func same(_ a: ToxicSpec, _ b: ToxicSpec) -> Bool {
        a.stream == b.stream && a.toxicity == b.toxicity && type(of: a.toxic).type == type(of: b.toxic).type
            && a.toxic.attributes == b.toxic.attributes
    }

    private func shutdownAll() {
        for link in Array(links.values) { end(link, reset: false) }
        for fd in listeners.keys { close(fd) }
        listeners = [:]
    }
}
