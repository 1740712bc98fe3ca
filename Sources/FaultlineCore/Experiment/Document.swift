import Foundation
import Yams

/// An input file (an experiment or a lab) read and composed into a node tree, with the checks
/// that make reading it safe whatever it holds: a regular file of at most 1 MiB, UTF-8 (a bad
/// byte is reported where it is), strict JSON for `.json` files, and, where aliases are used,
/// plain mapping keys only and an expansion of at most 200,000 nodes.
enum Document {
    static let maxBytes = 1 << 20
    static let maxExpandedNodes = 200_000
    /// The text of every scalar, aliases expanded: an alias repeats its anchor's text, so one
    /// 5 KB scalar aliased 130,000 times is 650 MB of text to every reader after this one.
    static let maxExpandedBytes = 4 << 20

    /// The file's text, or the one problem that stops it being read. `named`: the path came
    /// from another file (a `lab:` an experiment names), so it must be no secret (`InputFile`).
    static func text(path: String, named: Bool = false) -> Result<String, ValidationFailure> {
        let fail = { (message: String) in
            Result<String, ValidationFailure>.failure(ValidationFailure([Diagnostic(file: path, line: 1, column: 1, message: message)]))
        }
        switch InputFile.read(path, maxBytes: maxBytes, named: named) {
        case .success(let bytes): return decode(Data(bytes), file: path)
        case .failure(.tooLarge): return fail("file is larger than 1 MiB; an experiment or lab file is far smaller")
        case .failure(.unreadable): return fail("cannot read file")
        case .failure(let p): return fail("\(p)")
        }
    }

    /// UTF-8 text, or where the first byte that is not UTF-8 is.
    static func decode(_ data: Data, file: String) -> Result<String, ValidationFailure> {
        let bytes = [UInt8](data)
        if let bad = UTF8Check.firstInvalid(bytes) {
            let (line, column) = position(of: bad, in: bytes)
            return .failure(
                ValidationFailure([
                    Diagnostic(file: file, line: line, column: column, message: "file is not UTF-8 text: byte \(bad + 1) is not")
                ]))
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// The node tree of `text` (nil when it is empty), or every problem that stops it.
    static func compose(_ text: String, file: String) -> Result<Node?, ValidationFailure> {
        if file.hasSuffix(".json"), let (offset, message) = JSONSyntax.check(Array(text.utf8)) {
            let (line, column) = position(of: offset, in: Array(text.utf8))
            return .failure(ValidationFailure([Diagnostic(file: file, line: line, column: column, message: "syntax error: \(message)")]))
        }
        let scan = AliasScan.scan(text)
        if scan.aliases > 0, let key = scan.complexKey {
            return .failure(
                ValidationFailure([
                    Diagnostic(
                        file: file, line: key.line, column: key.column,
                        message:
                            "in a file that uses aliases, every mapping key must be a plain word: not an alias, a '? ' key or a list or mapping"
                    )
                ]))
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, .basic)
        } catch let e as YamlError {
            return .failure(ValidationFailure([ExperimentLoader.syntaxDiagnostic(e, file: file)]))
        } catch {
            return .failure(ValidationFailure([Diagnostic(file: file, line: 1, column: 1, message: "syntax error: \(error)")]))
        }
        if let root, scan.aliases > 0, let over = exceeds(root) {
            let at = scan.firstAlias ?? (1, 1)
            return .failure(
                ValidationFailure([
                    Diagnostic(
                        file: file, line: at.line, column: at.column,
                        message: "aliases expand this file to more than \(over); write the values out or use fewer aliases")
                ]))
        }
        return .success(root)
    }

    /// What the tree, aliases expanded, holds more of than its budgets allow — values
    /// (`maxExpandedNodes`) or bytes of text (`maxExpandedBytes`) — or nil when it fits. Walked
    /// without recursion, and only as far as the budgets.
    static func exceeds(_ root: Node) -> String? {
        var stack = [root]
        var count = 0
        var bytes = 0
        while let node = stack.popLast() {
            count += 1
            if count > maxExpandedNodes { return "\(maxExpandedNodes) values" }
            switch node {
            case .mapping(let m):
                for (k, v) in m {
                    stack.append(k)
                    stack.append(v)
                }
            case .sequence(let s): stack.append(contentsOf: s)
            case .scalar(let s):
                bytes += s.string.utf8.count
                if bytes > maxExpandedBytes { return "\(maxExpandedBytes >> 20) MiB of text" }
            case .alias: break
            }
        }
        return nil
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func position(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        var line = 1
        var column = 1
        for b in bytes[..<min(offset, bytes.count)] {
            if b == 10 {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}

/// Where UTF-8 breaks.
enum UTF8Check {
    /// The offset of the first byte that does not belong to a well-formed UTF-8 sequence.
    static func firstInvalid(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            let c = b[i]
            let (length, low, high): (Int, UInt8, UInt8)
            switch c {
            case 0x00...0x7F: (length, low, high) = (1, 0, 0)
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            default: return i
            }
            guard i + length <= b.count else { return i }
            if length > 1 {
                guard (low...high).contains(b[i + 1]) else { return i }
                for k in 2..<max(2, length) where b[i + k] & 0xC0 != 0x80 { return i }
            }
            i += length
        }
        return nil
    }
}
