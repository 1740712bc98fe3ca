import Foundation
import Testing

@testable import FaultlineCore

/// `JSONText` must write what Foundation's `JSONEncoder` writes with the journal's options, byte
/// for byte: old journals, ledgers and lab states stay identical, and so do their readers.
@Suite("JSONText encoder")
struct JSONTextTests {
    static func foundation<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    static func ours<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONText().encode(value), as: UTF8.self)
    }

    @Test("a journal with every section filled, a workload included")
    func journal() throws {
        var j = ReportTests.sample()
        j.reasons = ["line one\nline two", "tab\there, quote \" and backslash \\", "bell \u{07} and \u{1F}", "path /a/b", "µs → ✓"]
        j.residue = []
        var h = History()
        h.ops = [
            History.Op(client: 0, kind: .write, key: "k1", value: "1", invokedAt: 10, completedAt: 20, outcome: .ok, endpoint: "r1"),
            History.Op(client: 1, kind: .write, key: "k1", value: "2", invokedAt: 15, completedAt: 40, outcome: .unknown, endpoint: "r10"),
            History.Op(client: 1, kind: .read, key: "k1", value: "1", invokedAt: 50, completedAt: 60, outcome: .ok, endpoint: "R2"),
        ]
        h.finalReads = ["r1": ["1"], "r10": [], "R2": ["1", "2"], "pgPrimary": ["1"], "b_x": ["1"], "b2": []]
        j.workload = WorkloadRecord(h)
        #expect(try Self.ours(j) == Self.foundation(j))
        #expect(try Journal.decode(JSONText().encode(j)) == j)
    }

    @Test("compact: one line, as JSONEncoder writes it without pretty printing; a part at depth reads as in the whole")
    func compact() throws {
        var j = ReportTests.sample()
        j.reasons = ["line one\nline two", "quote \" and /slash"]
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = String(decoding: try JSONText(compact: true).encode(j), as: UTF8.self)
        #expect(line == String(decoding: try e.encode(j), as: UTF8.self))
        #expect(!line.contains("\n"))
        // The faults array of the whole file is, item by item, each fault encoded at depth 2.
        #expect(!j.faults.isEmpty)
        let whole = try Self.ours(j)
        for f in j.faults { #expect(whole.contains(try JSONText().text(f, indent: 2))) }
    }

    @Test("an empty journal: empty arrays and objects keep Foundation's layout")
    func empty() throws {
        let j = Journal(runId: "r", experiment: ReportTests.sample().experiment, startedAt: "t")
        #expect(try Self.ours(j) == Self.foundation(j))
        let nested: [String: [String: [Int]]] = ["a": [:], "b": ["c": []]]
        #expect(try Self.ours(nested) == Self.foundation(nested))
    }

    struct Numbers: Codable {
        var doubles: [Double]
        var floats: [Float]
        var ints: [Int64]
        var unsigned: UInt64
        var flag: Bool
        var missing: String?
        var present: Int?
    }

    @Test("numbers, booleans and optionals")
    func numbers() throws {
        let n = Numbers(
            doubles: [0, 1, -1, 0.5, 0.1, 1.0 / 3, 1e-7, 123_456_789.125, 1e21, 2.5e-300, -0.0, 99.99],
            floats: [0.1, 3.25, 1e10], ints: [.min, -1, 0, .max], unsigned: .max, flag: false, missing: nil, present: 7)
        #expect(try Self.ours(n) == Self.foundation(n))
        #expect(throws: EncodingError.self) { try JSONText().encode([Double.nan]) }
    }

    struct Special: Codable {
        var data: Data
        var url: URL
        var decimal: Decimal
    }

    @Test("Data, URL and Decimal take JSONEncoder's special forms")
    func special() throws {
        let s = Special(
            data: Data([0, 1, 2, 250, 255]), url: URL(string: "http://198.18.0.1:8080/a?b=c")!, decimal: Decimal(string: "12.50")!)
        #expect(try Self.ours(s) == Self.foundation(s))
    }

    struct Keys: Encodable {
        struct K: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var names: [String]
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            for (i, n) in names.enumerated() { try c.encode(i, forKey: K(stringValue: n)) }
        }
    }

    @Test("snake_case conversion and key order (byte order: \"R2\" < \"b10\" < \"b9\") match")
    func keys() throws {
        let names = [
            "runId", "durationNs", "acknowledgedBy", "httpURLValue", "myURL", "URLValue", "a", "aB", "ABc", "exitCode", "exited",
            "r10", "r2", "value2Go", "already_snake", "x", "lostCount", "rpoNs", "b10", "b9",
        ]
        #expect(try Self.ours(Keys(names: names)) == Self.foundation(Keys(names: names)))
        #expect(JSONText.snakeCase("httpURLValue") == "http_url_value")
        #expect(JSONText.snakeCase("runId") == "run_id")
    }

    final class Base: Encodable {
        var base = 1
    }
    final class Derived: Encodable {
        var own = "x"
        let parent = Base()
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(own, forKey: .own)
            try parent.encode(to: c.superEncoder())
        }
        enum CodingKeys: String, CodingKey { case own }
    }

    @Test("a superclass's part goes under \"super\"")
    func superEncoder() throws {
        #expect(try Self.ours(Derived()) == Self.foundation(Derived()))
    }

    /// Writes an object, an array and a superclass's part straight into an array.
    struct Nested: Encodable {
        func encode(to encoder: any Encoder) throws {
            var items = encoder.unkeyedContainer()
            try items.encode(1)
            var object = items.nestedContainer(keyedBy: Derived.CodingKeys.self)
            try object.encode("y", forKey: .own)
            var inner = items.nestedUnkeyedContainer()
            try inner.encode(true)
            try inner.encodeNil()
            try Base().encode(to: items.superEncoder())
            try items.encode("last")
        }
    }

    @Test("containers nested in an array land in order, as Foundation writes them")
    func nestedInArray() throws {
        #expect(try Self.ours(Nested()) == Self.foundation(Nested()))
        #expect(try Self.ours([Nested(), Nested()]) == Self.foundation([Nested(), Nested()]))
    }
}
