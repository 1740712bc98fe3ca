import FaultlineCore
import FaultlineTestSupport
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

@Suite("ssh command lines")
struct SSHLinkTests {
    @Test("a remote command is one POSIX-quoted line: spaces, quotes and \\$ reach the host as written")
    func quoting() {
        let link = SSHLink(target: SSHTarget(user: "admin", host: "db1", port: 2222), controlPath: "/run/x/db1")
        let argv = link.command(["/bin/sh", "-c", "echo \"$1\" 'it''s' ; rm -rf /", "sh", ""])
        #expect(argv.first == "ssh" && argv.contains("ControlPath=/run/x/db1") && argv.contains("StrictHostKeyChecking=yes"))
        #expect(Array(argv.suffix(3).prefix(2)) == ["--", "admin@db1"])
        #expect(argv.last == #"/bin/sh -c 'echo "$1" '\''it'\'''\''s'\'' ; rm -rf /' sh ''"#, "\(argv.last ?? "")")
        #expect(argv.contains("-p") && argv.contains("2222"))
    }

    @Test("become: sudo runs the command through sudo -n; accept-new and identity reach ssh's options")
    func options() {
        var t = SSHTarget(host: "db1", identity: "/keys/id", knownHosts: "/keys/kh", hostKeys: .acceptNew, become: .sudo)
        t.user = nil
        let argv = SSHLink(target: t, controlPath: "/c").command(["true"])
        #expect(argv.last == "sudo -n -- true")
        #expect(argv.contains("StrictHostKeyChecking=accept-new") && argv.contains("UserKnownHostsFile=/keys/kh"))
        #expect(argv.contains("/keys/id") && argv.contains("IdentitiesOnly=yes") && argv.contains("BatchMode=yes"))
        #expect(Array(argv.suffix(3).prefix(2)) == ["--", "db1"])
    }

    @Test("addresses: user, host and port; anything ssh would read as an option or a shell word is refused")
    func parse() {
        #expect(SSHTarget.parse("admin@db1.example.com:22") == SSHTarget(user: "admin", host: "db1.example.com", port: 22))
        #expect(SSHTarget.parse("198.18.9.11") == SSHTarget(host: "198.18.9.11"))
        for bad in ["-oProxyCommand=x", "a b", "db1:0", "db1:99999", "@db1", "db1;rm", "u@-x", ""] {
            #expect(SSHTarget.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("a destination that would be an option stays a destination: ssh is run as built and runs no ProxyCommand")
    func optionInDestination() throws {
        // What an inventory with `ansible_user=-oProxyCommand=…` produced before the fields were
        // checked: built directly here (the inventory reader now refuses it), and run.
        let marker = "/tmp/faultline-ssh-marker-\(getpid())"
        unlink(marker)
        defer { unlink(marker) }
        // ProxyCommand runs through a shell: the "#" comments out the "@127.0.0.1" that follows.
        let hostile = SSHTarget(user: "-oProxyCommand=touch \(marker) #", host: "127.0.0.1", port: 1)
        let argv = SSHLink(target: hostile, controlPath: "/nonexistent/x").command(["true"])
        let dash = try #require(argv.firstIndex(of: "--"))
        #expect(argv[dash + 1] == hostile.destination && argv.count == dash + 3)
        _ = Spawner.run(.argv(argv), timeout: 10_000_000_000)
        #expect(access(marker, F_OK) != 0, "ssh ran the ProxyCommand")
    }

    @Test("the agent's first line: start, absent with the host's decompressors, refused with why; anything else is not one")
    func startLines() {
        typealias L = SSHAgentInstall.StartLine
        #expect(L("faultline-agent start") == .start)
        #expect(L("faultline-agent absent") == .absent([]))
        #expect(L("faultline-agent absent zstd gzip") == .absent(["zstd", "gzip"]))
        #expect(L("faultline-agent refused: /run/fl/agent/x: sha256 differs") == .refused("/run/fl/agent/x: sha256 differs"))
        for other in ["", "{\"id\":1}", "faultline-agent", "faultline-agent started", "faultline-agent absentzstd", "Welcome!"] {
            #expect(L(other) == nil, "\(other)")
        }
    }

    @Test("the hosts' sha256: openssl where it is, sha256sum where not, the same hex either way")
    func shaFallback() throws {
        let dir = try temporaryDirectory()
        defer { _ = Spawner.run(.argv(["rm", "-rf", dir]), timeout: 5_000_000_000) }
        let file = "\(dir)/f"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("faultline\n".utf8)))
        // A PATH with sha256sum (and what the pipe needs) but no openssl.
        let bin = "\(dir)/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(bin)/sha256sum", withDestinationPath: "/usr/bin/sha256sum")
        let sha = { (path: String) in
            Spawner.run(
                .argv(["/usr/bin/env", "PATH=\(path)", "/bin/sh", "-c", "\(SSHAgentInstall.shaFunction)\nsha \"$1\"", "sh", file]),
                timeout: 5_000_000_000
            )
            .output
        }
        let reference = Spawner.run(.argv(["sha256sum", file]), timeout: 5_000_000_000).output.split(separator: " ").first.map(String.init)
        #expect(reference?.count == 64, "\(String(describing: reference))")
        #expect(sha("/usr/bin:/bin") == (reference ?? "") + "\n", "with openssl")
        #expect(sha(bin) == (reference ?? "") + "\n", "sha256sum alone")
        #expect(sha("\(dir)/empty") == "", "neither: nothing, which no hash equals")
    }
}
