import Foundation

/// Renders a journal as JUnit XML: one testcase per expectation, so CI systems can act on it.
public enum JUnitWriter {
    public static func render(_ j: Journal) -> String {
        var cases: [String] = []
        for c in j.checks {
            var x = "    <testcase classname=\"faultline.\(attr(j.experiment.title))\" name=\"\(attr(c.name))\">"
            if !c.passed {
                let message = "expected \(c.expected), measured \(c.measured)"
                x +=
                    "\n      <failure message=\"\(attr(message))\" type=\"expectation\">\(text(message + (c.evidence.map { "\n" + $0 } ?? "")))</failure>\n    "
            }
            cases.append(x + "</testcase>")
        }
        let verdictProblem = j.verdict == .invalid || j.verdict == .aborted || j.verdict == .error
        if verdictProblem || !j.residue.isEmpty {
            let reasons = (j.reasons + j.residue.map { "residue: \($0)" }).joined(separator: "\n")
            cases.append(
                "    <testcase classname=\"faultline.\(attr(j.experiment.title))\" name=\"run\">\n      <error message=\"\(attr("verdict \(j.verdict.rawValue)"))\" type=\"\(j.verdict.rawValue)\">\(text(reasons))</error>\n    </testcase>"
            )
        }
        let failures = j.checks.filter { !$0.passed }.count
        let errors = verdictProblem || !j.residue.isEmpty ? 1 : 0
        let seconds = String(format: "%.3f", Double(j.durationNs) / 1e9)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="faultline" tests="\(cases.count)" failures="\(failures)" errors="\(errors)" time="\(seconds)">
              <testsuite name="\(attr(j.experiment.title))" tests="\(cases.count)" failures="\(failures)" errors="\(errors)" time="\(seconds)" timestamp="\(attr(j.startedAt))">
                <properties>
                  <property name="run_id" value="\(attr(j.runId))"/>
                  <property name="verdict" value="\(j.verdict.rawValue)"/>
                  <property name="file" value="\(attr(j.experiment.file))"/>
                </properties>
            \(cases.joined(separator: "\n"))
              </testsuite>
            </testsuites>

            """
    }

    /// Character data: the markup characters escaped, and every character XML 1.0 forbids (the
    /// C0 controls but tab and line breaks, U+FFFE, U+FFFF) or a viewer would act on (C1
    /// controls, bidirectional overrides, zero-width characters) written as a visible `\u{…}`
    /// escape, so the file stays well-formed and shows what the run recorded.
    static func text(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default:
                if ShownText.isControl(u) || u.value == 0xFFFE || u.value == 0xFFFF {
                    out += "\\u{\(String(u.value, radix: 16, uppercase: true))}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    static func attr(_ s: String) -> String {
        text(s).replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "\n", with: "&#10;")
            .replacingOccurrences(of: "\r", with: "&#13;").replacingOccurrences(of: "\t", with: "&#9;")
    }
}
