/// Turns the lines of one log into markers: each line that matches a spec's pattern and says
/// when it was written, within the run, is a `MarkerRecord` at that instant on the run's clock.
public struct MarkerScan {
    /// Wall-clock nanoseconds since the epoch → nanoseconds since the run began.
    public var toRun: (Int64) -> Nanos
    /// The run's span on its own clock: lines outside it belong to another run.
    public var span: Range<Nanos>

    public init(toRun: @escaping (Int64) -> Nanos, span: Range<Nanos>) {
        self.toRun = toRun
        self.span = span
    }

    public struct Result: Equatable, Sendable {
        public var markers: [MarkerRecord] = []
        /// Lines that matched but said no time this reader knows (never silently dropped:
        /// the report names them).
        public var undated: [String] = []
        /// Matching lines beyond `MarkerSpec.linesKept`.
        public var dropped = 0
    }

    /// Lines of `text` (one log, `source` naming it) that the specs match.
    public func scan(_ text: String, source: String, specs: [MarkerSpec]) -> Result {
        var out = Result()
        var kept: [String: Int] = [:]
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw.prefix(1_000))
            var budget = 1_000_000
            for spec in specs {
                guard (try? spec.pattern.matches(line, budget: &budget)) == true else { continue }
                guard let t = LogTimestamp.parse(line) else {
                    if out.undated.count < 20 { out.undated.append("\(spec.name): \(line)") }
                    continue
                }
                let at = toRun(t.epochNs)
                guard span.contains(at) else { continue }
                guard kept[spec.name, default: 0] < MarkerSpec.linesKept else {
                    out.dropped += 1
                    continue
                }
                kept[spec.name, default: 0] += 1
                out.markers.append(MarkerRecord(name: spec.name, at: at, source: source, line: line, uncertaintyNs: t.resolutionNs))
            }
        }
        return out
    }
}
