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

    @Test("what an inventory may not say: ranges, bad ports, addresses and users ssh would read as options; each at its line and column")
    func refused() {
        let cases: [(String, String)] = [
            ("[web]\nweb[01:10] ansible_host=x\n", "i.ini:2:1: host ranges ('web[01:10]') are not supported"),
            ("h ansible_port=0\n", "i.ini:1:3: host 'h': 'ansible_port' must be a port from 1 to 65535, got '0'"),
            ("h ansible_host=-oProxyCommand=x\n", "i.ini:1:3: host 'h': 'ansible_host' must be an address ssh would take"),
            (
                "h1 ansible_host=127.0.0.1 ansible_user=-oProxyCommand=x\n",
                "i.ini:1:27: host 'h1': 'ansible_user' must be a user name ssh would take"
            ),
            ("[all:vars]\nansible_user=a;b\n[g]\nh1\n", "i.ini:2:1: host 'h1': 'ansible_user' must be a user name ssh would take"),
            ("[web\n", "i.ini:1:1: a section must end with ']'"),
            ("[web:hosts]\n", "i.ini:1:1: section '[web:hosts]': ':hosts' is not :vars or :children"),
            ("h ansible_ssh_private_key_file=-x\n", "i.ini:1:3: host 'h': 'ansible_ssh_private_key_file' must be a path"),
            ("h ansible_become=maybe\n", "i.ini:1:3: host 'h': 'ansible_become' must be true or false, got 'maybe'"),
            // Found by the fuzzer: a line of empty quotes trapped.
            ("[db]\n \"\"\n", "i.ini:2:2: a line with nothing but empty quotes"),
            ("[db:children]\n''\n", "i.ini:2:1: a line with nothing but empty quotes"),
        ]
        for (text, expected) in cases {
            guard case .failure(let f) = Inventory.parse(text, file: "i.ini") else {
                Issue.record("accepted: \(text)")
                continue
            }
            #expect(f.diagnostics.contains { $0.description.hasPrefix(expected) }, "\(f)")
        }
    }

    @Test("a YAML inventory's user from a group's vars, refused at the line that sets it")
    func yamlUser() {
        let text = "all:\n  vars:\n    ansible_user: \"-oProxyCommand=touch /tmp/x\"\n  hosts:\n    h1: {ansible_host: 127.0.0.1}\n"
        guard case .failure(let f) = Inventory.parse(text, file: "i.yaml") else {
            Issue.record("accepted")
            return
        }
        #expect(
            f.diagnostics.map(\.description).first?.hasPrefix("i.yaml:3:19: host 'h1': 'ansible_user' must be a user name") == true, "\(f)")
    }
}
