import Foundation
import Testing

@testable import FaultlineCore

@Suite("pattern engine")
struct PatternTests {
    func ours(_ pattern: String, _ text: String) throws -> Bool { try Pattern(pattern).matches(text) }

    func icu(_ pattern: String, _ text: String) -> Bool? {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return nil }
        return re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static let patterns = [
        "redis-server", "^redis", "server$", "^sleep 31\\.5$", "postgres: .*checkpointer", "a|b|c", "(ab|cd)+e", "x*", "^$",
        "a{2,3}", "a{2}", "a{2,}", "[a-c]+x", "[^ ]+ [^ ]+", "\\d+", "\\w+\\s\\w+", "\\bcat\\b", "\\Bat", "(?i)REDIS", "(?i:ab)c",
        "a.c", "^(a|ab)(c|bcd)$", "(a*)*b", "(a|)+b", "[[:digit:]]{3}", "[-a]", "[a-]", "[]a]", "\\.", "a\\|b", "^\\s*$",
        "(?:x|y)z?", "colou?r", "[0-9a-fA-F]+$", "^[^/]", "end-marker$", "a+?b", "(?m)^b", "\\x41", "\\u00e9", "\\Qa.b\\E", "^(?:)$",
        "((a))", "(?<name>ab)c", "a{0}", "a{0,1}b", "z{1000}", "[a-c&&]",
    ]
    static let texts = [
        "", "a", "b", "ab", "abc", "aab", "aaab", "ac", "abcd", "abcde", "cde", "redis-server *:6379", "/usr/bin/redis-server",
        "sleep 31.5", "sleep 31x5", "postgres: 15/main: checkpointer", "x", "xxx", "colour", "color", "cat", "concat", "a cat sat",
        "123", "12", "dead BEEF", "REDIS", "Redis-Server", "abc\nb", "A", "é", "a.b", "axb", "a|b", " ", "   ", "-", "]", "xz", "yz",
        "...end-marker", "ab c", "aaaaaaaaab",
    ]

    @Test("agrees with ICU (NSRegularExpression) on every pattern and text of a table")
    func agreesWithICU() throws {
        for p in Self.patterns {
            guard let compiled = try? Pattern(p) else {
                // Only the set-intersection case is ours alone to refuse.
                #expect(p == "[a-c&&]", "refused: \(p)")
                continue
            }
            for t in Self.texts {
                guard let expected = icu(p, t) else { continue }
                #expect(try compiled.matches(t) == expected, "pattern \(p) on \(t.debugDescription)")
            }
        }
    }

    @Test("agrees with ICU on 4,000 random patterns and texts (seeded)")
    func randomAgreement() throws {
        var rng = SplitMix(20_261_203)
        let atoms = ["a", "b", "c", ".", "[ab]", "[^a]", "\\w", "\\d", "1", " ", "(?:a|b)", "(a|bc)", "^", "$", "\\b"]
        let quantifiers = ["", "", "", "*", "+", "?", "{2}", "{1,2}", "*?"]
        var compared = 0
        for _ in 0..<4_000 {
            var p = ""
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                var atom = atoms[Int(rng.next() % UInt64(atoms.count))]
                if rng.next() % 5 == 0 { atom = "(\(atom)\(atoms[Int(rng.next() % UInt64(atoms.count))]))" }
                let q = ["^", "$", "\\b"].contains(atom) ? "" : quantifiers[Int(rng.next() % UInt64(quantifiers.count))]
                p += atom + q
                if rng.next() % 7 == 0 { p += "|" }
            }
            let alphabet: [Character] = ["a", "b", "c", "1", " "]
            let t = String((0..<Int(rng.next() % 7)).map { _ in alphabet[Int(rng.next() % 5)] })
            guard let expected = icu(p, t), let compiled = try? Pattern(p) else { continue }
            #expect(try compiled.matches(t) == expected, "pattern \(p) on \(t.debugDescription)")
            compared += 1
        }
        #expect(compared > 3_000)
    }

    @Test(
        "what makes other engines exponential is refused by name",
        arguments: [
            ("^(?!-bash$)", "lookahead ('(?!') is not supported (at character 2)"),
            ("(?=a)", "lookahead ('(?=') is not supported (at character 1)"),
            ("(?<=a)b", "lookbehind ('(?<=') is not supported (at character 1)"),
            ("(a)\\1", "backreferences ('\\1') are not supported (at character 4)"),
            ("a++", "possessive quantifiers ('++') are not supported (at character 3)"),
            ("(?>a)", "atomic groups ('(?>') are not supported (at character 1)"),
            ("\\p{L}", "Unicode property classes ('\\p{…}') are not supported; use a range like [a-zA-Z] (at character 1)"),
            ("redis-(server", "unterminated group: a '(' without its ')' (at character 7)"),
            ("a)", "unmatched ')' (at character 2)"),
            ("*a", "'*' has nothing to repeat (at character 1)"),
            ("a{5,2}", "{5,2}: the maximum is below the minimum (at character 2)"),
            ("a{1001}", "a counted repetition is at most {1000} (at character 2)"),
            ("(a{1000}){1000}", "the pattern expands to more than 20000 steps; use fewer or smaller repetitions (at character 1)"),
            ("[a", "unterminated '[': a set needs its ']' (at character 1)"),
            ("[z-a]", "range out of order (at character 3)"),
            ("\\y", "'\\y' is not an escape this engine knows; write the character itself (at character 1)"),
            ("(?x)a", "'(?x' is not a group or flag this engine knows (flags: i, m, s) (at character 3)"),
        ])
    func refused(_ pattern: String, _ message: String) {
        #expect(throws: PatternError.self) { try Pattern(pattern) }
        do {
            _ = try Pattern(pattern)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("a nested repetition costs steps linear in the text: (a+)+$ on 1,000 and 2,000 a's")
    func linear() throws {
        let p = try Pattern("(a+)+$")
        func steps(_ n: Int) throws -> Int {
            var budget = Int.max
            #expect(try p.matches(String(repeating: "a", count: n) + "!", budget: &budget) == false)
            return Int.max - budget
        }
        let one = try steps(1_000)
        let two = try steps(2_000)
        #expect(Double(two) < 2.1 * Double(one), "\(one) then \(two) steps")
        // ICU backtracks here: 2^34 paths for 34 a's. Ours: a few steps per character.
        #expect(try p.matches(String(repeating: "a", count: 34) + "!") == false)
        #expect(one < 20 * 1_001)
    }

    @Test("a budget that runs out is an error, never a wrong answer")
    func budget() throws {
        let p = try Pattern("(a|b)*c")
        var budget = 50
        #expect(throws: PatternBudgetExceeded.self) { try p.matches(String(repeating: "ab", count: 100), budget: &budget) }
    }

    @Test(
        "the literal text every match is held to",
        arguments: [
            ("redis-server", 12), ("^redis", 5), ("postgres: .*checkpointer", 12), (".", 0), (".*", 0), ("^/", 1), ("a.b", 1),
            ("[a-z]+", 0), ("^(?!x)", -1), ("sh", 2), ("(redis|valkey)-server", 12), ("(?i)redis", 5), ("x{3}", 3), ("ab?c", 2),
            ("^", 0), ("\\d+", 0), ("[ab]cd", 3),
        ])
    func literalLength(_ pattern: String, _ length: Int) {
        guard let p = try? Pattern(pattern) else {
            #expect(length == -1, "\(pattern) refused")
            return
        }
        #expect(p.requiredLiteralLength == length, "\(pattern)")
    }

    @Test("a text given in UTF-8 (the byte search's prefilter) is matched as the same text given as a String")
    func utf8Form() throws {
        // (the table also holds patterns the engine refuses: those have nothing to compare)
        for source in Self.patterns {
            guard let p = try? Pattern(source) else { continue }
            for text in Self.texts + ["aababab c", "xé redis-server é", String(repeating: "ab", count: 300) + " c"] {
                var budget = Pattern.defaultBudget
                #expect(try p.matches(utf8: Array(text.utf8), budget: &budget) == p.matches(text), "/\(source)/ on '\(text)'")
            }
        }
    }

    @Test("the prefilter never hides a match: texts holding the literal late, repeated, overlapping")
    func prefilter() throws {
        let p = try Pattern("abab c")
        #expect(try p.matches("aababab c"))
        #expect(try p.matches(String(repeating: "ab", count: 500) + " c"))
        #expect(try !p.matches(String(repeating: "ab", count: 500) + "c"))
    }
}
