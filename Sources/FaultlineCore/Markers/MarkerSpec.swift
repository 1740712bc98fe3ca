import Yams

/// `markers:` — the system's own account of a run: lines of a lab service's log that match
/// `pattern` become named events on the run's clock, at the instant each line says it was
/// written (`LogTimestamp`). Read from the logs after the fault phase, before the lab goes
/// down, so a marker costs the run nothing while it happens.
///
/// ```yaml
/// markers:
///   - {name: odown, hosts: [n1, n2, n3], service: sentinel, pattern: '\+odown master'}
/// ```
public struct MarkerSpec: Equatable, Sendable {
    public var name: String
    /// Lab hosts whose service log is read; a marker's first line is the earliest among them.
    public var hosts: [String]
    /// The lab service whose log is read (its `log:` file, `NAME.log` by default).
    public var service: String
    public var pattern: Pattern
    /// Where it was written, for the validator's messages.
    public var path: String

    public init(name: String, hosts: [String], service: String, pattern: Pattern, path: String = "markers") {
        self.name = name
        self.hosts = hosts
        self.service = service
        self.pattern = pattern
        self.path = path
    }

    /// At most this many lines become markers per spec: a pattern that matches every line
    /// is a mistake the report says, not a million events.
    public static let linesKept = 200

    static func readAll(_ f: Fields, _ r: NodeReader) -> [MarkerSpec] {
        let specs = r.each(f, "markers", what: "markers") { node, path, _ in read(node, path: path, r) }
        var seen: Set<String> = []
        for (i, m) in specs.enumerated() where !seen.insert(m.name).inserted {
            r.error(path: "markers[\(i)].name", "marker \(shown: m.name) is declared twice; each marker needs its own name")
        }
        return specs
    }

    static func read(_ node: Node, path: String, _ r: NodeReader) -> MarkerSpec? {
        guard let f = r.fields(node, path: path, allowed: ["name", "hosts", "host", "service", "pattern"]) else { return nil }
        let name = r.string(f, "name", required: true)
        let service = r.string(f, "service", required: true)
        let source = r.string(f, "pattern", required: true)
        var hosts = r.strings(f, "hosts") ?? []
        if let h = r.string(f, "host") { hosts.append(h) }
        if hosts.isEmpty, !f.has("hosts"), !f.has("host") {
            r.error(node, "'\(path)' needs 'host' or 'hosts': the lab hosts whose \(shown: service ?? "service") log is read")
        } else if hosts.isEmpty, f.has("hosts") {
            r.error(f.values["hosts"], "'\(f.child("hosts"))' is empty: name at least one lab host")
        }
        if let name, name.isEmpty || name.count > 64 || name.contains(where: { $0.isNewline }) {
            r.error(f.values["name"], "'\(f.child("name"))' must be 1 to 64 characters on one line, got \(shown: name)")
        }
        var pattern: Pattern?
        if let source {
            do {
                pattern = try Pattern(source)
            } catch {
                r.error(f.values["pattern"], "'\(f.child("pattern"))' is not a valid regular expression: \(shown: source): \(error)")
            }
        }
        guard let name, let service, let pattern, !hosts.isEmpty else { return nil }
        return MarkerSpec(name: name, hosts: hosts, service: service, pattern: pattern, path: path)
    }
}
