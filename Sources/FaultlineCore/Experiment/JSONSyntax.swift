/// A strict check of JSON syntax (RFC 8259) for `.json` files, which are otherwise read by the
/// YAML parser — and YAML accepts what JSON does not (a trailing comma, comments, single quotes).
/// Iterative, so nesting depth costs memory, not stack.
enum JSONSyntax {
    enum Expect { case value, keyOrEnd, key, colon, commaOrEnd }

    /// The byte offset and a description of the first error, or nil when the text is JSON.
    static func check(_ b: [UInt8]) -> (Int, String)? {
        var stack: [UInt8] = []  // open containers: '{' or '['
        var expect = Expect.value
        var i = 0
        var done = false
        func describe(_ i: Int) -> String { i < b.count ? "'\(String(decoding: [b[i]], as: UTF8.self))'" : "the end of the file" }
        while true {
            while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 }
            if done {
                return i == b.count ? nil : (i, "unexpected \(describe(i)) after the document")
            }
            guard i < b.count else { return (i, "the document ends before it is complete") }
            let c = b[i]
            switch expect {
            case .colon:
                guard c == 58 else { return (i, "expected ':' after a key, found \(describe(i))") }
                i += 1
                expect = .value
                continue
            case .commaOrEnd:
                let close: UInt8 = stack.last == 123 ? 125 : 93
                if c == 44 {
                    i += 1
                    expect = stack.last == 123 ? .key : .value
                    if let next = nextSignificant(b, i), b[next] == 125 || b[next] == 93 {
                        return (i - 1, "a trailing comma is not JSON")
                    }
                    continue
                }
                guard c == close else { return (i, "expected ',' or '\(close == 125 ? "}" : "]")', found \(describe(i))") }
                stack.removeLast()
                i += 1
                if stack.isEmpty { done = true } else { expect = .commaOrEnd }
                continue
            case .keyOrEnd, .key:
                if c == 125, expect == .keyOrEnd {
                    stack.removeLast()
                    i += 1
                    if stack.isEmpty { done = true } else { expect = .commaOrEnd }
                    continue
                }
                guard c == 34 else { return (i, "expected a key in double quotes, found \(describe(i))") }
                guard let end = string(b, i) else { return (i, "a string is not closed, or holds a raw control character or a bad escape") }
                i = end
                expect = .colon
                continue
            case .value:
                break
            }
            switch c {
            case 123:
                stack.append(123)
                i += 1
                expect = .keyOrEnd
                continue
            case 91:
                stack.append(91)
                i += 1
                if let next = nextSignificant(b, i), b[next] == 93 {
                    stack.removeLast()
                    i = next + 1
                    if stack.isEmpty { done = true } else { expect = .commaOrEnd }
                }
                continue
            case 34:
                guard let end = string(b, i) else { return (i, "a string is not closed, or holds a raw control character or a bad escape") }
                i = end
            default:
                guard let end = literal(b, i) ?? number(b, i) else { return (i, "expected a value, found \(describe(i))") }
                i = end
            }
            if stack.isEmpty { done = true } else { expect = .commaOrEnd }
        }
    }

    static func nextSignificant(_ b: [UInt8], _ from: Int) -> Int? {
        var i = from
        while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 }
        return i < b.count ? i : nil
    }

    /// The offset after a string starting at `i` (a `"`), or nil.
    static func string(_ b: [UInt8], _ start: Int) -> Int? {
        var i = start + 1
        while i < b.count {
            switch b[i] {
            case 34: return i + 1
            case 92:
                guard i + 1 < b.count else { return nil }
                switch b[i + 1] {
                case 34, 92, 47, 98, 102, 110, 114, 116: i += 2
                case 117:
                    guard i + 6 <= b.count, b[(i + 2)..<(i + 6)].allSatisfy(isHex) else { return nil }
                    i += 6
                default: return nil
                }
            case 0..<32: return nil
            default: i += 1
            }
        }
        return nil
    }

    static func isHex(_ c: UInt8) -> Bool { (48...57).contains(c) || (65...70).contains(c) || (97...102).contains(c) }

    static func literal(_ b: [UInt8], _ i: Int) -> Int? {
        for word in ["true", "false", "null"] {
            let w = Array(word.utf8)
            if i + w.count <= b.count, Array(b[i..<(i + w.count)]) == w { return i + w.count }
        }
        return nil
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    static func number(_ b: [UInt8], _ start: Int) -> Int? {
        var i = start
        let digit = { (k: Int) in k < b.count && (48...57).contains(b[k]) }
        if i < b.count, b[i] == 45 { i += 1 }
        guard digit(i) else { return nil }
        if b[i] == 48 { i += 1 } else { while digit(i) { i += 1 } }
        if i < b.count, b[i] == 46 {
            i += 1
            guard digit(i) else { return nil }
            while digit(i) { i += 1 }
        }
        if i < b.count, b[i] == 101 || b[i] == 69 {
            i += 1
            if i < b.count, b[i] == 43 || b[i] == 45 { i += 1 }
            guard digit(i) else { return nil }
            while digit(i) { i += 1 }
        }
        return i
    }
}
