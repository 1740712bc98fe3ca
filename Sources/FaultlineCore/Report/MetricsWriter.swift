/// Renders a journal as `metrics.prom`: Prometheus's text format (what node_exporter's textfile
/// collector reads), every metric a gauge with its HELP and TYPE, no timestamps (the collector
/// refuses them), and the labels `experiment` and `run` on every series so that runs of many
/// experiments can sit side by side in one folder. Times are seconds, exact to the nanosecond
/// the journal holds; nothing is averaged.
///
/// Series that would repeat a name and labels (a fault expanded to one host twice, two checks
/// of one name) get `#2`, `#3` … after the repeated value: the collector drops a whole file
/// that repeats a series.
public enum MetricsWriter {
    public static func render(_ j: Journal) -> String {
        var m = Metrics(base: [("experiment", j.experiment.title), ("run", j.runId)])
        m.family("faultline_run_verdict", "1 for the run's verdict, 0 for the others")
        for v in [Verdict.passed, .failed, .invalid, .aborted, .error] {
            m.sample([("verdict", v.rawValue)], j.verdict == v ? "1" : "0")
        }
        m.family("faultline_run_exit_code", "the exit code faultline ended with")
        m.sample([], String(j.exitCode))
        m.family("faultline_run_duration_seconds", "from the run's start to its end")
        m.sample([], seconds(j.durationNs))
        m.family("faultline_run_residue_items", "what the run left behind (0: nothing)")
        m.sample([], String(j.residue.count))

        m.family("faultline_check_passed", "1 when the expectation held")
        for c in j.checks { m.sample([("check", c.name)], c.passed ? "1" : "0") }
        // A check's figure and its bracket as numbers, in the unit the `unit` label names.
        let valued = j.checks.filter { $0.value != nil }
        m.family("faultline_check_value", "the figure a check judged (for a bound, its bracket's far end), in `unit`")
        for c in valued { m.sample([("check", c.name), ("unit", c.value!.unit)], "\(c.value!.value)") }
        m.family("faultline_check_value_lower", "the low end of the bracket the samples allow, in `unit`")
        for c in valued { if let l = c.value!.lower { m.sample([("check", c.name), ("unit", c.value!.unit)], "\(l)") } }
        m.family("faultline_check_value_upper", "the high end of the bracket the samples allow, in `unit`")
        for c in valued { if let u = c.value!.upper { m.sample([("check", c.name), ("unit", c.value!.unit)], "\(u)") } }
        m.family("faultline_check_bound", "the limit a check's expectation states, in `unit`")
        for c in j.checks { if let b = c.bound { m.sample([("check", c.name), ("unit", b.unit)], "\(b.value)") } }

        let injected = j.faults.filter { $0.injectedAt != nil }
        m.family("faultline_fault_injected", "1 when the fault was injected")
        for f in j.faults { m.sample(faultLabels(f), f.injectedAt == nil ? "0" : "1") }
        m.family("faultline_fault_confirmed", "1 when the fault's effect was confirmed on its host")
        for f in injected { m.sample(faultLabels(f), f.confirmed ? "1" : "0") }
        m.family("faultline_fault_lateness_seconds", "from the fault's scheduled instant to its injection")
        for f in injected { m.sample(faultLabels(f), seconds(f.injectedAt! - f.scheduledAt)) }
        m.family("faultline_fault_held_seconds", "from the fault's injection to its revert")
        for f in injected { if let r = f.revertedAt { m.sample(faultLabels(f), seconds(r - f.injectedAt!)) } }

        m.family("faultline_probe_samples", "samples the probe took during the run")
        for p in j.probes { m.sample([("probe", p.probe)], String(p.count)) }
        m.family("faultline_probe_failed_samples", "samples that failed")
        for p in j.probes { m.sample([("probe", p.probe)], String(p.ok.lazy.filter { !$0 }.count)) }
        m.family("faultline_probe_availability_ratio", "the share of samples that succeeded, 0 to 1")
        for p in j.probes where p.count > 0 {
            m.sample([("probe", p.probe)], ratio(p.ok.lazy.filter { $0 }.count, p.count))
        }

        if let w = j.workload {
            m.family("faultline_workload_writes", "the workload's writes by outcome")
            for (outcome, n) in [("acknowledged", w.acknowledged), ("failed", w.failed), ("unknown", w.unknown), ("lost", w.lostCount)] {
                m.sample([("outcome", outcome)], String(n))
            }
            m.family("faultline_workload_rpo_seconds", "the span of acknowledged writes that were lost (0: none)")
            m.sample([], seconds(w.rpoNs))
        }
        if let s = j.stop {
            m.family("faultline_stop_at_seconds", "when a stop condition or a halt stopped the run")
            m.sample([("condition", s.condition)], seconds(s.at))
            if let v = s.reactionNs {
                m.family("faultline_stop_reaction_seconds", "from the stop to every fault reverted")
                m.sample([("condition", s.condition)], seconds(v))
            }
        }
        return m.text + "# EOF\n"
    }

    static func faultLabels(_ f: FaultRecord) -> [(String, String)] {
        [("fault", f.name), ("host", f.host), ("kind", f.kind)]
    }

    /// Nanoseconds as seconds, exactly: "1.5", "0.000001234", "-0.25".
    static func seconds(_ ns: Nanos) -> String {
        let sign = ns < 0 ? "-" : ""
        let m = ns.magnitude
        var frac = String(m % 1_000_000_000)
        frac = String(repeating: "0", count: 9 - frac.count) + frac
        while frac.last == "0" { frac.removeLast() }
        return sign + String(m / 1_000_000_000) + (frac.isEmpty ? "" : "." + frac)
    }

    /// `a / b` to six places (a share of at most 5 million samples: the sixth place is exact
    /// enough that 1 failure in a million still shows), trailing zeros dropped.
    static func ratio(_ a: Int, _ b: Int) -> String {
        let scaled = (Int64(a) * 1_000_000 + Int64(b) / 2) / Int64(b)
        if scaled == 1_000_000 && a < b { return "0.999999" }
        if scaled == 0 && a > 0 { return "0.000001" }
        var frac = String(scaled % 1_000_000)
        frac = String(repeating: "0", count: 6 - frac.count) + frac
        while frac.last == "0" { frac.removeLast() }
        return String(scaled / 1_000_000) + (frac.isEmpty ? "" : "." + frac)
    }

    /// A label value as the text format quotes it: backslash, double quote and newline
    /// escaped; other control characters written as `\u{…}` text (a value for people to read).
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case _ where u.value < 0x20 || u.value == 0x7F: out += "\\\\u{\(String(u.value, radix: 16))}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    struct Metrics {
        let base: [(String, String)]
        var text = ""
        private var name = ""
        private var seen: Set<String> = []

        init(base: [(String, String)]) { self.base = base }

        /// The family's header, written with its first sample (a family without any is left out).
        private var header: String?

        mutating func family(_ name: String, _ help: String) {
            self.name = name
            header = "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
        }

        mutating func sample(_ labels: [(String, String)], _ value: String) {
            if let header {
                text += header
                self.header = nil
            }
            var all = base + labels
            var key = name + all.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{0}")
            if !seen.insert(key).inserted, !labels.isEmpty {
                // The sample's first own label (a fault's name, a check's) takes the number.
                let at = base.count
                var n = 2
                let original = all[at].1
                repeat {
                    all[at].1 = "\(original)#\(n)"
                    key = name + all.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{0}")
                    n += 1
                } while !seen.insert(key).inserted
            }
            text += name + "{" + all.map { "\($0.0)=\(MetricsWriter.quoted($0.1))" }.joined(separator: ",") + "} " + value + "\n"
        }
    }
}
