#!/usr/bin/env python3
"""Writes the hostile part of the malformed corpus (malformed/53-… and malformed/labs/).

Each file is one way an experiment or lab file can be broken or hostile (issue 12): values that
overflow or are absurd, aliases that expand without end, entries that vanish, targets that must
be refused, text that would forge output, files that are not ours to show. Their expected
diagnostics are in malformed-expected.txt, each line read and checked by hand. Run from this
folder to write the files again; it only writes, it never reads the expectations.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "malformed")
LABS = os.path.join(OUT, "labs")
os.makedirs(LABS, exist_ok=True)

HEAD = "version: 1\ntitle: t\nduration: 10s\n"
cases = []


def case(name, text, lab=False):
    cases.append((os.path.join(LABS if lab else OUT, name), text))


def head(rest, duration="10s"):
    return f"version: 1\ntitle: t\nduration: {duration}\n" + rest


def laughs(levels, use):
    s = "x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, levels):
        s += f"x-a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]\n"
    return s + use


# --- values: overflow, bounds, absurd rates (crashed or hung before) ---
case("53-duration-near-int64.yaml", head("faults: [{at: 2554999h, duration: 2000h, pause: {process: x}}]\n", "2555000h"))
case("54-lease-huge.yaml", head("settings: {lease_renew: 2000000h, lease_expiry: 2500000h}\n"))
case("55-lease-renew-over-bound.yaml", head("settings: {lease_renew: 2m, lease_expiry: 5m}\n"))
case("56-confirm-timeout-over-bound.yaml", head("settings: {confirm_timeout: 11m}\n"))
case("57-settle-timeout-over-bound.yaml", head("settings: {settle_timeout: 2h}\n"))
case("58-duration-too-large.yaml", head("", "99999999999h"))
case("59-duration-negative.yaml", head("", "-1s"))
case("60-duration-repeated-unit.yaml", head("", "1s1s"))
case("61-duration-units-out-of-order.yaml", head("", "30s1m"))
case("62-fault-at-negative.yaml", head("faults: [{at: -5s, kill: {process: x}}]\n"))
case("63-probe-interval-over-bound.yaml", head("probes: [{tcp: '127.0.0.1:1', interval: 2h}]\n"))
case("64-probe-timeout-over-bound.yaml", head("steady_state: [{http: {url: 'http://127.0.0.1/', timeout: 3h}}]\n"))
case("65-action-timeout-over-bound.yaml", head("actions: [{at: 1s, command: ['true'], timeout: 2h}]\n"))
case("66-workload-timeout-over-bound.yaml", head("workload: {rate: 10/s, timeout: 2h, command: {write: ['true']}}\n"))
case("67-converge-within-over-bound.yaml", head("workload: {rate: 10/s, converge_within: 5h, command: {write: ['true']}}\n"))
case("68-rate-huge.yaml", head("workload: {rate: '1e308/1ns', command: {write: ['true']}}\n"))
case("69-rate-tiny.yaml", head("workload: {rate: '1e-300/s', command: {write: ['true']}}\n"))
case("70-rate-too-fast.yaml", head("workload: {rate: '2000000000/s', command: {write: ['true']}}\n"))
case("71-rate-too-many-operations.yaml", head("workload: {rate: 100000/s, command: {write: ['true']}}\n", "200s"))
case("72-rate-zero.yaml", head("workload: {rate: 0/s, command: {write: ['true']}}\n"))
case("73-rate-negative.yaml", head("workload: {rate: -5/s, command: {write: ['true']}}\n"))
case("74-rate-nan.yaml", head("workload: {rate: nan/s, command: {write: ['true']}}\n"))
case("75-rate-inf.yaml", head("workload: {rate: inf/s, command: {write: ['true']}}\n"))
case("76-count-too-large.yaml", head("faults: [{at: 1s, kill: {process: x, count: 10001}}]\n"))
case("77-pid-too-large.yaml", head("faults: [{at: 1s, kill: {process: {pid: 99999999}}}]\n"))
case("78-port-zero.yaml", head("faults: [{at: 1s, kill: {process: {port: 0}}}]\n"))
case("79-streak-zero.yaml", head("probes: [{tcp: '127.0.0.1:1'}]\nfaults: [{at: 1s, kill: {process: x}}]\nexpect: {recovery_time: {max: 1s, streak: 0}}\n"))
case("80-concurrency-zero.yaml", head("workload: {rate: 10/s, concurrency: 0, command: {write: ['true']}}\n"))
case("81-version-huge.yaml", "version: 99999999999999999999\ntitle: t\nduration: 1s\n")
case("82-seed-negative.yaml", "lab: labs/three.yaml\n" + head("faults: [{at: 1s, partition: {shape: halves, seed: -1}}]\n"))
case("83-duration-words.yaml", head("", "'5 seconds'"))
case("84-duration-exponent.yaml", head("", "1e999s"))
# --- aliases: expansion without end, aliases as keys (a hang before) ---
case("85-alias-billion-laughs.yaml", head(laughs(10, "tags: *a9\n")))
case("86-alias-as-key.yaml", head(laughs(8, "*a7 : 1\n")))
case("87-alias-explicit-key.yaml", head(laughs(8, "? *a7\n: 1\n")))
case("88-alias-in-flow-key.yaml", head(laughs(8, "x-b: {[*a7]: 1}\n")))
case("89-deep-nesting.yaml", head("tags: " + "[" * 2000 + "]" * 2000 + "\n"))
case("90-alias-undefined.yaml", head("tags: *nowhere\n"))
case("91-identical-faults.yaml", head("faults:\n" + "".join(f"  - {{name: f{i}, at: 1s, kill: {{process: x}}}}\n" for i in range(5))))
case("92-alias-laughs-in-lab.yaml", "lab: labs/laughs.yaml\n" + HEAD)
case("laughs.yaml", "lab: laughs\nsubnet: 198.18.9.0/24\n" + laughs(10, "hosts: {n1: {address: 198.18.9.11, files: {f: *a9}}}\n"), lab=True)
case("93-alias-key-in-lab.yaml", "lab: labs/aliaskey.yaml\n" + HEAD)
case("aliaskey.yaml", "lab: ak\nsubnet: 198.18.9.0/24\nx-h: &h {address: 198.18.9.11}\nhosts:\n  *h : 1\n", lab=True)
case("94-merge-of-a-scalar.yaml", head("faults: [{at: 1s, kill: {<<: 5, process: x}}]\n"))
# --- entries that vanished silently, and indices after a dropped entry ---
case("95-kill-empty-name.yaml", head("faults: [{at: 0s, kill: {process: {name: ''}}}]\n"))
case("96-kill-empty-process.yaml", head("faults: [{at: 0s, kill: {process: ''}}]\n"))
case("97-steady-state-empty-name.yaml", head("steady_state: [{process: {name: ''}}]\n"))
case("98-probe-empty-process.yaml", head("probes: [{process: ''}]\n"))
case("99-empty-pidfile.yaml", head("faults: [{at: 0s, pause: {process: {pidfile: ''}}, duration: 1s}]\n"))
case("100-index-after-dropped-fault.yaml", head("faults:\n  - {at: 0s, kill: {process: {name: ''}}}\n  - {at: 0s, kill: {host: nowhere, process: x}}\n"))
case("101-timing-after-dropped-fault.yaml", head("faults:\n  - {at: 0s, kil: {process: x}}\n  - {at: 20s, kill: {process: y}}\n"))
case("102-names-after-dropped-probe.yaml", head("probes:\n  - {tpc: '127.0.0.1:1'}\n  - {name: p, tcp: '127.0.0.1:1'}\n  - {name: p, tcp: '127.0.0.1:2'}\n"))
case("103-action-after-dropped-action.yaml", head("actions:\n  - {at: 1s}\n  - {at: 11s, command: ['true']}\n"))
case("104-header-value-a-list.yaml", head("steady_state: [{http: {url: 'http://127.0.0.1/', headers: {X-A: [1, 2]}}}]\n"))
case("105-lab-file-content-a-list.yaml", "lab: labs/filelist.yaml\n" + HEAD)
case("filelist.yaml", "lab: fl\nsubnet: 198.18.9.0/24\nhosts: {n1: {address: 198.18.9.11, files: {a.txt: [1, 2]}}}\n", lab=True)
case("106-lab-env-a-mapping.yaml", "lab: labs/envmap.yaml\n" + HEAD)
case("envmap.yaml", "lab: em\nsubnet: 198.18.9.0/24\nhosts: {n1: {address: 198.18.9.11, services: [{name: s, argv: ['true'], env: {A: {b: 1}}}]}}\n", lab=True)
case("107-expectation-after-dropped.yaml", head("probes: [{name: web, tcp: '127.0.0.1:1'}]\nexpect:\n  availability:\n    - {min: lots}\n    - {probe: nope, min: 90%}\n"))
# --- dangerous targets ---
case("108-kill-pid-1.yaml", head("faults: [{at: 0s, kill: {process: {pid: 1}, signal: KILL}}]\n"))
case("109-pause-pid-1.yaml", head("faults: [{at: 0s, duration: 1s, pause: {process: {pid: 1}}}]\n"))
case("110-kill-faultline.yaml", head("faults: [{at: 0s, kill: {process: faultline, all: true}}]\n"))
case("111-kill-everything.yaml", head("faults: [{at: 0s, kill: {process: {cmdline: '.*'}, all: true, signal: KILL}}]\n"))
case("112-pause-everything.yaml", head("faults: [{at: 0s, duration: 1s, pause: {process: {cmdline: '.'}, all: true}}]\n"))
case("113-blast-radius-unknown.yaml", head("faults: [{at: 0s, kill: {process: x, blast_radius: everything}}]\n"))
case("114-kill-faultline-by-name-key.yaml", head("faults: [{at: 0s, kill: {process: {name: faultline}}}]\n"))
case("115-everything-with-count-still-needs-nothing-but-all.yaml", head("faults: [{at: 0s, kill: {process: {cmdline: '^'}, all: true}}]\n"))
# --- output that could be forged, or leak another file ---
case("116-lab-etc-passwd.yaml", "lab: /etc/passwd\n" + HEAD)
case("117-lab-ssh-key.yaml", "lab: /root/.ssh/id_ed25519\n" + HEAD)
case("118-lab-not-a-lab.yaml", "lab: labs/key.yaml\n" + HEAD)
case("key.yaml", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n", lab=True)
case("119-key-forges-a-line.yaml", head('"bad\\n119-key-forges-a-line.yaml:9:9: verdict passed": 1\n'))
case("120-key-ansi-escape.yaml", head('"x\\e[2J\\e[31m": 1\n'))
case("121-host-name-newline.yaml", head('faults: [{at: 0s, kill: {host: "a\\nb:1:1: forged", process: x}}]\n'))
case("122-long-key.yaml", head("k" * 5000 + ": 1\n"))
case("123-long-value.yaml", head("faults: [{at: 0s, kill: {process: x, signal: " + "S" * 3000 + "}}]\n"))
case("124-header-crlf.yaml", head('steady_state: [{http: {url: "http://127.0.0.1/", headers: {X: "a\\r\\nInjected: 1"}}}]\n'))
case("125-header-name-colon.yaml", head('steady_state: [{http: {url: "http://127.0.0.1/", headers: {"X: y": z}}}]\n'))
case("126-header-value-nul.yaml", head('steady_state: [{http: {url: "http://127.0.0.1/", headers: {X: "a\\0b"}}}]\n'))
case("127-lab-key-newline.yaml", "lab: labs/newline.yaml\n" + HEAD)
case("newline.yaml", 'lab: nl\nsubnet: 198.18.9.0/24\n"a\\nnewline.yaml:1:1: forged": 1\nhosts: {n1: {address: 198.18.9.11}}\n', lab=True)
case("128-url-crlf.yaml", head('steady_state: [{http: "http://127.0.0.1/\\r\\nHost: evil"}]\n'))
case("129-title-ansi-unknown-key.yaml", head('descriptionx: "\\e]0;owned\\a"\n'))
# --- lab files: names, confinement, messages ---
case("130-lab-hosts-empty.yaml", "lab: labs/nohosts.yaml\n" + HEAD)
case("nohosts.yaml", "lab: nh\nsubnet: 198.18.9.0/24\nhosts: {}\n", lab=True)
case("131-lab-not-a-mapping.yaml", "lab: labs/list.yaml\n" + HEAD)
case("list.yaml", "[a, b]\n", lab=True)
case("132-lab-log-outside.yaml", "lab: labs/logout.yaml\n" + HEAD)
case("logout.yaml", "lab: lo\nsubnet: 198.18.9.0/24\nhosts: {n1: {address: 198.18.9.11, services: [{name: s, argv: ['true'], log: /etc/cron.d/x}]}}\n", lab=True)
case("133-lab-dir-dotdot.yaml", "lab: labs/dotdot.yaml\n" + HEAD)
case("dotdot.yaml", "lab: dd\nsubnet: 198.18.9.0/24\nhosts: {n1: {address: 198.18.9.11, services: [{name: s, argv: ['true'], dir: '{dir}/../../..'}]}}\n", lab=True)
case("134-lab-name-dotdot.yaml", "lab: labs/badname.yaml\n" + HEAD)
case("badname.yaml", "lab: ../x\nsubnet: 198.18.9.0/24\nhosts: {n1: {address: 198.18.9.11}}\n", lab=True)
case("135-lab-unknown-key.yaml", "lab: labs/unknownkey.yaml\n" + HEAD)
case("unknownkey.yaml", "lab: uk\nsubnet: 198.18.9.0/24\nbridge: x\nhosts: {n1: {address: 198.18.9.11}}\n", lab=True)
case("136-lab-missing.yaml", "lab: labs/none.yaml\n" + HEAD)
case("137-lab-subnet-private-range.yaml", "lab: labs/tenet.yaml\n" + HEAD)
case("tenet.yaml", "lab: tn\nsubnet: 10.0.0.0/24\nhosts: {n1: {address: 10.0.0.11}}\n", lab=True)
case("138-lab-log-private-ok-dir-not.yaml", "lab: labs/logrun.yaml\n" + HEAD)
case("logrun.yaml", "lab: lr\nsubnet: 198.18.9.0/24\nhosts: {n1: {address: 198.18.9.11, services: [{name: s, argv: ['true'], log: /run/s.log, dir: /var/lib}]}}\n", lab=True)
# --- smaller: JSON strictness, UTF-8, messages ---
case("139-json-trailing-comma.json", '{"version": 1, "title": "t", "duration": "1s",}\n')
case("140-json-comment.json", '{"version": 1, # a comment\n "title": "t", "duration": "1s"}\n')
case("141-json-single-quotes.json", "{'version': 1, 'title': 't', 'duration': '1s'}\n")
case("142-json-trailing-content.json", '{"version": 1, "title": "t", "duration": "1s"} {}\n')
case("143-json-unquoted-key.json", '{version: 1}\n')
case("144-json-bad-escape.json", '{"version": 1, "title": "\\q", "duration": "1s"}\n')
case("145-json-raw-newline-in-string.json", '{"version": 1, "title": "a\nb", "duration": "1s"}\n')
case("146-json-leading-zero.json", '{"version": 01, "title": "t", "duration": "1s"}\n')
case("147-json-trailing-comma-in-list.json", '{"version": 1, "title": "t", "duration": "1s", "tags": [1,]}\n')
case("148-json-unclosed.json", '{"version": 1, "title": "t"\n')
cases.append((os.path.join(OUT, "149-invalid-utf8-line-3.yaml"), b"version: 1\ntitle: t\ndescription: caf\xc3\x28\nduration: 1s\n"))
cases.append((os.path.join(OUT, "150-overlong-utf8.yaml"), b"version: 1\ntitle: \xc0\xaf\nduration: 1s\n"))
cases.append((os.path.join(OUT, "151-nul-byte.yaml"), b"version: 1\ntitle: a\x00b\nduration: 1s\n"))
case("152-tab-indentation.yaml", "version: 1\ntitle: t\nduration: 1s\nsettings:\n\tconfirm_timeout: 1s\n")
case("153-homoglyph-key.yaml", "version: 1\nt\u0456tle: t\nduration: 1s\n")
case("154-fault-empty-mapping.yaml", head("faults: [{}]\n"))
case("155-faults-null.yaml", head("faults: null\n"))
case("156-steady-state-a-string.yaml", head("steady_state: web\n"))
case("157-expect-a-list.yaml", head("expect: [availability]\n"))
case("158-recovery-unknown-fault.yaml", head("probes: [{tcp: '127.0.0.1:1'}]\nfaults: [{name: k, at: 1s, kill: {process: x}}]\nexpect: {recovery_time: {max: 1s, fault: kk}}\n"))
case("159-load-balancing-unknown-rejoin.yaml", head("workload: {rate: 10/s, http: {url: 'http://198.18.6.10/', backend_header: X-Backend}}\nfaults: [{name: k, at: 1s, kill: {process: x}}]\nexpect: {load_balancing: {backend: b1, rejoin: restrat, rejoin_within: 1s}}\n"))
case("160-tags-nested.yaml", head("tags: [a, [b]]\n"))
case("161-title-a-mapping.yaml", "version: 1\ntitle: {a: 1}\nduration: 1s\n")
case("162-kill-count-zero.yaml", head("faults: [{at: 0s, kill: {process: x, count: 0}}]\n"))
case("163-argv-with-nul.yaml", head('actions: [{at: 1s, command: ["echo", "a\\0b"]}]\n'))
case("164-workload-url-newline.yaml", head('workload: {rate: 10/s, http: {url: "http://198.18.6.10/\\nx"}}\n'))
case("165-role-resolve-empty.yaml", head("faults: [{at: 1s, kill: {host: {role: primary, resolve: []}, process: x}}]\n"))
case("166-partition-unknown-hosts.yaml", "lab: labs/three.yaml\n" + head("faults: [{at: 1s, partition: {groups: [[n1, zz], [yy, n2]]}}]\n"))
case("three.yaml", "lab: three\nsubnet: 198.18.9.0/24\nhosts: {n1: {address: 198.18.9.11}, n2: {address: 198.18.9.12}, n3: {address: 198.18.9.13}}\n", lab=True)
case("167-x-key-not-top-level.yaml", head("settings: {x-mine: 1}\n"))
case("168-empty-action-command.yaml", head("actions: [{at: 1s, command: {argv: ['']}}]\n"))
case("169-duplicate-host-names-in-yaml.yaml", head("hosts: {web1: {local: {}}, web1: {local: {}}}\n"))
# found by the fuzzer: an alias key inside a flow sequence ([*a, *a: x]) hung the composer
case("171-alias-key-in-flow-sequence.yaml", head(laughs(8, "tags: [*a7, *a7: x]\n")))
case("170-many-errors-capped-per-fault.yaml", head("faults:\n" + "".join(f"  - {{at: 1s, duration: 5s, pause: {{process: x}}}}\n" for _ in range(4))))


# --- round two (issue 18): the surfaces added since — inventories, signals, selectors, budgets,
# addresses — tried as a hostile user would. Files an experiment names are never shown unless
# they are no secret; ssh fields from an inventory are checked as the experiment's own are.
INV = os.path.join(OUT, "inventories")
os.makedirs(INV, exist_ok=True)


def inv(name, text):
    cases.append((os.path.join(INV, name), text))


case("214-inventory-proc-environ.yaml", "version: 1\ntitle: t\nhosts: {from: /proc/self/environ}\nduration: 1s\n")
case("215-inventory-etc-shadow.yaml", "version: 1\ntitle: t\nhosts: {from: /etc/shadow}\nduration: 1s\n")
case("216-inventory-user-option.yaml", "version: 1\ntitle: t\nhosts: {from: inventories/inject.ini}\nduration: 1s\n")
inv("inject.ini", "h1 ansible_host=127.0.0.1 ansible_user=-oProxyCommand=x\nh2 ansible_host='127.0.0.1;id' ansible_port=22\n[db:vars]\nansible_user=`id`\n[db]\nh3\n")
case("217-inventory-yaml-laughs.yaml", "version: 1\ntitle: t\nhosts: {from: inventories/laughs.yaml}\nduration: 1s\n")
inv("laughs.yaml", laughs(9, "all: {hosts: {h1: {ansible_host: 127.0.0.1, x: *a8}}}\n"))
case("218-inventory-json-wrong-shapes.yaml", "version: 1\ntitle: t\nhosts: {from: inventories/shapes.json}\nduration: 1s\n")
inv("shapes.json", '{"_meta": {"hostvars": {"h1": {"ansible_port": "99999"}}}, "db": {"hosts": "h1"}, "web": {"hosts": ["h1", "-x"]}}\n')
case("219-kill-signal-19.yaml", head("faults: [{at: 1s, kill: {process: x, signal: 19}}]\n"))
case("220-kill-signal-numbers-that-stop.yaml", head("faults:\n" + "".join(f"  - {{name: k{n}, at: 1s, duration: 1s, kill: {{process: p{n}, signal: {n}}}}}\n" for n in [18, 20, 21, 22])))
case("221-kill-signal-tstp-names.yaml", head("faults: [{at: 1s, kill: {process: x, signal: TSTP}}, {at: 2s, kill: {process: y, signal: sigcont}}]\n"))
case("222-blast-radius-count.yaml", head("faults: [{at: 1s, kill: {process: {cmdline: '.'}, count: 40, signal: KILL}}]\n"))
case("223-blast-radius-slash.yaml", head("faults: [{at: 1s, kill: {process: {cmdline: '^/'}, all: true}}, {at: 2s, pause: {process: {cmdline: '[a-z]+'}, all: true}, duration: 1s}]\n"))
case("224-selector-lookahead.yaml", head("faults: [{at: 1s, kill: {process: {cmdline: '^(?!-bash$)'}, all: true}}]\n"))
case("225-selector-backreference.yaml", head("faults: [{at: 1s, kill: {process: {cmdline: '(a)\\1'}}}]\nsteady_state: [{http: {url: 'http://127.0.0.1/', body_regex: '(?<=x)y'}}]\n"))
case("226-probes-too-many-samples.yaml", head("probes:\n" + "".join(f"  - {{name: p{i}, tcp: '127.0.0.1:{i + 1}', interval: 1ms}}\n" for i in range(100)), "168h"))
case("227-lease-renew-1ns.yaml", head("settings: {lease_renew: 1ns, lease_expiry: 1ms}\n"))
case("228-tcp-nul.yaml", head('steady_state: [{tcp: "127.0.0.1\\0evil:19301"}, {tcp: "127.0.0.1 evil:80"}, {tcp: "[::1]x:80"}]\n'))
case("229-urls-malformed.yaml", head("steady_state: [{http: 'http://127.0.0.1/a b'}, {http: 'http:///x'}, {http: 'http://127.0.0.1:99999/'}, {http: 'http://:80/'}]\n"))
case("230-workload-url-port.yaml", head("workload: {rate: 10/s, http: {url: 'http://198.18.6.10:0/{value}', replicas: ['http://198.18.6.11/kv x']}}\n"))
case("231-inventory-from-directory.yaml", "version: 1\ntitle: t\nhosts: {from: inventories}\nduration: 1s\n")
case("232-inventory-ini-problems.yaml", "version: 1\ntitle: t\nhosts: {from: inventories/problems.ini}\nduration: 1s\n")
inv("problems.ini", "[web\n[db:hosts]\n[ok]\nweb[01:10]\nbad/name\nh ansible_become=maybe ansible_ssh_private_key_file=-i\n[ok:children]\nx/y\n")

# found by the fuzzer: a line of nothing but empty quotes trapped the INI reader
case("233-inventory-empty-quotes.yaml", "version: 1\ntitle: t\nhosts: {from: inventories/quotes.ini}\nduration: 1s\n")
inv("quotes.ini", "[db]\n \"\"\nh1\n[db:children]\n''\n")

for path, text in cases:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
print(f"wrote {len(cases)} files")
