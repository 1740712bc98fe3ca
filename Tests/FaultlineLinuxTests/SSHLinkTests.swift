import FaultlineCore
import Testing

@testable import FaultlineLinux

@Suite("ssh command lines")
struct SSHLinkTests {
    @Test("a remote command is one POSIX-quoted line: spaces, quotes and \\$ reach the host as written")
    func quoting() {
        let link = SSHLink(target: SSHTarget(user: "admin", host: "db1", port: 2222), controlPath: "/run/x/db1")
        let argv = link.command(["/bin/sh", "-c", "echo \"$1\" 'it''s' ; rm -rf /", "sh", ""])
        #expect(argv.first == "ssh" && argv.contains("ControlPath=/run/x/db1") && argv.contains("StrictHostKeyChecking=yes"))
        #expect(Array(argv.suffix(3).prefix(2)) == ["admin@db1", "--"])
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
        #expect(argv.suffix(3).first == "db1")
    }

    @Test("addresses: user, host and port; anything ssh would read as an option or a shell word is refused")
    func parse() {
        #expect(SSHTarget.parse("admin@db1.example.com:22") == SSHTarget(user: "admin", host: "db1.example.com", port: 22))
        #expect(SSHTarget.parse("198.18.9.11") == SSHTarget(host: "198.18.9.11"))
        for bad in ["-oProxyCommand=x", "a b", "db1:0", "db1:99999", "@db1", "db1;rm", "u@-x", ""] {
            #expect(SSHTarget.parse(bad) == nil, "\(bad)")
        }
    }
}
