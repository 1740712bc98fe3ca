import FaultlineCore
import FaultlineTestSupport
import Foundation
import Testing

/// Every file of the malformed and hostile corpus, and a few generated ones too large to keep,
/// through the built binary: refused with exit 64, every line of output a FILE:LINE:COL
/// diagnostic, within 1 s of CPU time and 100 MiB.
@Suite("hostile input through the binary")
struct HostileInputTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../FaultlineCoreTests/Fixtures/malformed").standardized.path

    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? [])
        .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted()

    /// `faultline validate FILES` in `dir`: its usage and what it printed on stderr.
    func validate(_ files: [String], in dir: String) throws -> (Usage, [String]) {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let usage = try Spawned.measure(
            [FaultlineBinary.path, "validate"] + files, in: dir, stdout: "\(scratch)/out", stderr: "\(scratch)/err")
        let err = (try? String(contentsOfFile: "\(scratch)/err", encoding: .utf8)) ?? ""
        return (usage, err.split(separator: "\n").map(String.init))
    }

    /// `cpu`: seconds of CPU the debug binary may spend. 1 s for a corpus file; the generated
    /// 10,000-fault file costs 0.8–1.1 s in a debug build (linear, ~80 µs a fault) and gets 3 s:
    /// still far below what one quadratic pass over its faults would cost.
    func checkRefused(_ usage: Usage, _ lines: [String], _ what: String, cpu: Double = 1) {
        #expect(usage.status == ExitCode.badInput, "\(what): exit \(usage.status)")
        #expect(!lines.isEmpty, "\(what): no diagnostic")
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 3)
            let positioned = parts.count == 4 && Int(parts[1]) != nil && Int(parts[2]) != nil
            #expect(positioned, "\(what): not FILE:LINE:COL: \(line.prefix(200))")
        }
        #expect(usage.cpuSeconds < cpu, "\(what): \(usage.cpuSeconds) s of CPU")
        #expect(usage.maxRSSKiB < 100 * 1024, "\(what): \(usage.maxRSSKiB) KiB")
    }

    @Test("the corpus has at least 150 files")
    func size() { #expect(Self.files.count >= 150) }

    @Test("each corpus file is refused with exit 64, FILE:LINE:COL lines, under 1 s and 100 MiB", arguments: files)
    func corpusFile(_ name: String) throws {
        let (usage, lines) = try validate([name], in: Self.corpus)
        checkRefused(usage, lines, name)
    }

    @Test("one file's failure hides no other file's result: a multi-file validate reports each")
    func manyFiles() throws {
        let some = ["53-duration-near-int64.yaml", "85-alias-billion-laughs.yaml", "86-alias-as-key.yaml", "108-kill-pid-1.yaml"]
        let (usage, lines) = try validate(some, in: Self.corpus)
        checkRefused(usage, lines, "four files")
        for f in some { #expect(lines.contains { $0.hasPrefix(f + ":") }, "nothing reported for \(f)") }
    }

    @Test("generated: 3,000 identical faults, 10,000 distinct ones, a file over 1 MiB, a FIFO")
    func generated() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let head = "version: 1\ntitle: t\n"
        var identical = head + "duration: 10s\nfaults:\n"
        for i in 0..<3_000 { identical += "  - {name: f\(i), at: 1s, kill: {process: x}}\n" }
        try identical.write(toFile: "\(dir)/identical.yaml", atomically: true, encoding: .utf8)
        // Distinct and valid but for one late fault, so that the whole file is read and checked.
        var distinct = head + "duration: 100000s\nfaults:\n"
        for i in 0..<10_000 { distinct += "  - {name: f\(i), at: \(i)s, kill: {process: x\(i)}}\n" }
        distinct += "  - {name: late, at: 100001s, kill: {process: y}}\n"
        try distinct.write(toFile: "\(dir)/distinct.yaml", atomically: true, encoding: .utf8)
        try (head + "duration: 1s\ndescription: '" + String(repeating: "a", count: 1 << 20) + "'\n")
            .write(toFile: "\(dir)/big.yaml", atomically: true, encoding: .utf8)
        #expect(mkfifo("\(dir)/fifo.yaml", 0o600) == 0)
        let (u1, l1) = try validate(["identical.yaml"], in: dir)
        checkRefused(u1, l1, "3,000 identical faults")
        #expect(l1.count == 2_999, "one message per overlapping fault, not one per pair")
        let (u2, l2) = try validate(["distinct.yaml"], in: dir)
        checkRefused(u2, l2, "10,000 distinct faults", cpu: 3)
        #expect(l2 == ["distinct.yaml:10005:22: 'faults[10000].at' 27h46m41s is not before the experiment's 'duration' 27h46m40s"])
        let (u3, l3) = try validate(["big.yaml"], in: dir)
        checkRefused(u3, l3, "over 1 MiB")
        #expect(l3 == ["big.yaml:1:1: file is larger than 1 MiB; an experiment or lab file is far smaller"])
        let (u4, l4) = try validate(["fifo.yaml"], in: dir)
        checkRefused(u4, l4, "a FIFO")
        #expect(l4 == ["fifo.yaml:1:1: cannot read file: not a regular file"])
    }

    /// `faultline ARGS` in `dir`: its usage and its stdout and stderr lines.
    func binary(_ args: [String], in dir: String) throws -> (Usage, [String]) {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let usage = try Spawned.measure([FaultlineBinary.path] + args, in: dir, stdout: "\(scratch)/out", stderr: "\(scratch)/err")
        let text = ["out", "err"].map { (try? String(contentsOfFile: "\(scratch)/\($0)", encoding: .utf8)) ?? "" }.joined()
        return (usage, text.split(separator: "\n").map(String.init))
    }

    @Test(
        "validate and plan of inputs up to 1 MiB that cost too much before: each within 1 s of CPU and 200 MiB",
        arguments: [
            "alias-bytes", "aliases-one-line", "inventory-laughs", "inventory-nested-groups", "inventory-80000-hosts", "inventory-30mb",
            "inventory-10000-hosts",
        ])
    func costlyInputs(_ name: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let head = "version: 1\ntitle: t\nduration: 10s\n"
        var experiment = head + "hosts: {from: inventory}\n"
        var inventory = ""
        var valid = false
        switch name {
        case "alias-bytes":
            // One 5 KB scalar aliased 130,000 times: 650 MB of text to every reader.
            experiment =
                head + "x-a: &a '\(String(repeating: "s", count: 5_000))'\ntags: [" + String(repeating: "*a, ", count: 130_000) + "]\n"
        case "aliases-one-line":
            experiment = head + "x-a: &a x\ntags: [" + String(repeating: "*a, ", count: 40_000) + "]\n"
            valid = true
        case "inventory-laughs":
            var y = "x0: &a0 [a, a, a, a, a, a, a, a, a, a]\n"
            for i in 1..<9 { y += "x\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
            inventory = y + "all: {hosts: {h1: {ansible_host: 127.0.0.1, x: *a8}}}\n"
            experiment = head + "hosts: {from: inventory.yaml}\n"
        case "inventory-nested-groups":
            for i in 0..<8_000 { inventory += "[g\(i)]\nh\(i)\n[g\(i):children]\ng\(i + 1)\n" }
        case "inventory-80000-hosts":
            inventory = "[all]\n" + (0..<80_000).map { "h\($0)" }.joined(separator: "\n") + "\n"
        case "inventory-30mb":
            inventory = String(repeating: "# padding\n", count: 3_000_000)
        default:
            inventory =
                "[db]\n" + (0..<10_000).map { "h\($0) ansible_host=198.18.\($0 / 250).\($0 % 250 + 1)" }.joined(separator: "\n") + "\n"
            experiment += "faults: [{at: 1s, kill: {host: group:db, process: redis-server}}]\n"
            valid = true
        }
        try experiment.write(toFile: "\(dir)/e.yaml", atomically: true, encoding: .utf8)
        if !inventory.isEmpty {
            let file = name == "inventory-laughs" ? "inventory.yaml" : "inventory"
            try inventory.write(toFile: "\(dir)/\(file)", atomically: true, encoding: .utf8)
        }
        for command in ["validate", "plan"] {
            let (usage, lines) = try binary([command, "e.yaml"], in: dir)
            let what = "\(name): \(command)"
            #expect(usage.status == (valid ? 0 : ExitCode.badInput), "\(what): exit \(usage.status): \(lines.prefix(3))")
            #expect(usage.cpuSeconds < 1, "\(what): \(usage.cpuSeconds) s of CPU")
            #expect(usage.maxRSSKiB < 200 * 1024, "\(what): \(usage.maxRSSKiB) KiB")
            if !valid { #expect(lines.allSatisfy { $0.split(separator: ":").count >= 4 }, "\(what): \(lines.prefix(3))") }
        }
    }
}
