import Testing

@testable import FaultlineCore

@Suite("lab loader")
struct LabLoaderTests {
    func load(_ text: String) throws -> LabSpec { try LabLoader.load(text: text, file: "lab.yaml", dataRoot: "/data") }

    func errors(_ text: String) -> [String] {
        do {
            _ = try load(text)
            return []
        } catch let f as ValidationFailure {
            return f.diagnostics.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test("templates are filled per host, names derive from the lab")
    func templates() throws {
        let lab = try load(
            """
            lab: rs
            subnet: 198.18.1.0/24
            hosts:
              n1:
                address: 198.18.1.11
                files: {r.conf: "replicaof {ip:n2} 6379\\ndir {dir}\\n"}
                services:
                  - name: redis
                    argv: [redis-server, "{dir}/r.conf", --bind, "{address}"]
                    ready: {tcp: "{address}:6379"}
              n2: {address: 198.18.1.12}
            """)
        #expect(lab.bridgeAddress.description == "198.18.1.254")
        #expect(lab.bridgeName == "fl-rs-br")
        #expect(lab.namespaceName(lab.hosts[0]) == "fl-rs-n1")
        #expect(lab.vethName(index: 1) == "fl-rs-2")
        #expect(lab.hosts[0].files["r.conf"] == "replicaof 198.18.1.12 6379\ndir /data/rs/n1\n")
        #expect(lab.hosts[0].services[0].argv == ["redis-server", "/data/rs/n1/r.conf", "--bind", "198.18.1.11"])
        #expect(lab.hosts[0].services[0].ready?.kind == .tcp(.init(host: "198.18.1.11", port: 6379)))
        #expect(lab.hosts[0].privateDirs == ["/run"])
    }

    @Test("addresses must be in the subnet, unique, and not the bridge's")
    func addresses() {
        #expect(
            errors(
                """
                lab: x
                subnet: 198.18.1.0/24
                hosts:
                  a: {address: 198.18.2.1}
                  b: {address: 198.18.1.254}
                  c: {address: 198.18.1.255}
                """) == [
                    "lab.yaml:4:16: 'hosts.a.address' must be a host address inside 198.18.1.0/24, got '198.18.2.1'",
                    "lab.yaml:5:16: address 198.18.1.254 of host 'b' is already used by the bridge",
                    "lab.yaml:6:16: 'hosts.c.address' must be a host address inside 198.18.1.0/24, got '198.18.1.255'",
                ])
    }

    @Test("only the benchmarking range; names short enough for interface names")
    func rangesAndNames() {
        #expect(
            errors("lab: toolongname\nsubnet: 192.168.1.0/24\nhosts: {node-1: {address: 198.18.1.1}}\n") == [
                "lab.yaml:1:6: 'lab' must be 1 to 8 lowercase letters or digits starting with a letter (it prefixes interface names), got 'toolongname'",
                "lab.yaml:2:9: 'subnet' must be a network from /16 to /29 inside 198.18.0.0/15 (the benchmarking range), like '198.18.1.0/24', got '192.168.1.0/24'",
                "lab.yaml:3:9: host name 'node-1' must be 1 to 6 lowercase letters or digits starting with a letter (namespace names derive from it)",
            ])
    }

    @Test("subnet arithmetic")
    func subnets() throws {
        let s = try #require(IPv4Subnet("198.18.4.0/22"))
        #expect(s.contains(try #require(IPv4Address("198.18.7.200"))))
        #expect(!s.contains(try #require(IPv4Address("198.18.8.1"))))
        #expect(s.isInside(.benchmarking))
        #expect(IPv4Subnet("198.18.4.1/22") == nil)
        #expect(IPv4Address("1.2.3") == nil && IPv4Address("1.2.3.256") == nil)
        for bad in ["", "1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.4.5", "1.2.3.1000", "+1.2.3.4", "1.2.3.a", "1.2.3.4 "] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
        #expect(IPv4Address("255.0.10.7")?.value == 0xFF00_0A07)
        #expect(IPv4Address("0.0.0.0")?.description == "0.0.0.0")
    }

    @Test("templates fill in one pass, left to right: {ip:{host}} is the same on every run")
    func templateOrder() throws {
        for _ in 0..<20 {
            let lab = try load(
                """
                lab: t
                subnet: 198.18.1.0/24
                hosts:
                  n1: {address: 198.18.1.11, files: {a: "{ip:{host}} {ip:n2} {nope} {dir}"}}
                  n2: {address: 198.18.1.12}
                """)
            #expect(lab.hosts[0].files["a"] == "{ip:n1} 198.18.1.12 {nope} /data/t/n1")
        }
    }

    @Test("a private directory over the lab's own data directory is refused with the fix")
    func privateOverData() {
        do {
            _ = try LabLoader.load(
                text: "lab: t\nsubnet: 198.18.1.0/24\nhosts: {n1: {address: 198.18.1.11, private: [/run, /tmp]}}\n", file: "lab.yaml",
                dataRoot: "/tmp/labs")
            Issue.record("a private /tmp over /tmp/labs was accepted")
        } catch let f as ValidationFailure {
            #expect(
                f.diagnostics.map(\.description) == [
                    "lab.yaml:3:45: host 'n1' makes /tmp private, but its data directory /tmp/labs/t/n1 is under /tmp; use a --lab-dir outside /tmp"
                ])
        } catch {
            Issue.record("\(error)")
        }
    }
}
