import Yams

/// Scalars as faultline reads them. Files are composed with Yams's basic resolver
/// (``Document``): the default one decides each plain scalar's type with seven regular
/// expressions, and compiling them (ICU, on first use) cost every run about 1.5 ms. faultline
/// reads every scalar as text and parses numbers, durations and rates itself, so it needs no
/// tags, only booleans (``plainBool(_:)``); merge keys are applied by ``NodeReader``.
enum YAMLText {
    /// A YAML 1.1 boolean written as a plain (unquoted) scalar: true/yes/on, false/no/off, in
    /// lower, Capitalised or UPPER case.
    static func plainBool(_ node: Node) -> Bool? {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return nil }
        switch s.string {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    /// Whether `s` is 1…`maxLength` characters, the first in `first`, the rest in `rest`
    /// (ASCII); a regular expression would load ICU for this.
    static func isName(_ s: String, first: (UInt8) -> Bool, rest: (UInt8) -> Bool, maxLength: Int) -> Bool {
        let bytes = Array(s.utf8)
        guard let head = bytes.first, bytes.count <= maxLength, first(head) else { return false }
        return bytes.dropFirst().allSatisfy(rest)
    }

    static func lower(_ c: UInt8) -> Bool { ASCII.lower(c) }
    static func letter(_ c: UInt8) -> Bool { ASCII.letter(c) }
    static func digit(_ c: UInt8) -> Bool { ASCII.digit(c) }
}
