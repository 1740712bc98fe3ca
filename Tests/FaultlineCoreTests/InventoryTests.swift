import Testing

@testable import FaultlineCore

@Suite("Ansible inventories")
struct InventoryTests {
    @Test("INI: groups, children, group and host variables, ungrouped hosts")
    func ini() throws {
        let text = """
            # a comment
            lonely ansible_host=198.18.9.30

            [db]
            db1 ansible_host=198.18.9.11 ansible_user=admin ansible_port=2222
            db2 ansible_host=198.18.9.12 ansible_become=true

            [web]
            web1 ansible_host="198.18.9.21"

            [east:children]
            db
            web

            [db:vars]
            ansible_ssh_private_key_file=keys/db
            """
        let inv = try Inventory.parse(text, file: "hosts.ini").get()
        #expect(inv.order == ["lonely", "db1", "db2", "web1"])
        #expect(inv.groups["db"] == ["db1", "db2"] && inv.groups["east"] == ["db1", "db2", "web1"])
        #expect(inv.groups["all"]?.count == 4 && inv.groups["ungrouped"] == ["lonely"])
        let db1 = try #require(inv.hosts["db1"])
        #expect(db1.host == "198.18.9.11" && db1.user == "admin" && db1.port == 2222 && db1.identity == "keys/db")
        #expect(inv.hosts["db2"]?.become == .sudo && inv.hosts["web1"]?.host == "198.18.9.21" && inv.hosts["web1"]?.identity == nil)
    }

    @Test("YAML and ansible-inventory --list JSON give the same hosts and groups")
    func structured() throws {
        let yaml = """
            all:
              hosts:
                lonely: {ansible_host: 198.18.9.30}
              children:
                db:
                  hosts:
                    db1: {ansible_host: 198.18.9.11, ansible_user: admin}
                  vars: {ansible_port: 2222}
            """
        let json = """
            {"_meta": {"hostvars": {"lonely": {"ansible_host": "198.18.9.30"},
                                    "db1": {"ansible_host": "198.18.9.11", "ansible_user": "admin", "ansible_port": 2222}}},
             "all": {"children": ["db", "ungrouped"]},
             "db": {"hosts": ["db1"]},
             "ungrouped": {"hosts": ["lonely"]}}
            """
        for (text, file) in [(yaml, "inv.yaml"), (json, "inv.json")] {
            let inv = try Inventory.parse(text, file: file).get()
            #expect(Set(inv.order) == ["lonely", "db1"], "\(file)")
            #expect(inv.groups["db"] == ["db1"], "\(file)")
            #expect(inv.hosts["db1"] == SSHTarget(user: "admin", host: "198.18.9.11", port: 2222), "\(file)")
        }
    }

    @Test("what an inventory may not say: ranges, bad ports, addresses ssh would read as options; the line is named")
    func refused() {
        let cases: [(String, String)] = [
            ("[web]\nweb[01:10] ansible_host=x\n", "line 2"), ("h ansible_port=0\n", "not a port"),
            ("h ansible_host=-oProxyCommand=x\n", "not an address"), ("[web\n", "line 1"), ("[web:hosts]\n", "not :vars or :children"),
        ]
        for (text, expected) in cases {
            guard case .failure(let p) = Inventory.parse(text, file: "i.ini") else {
                Issue.record("accepted: \(text)")
                continue
            }
            #expect("\(p.line.map { "line \($0): " } ?? "")\(p.message)".contains(expected), "\(p)")
        }
    }
}
