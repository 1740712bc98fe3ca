/// One inventory host's variables turned into an ssh host, each field checked as the
/// experiment's own `ssh:` is: an inventory generated from cloud tags must not be able to hand
/// ssh an option (`ansible_user=-oProxyCommand=…`) or a shell a command.
enum InventoryHost {
    static func target(
        _ name: String, vars: [String: InventoryValue], at: Position, fail: (Position, String) -> Void
    ) -> SSHTarget? {
        var ok = true
        func refuse(_ v: InventoryValue?, _ message: String) {
            fail(v?.at ?? at, "host \(shown: name): \(message)")
            ok = false
        }
        let host = vars["ansible_host"] ?? vars["ansible_ssh_host"]
        let address = host?.text ?? name
        if !SSHTarget.isSafeWord(Substring(address)) {
            refuse(
                host,
                "'ansible_host' must be an address ssh would take (no leading '-', space, ':', '@', quote or shell character), got \(shown: address)"
            )
        }
        var t = SSHTarget(host: address)
        if let u = vars["ansible_user"] ?? vars["ansible_ssh_user"] {
            if SSHTarget.isSafeWord(Substring(u.text)) {
                t.user = u.text
            } else {
                refuse(
                    u,
                    "'ansible_user' must be a user name ssh would take (no leading '-', space, ':', '@', quote or shell character), got \(shown: u.text)"
                )
            }
        }
        if let p = vars["ansible_port"] ?? vars["ansible_ssh_port"] {
            if let n = Int(p.text), (1...65_535).contains(n) {
                t.port = n
            } else {
                refuse(p, "'ansible_port' must be a port from 1 to 65535, got \(shown: p.text)")
            }
        }
        if let k = vars["ansible_ssh_private_key_file"] ?? vars["ansible_private_key_file"] {
            if k.text.isEmpty || k.text.hasPrefix("-") || k.text.unicodeScalars.contains(where: ShownText.isControl) {
                refuse(
                    k,
                    "'ansible_ssh_private_key_file' must be a path (not empty, no leading '-', no control character), got \(shown: k.text)")
            } else {
                t.identity = k.text
            }
        }
        if let b = vars["ansible_become"] {
            switch b.text.lowercased() {
            case "true", "yes", "1", "on": t.become = .sudo
            case "false", "no", "0", "off": t.become = .none
            default: refuse(b, "'ansible_become' must be true or false, got \(shown: b.text)")
            }
        }
        return ok ? t : nil
    }
}
