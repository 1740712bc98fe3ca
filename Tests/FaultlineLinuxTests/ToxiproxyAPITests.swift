import FaultlineCore
import Foundation
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// The control API's routes, statuses and JSON, called without HTTP; and its JSON reader.
@Suite("Toxiproxy API: routes and JSON")
struct ToxiproxyAPITests {
    func call(_ api: ToxiproxyAPI, _ method: String, _ path: String, _ body: String = "") -> (Int, String) {
        let (status, json) = api.respond(.init(method: method, path: path, body: Array(body.utf8)))
        return (status, json?.text ?? "")
    }

    @Test("proxies and toxics answer with Toxiproxy's statuses and shapes")
    func routes() throws {
        let server = try ProxyServer(seed: 1)
        defer { server.stop() }
        let api = try ToxiproxyAPI(server: server, listen: "127.0.0.1:0")
        #expect(call(api, "GET", "/proxies") == (200, "{}"))
        let (created, body) = call(api, "POST", "/proxies", #"{"name": "db", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:5432"}"#)
        #expect(created == 201)
        #expect(
            body.hasPrefix(#"{"name":"db","listen":"127.0.0.1:"#)
                && body.hasSuffix(#","upstream":"127.0.0.1:5432","enabled":true,"toxics":[]}"#))
        #expect(
            call(api, "POST", "/proxies", #"{"name": "db", "upstream": "127.0.0.1:5432"}"#) == (
                409, #"{"error":"proxy already exists","status":409}"#
            ))
        #expect(call(api, "POST", "/proxies", "{not json").0 == 400)
        #expect(call(api, "POST", "/proxies", #"{"name": "x", "upstream": "127.0.0.1"}"#).0 == 400)
        #expect(
            call(api, "POST", "/proxies/db/toxics", #"{"type": "latency", "attributes": {"latency": 10}}"#)
                == (
                    200,
                    #"{"attributes":{"jitter":0,"latency":10},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1}"#
                ))
        #expect(call(api, "GET", "/proxies/db/toxics/latency_downstream").0 == 200)
        #expect(call(api, "PATCH", "/proxies/db/toxics/latency_downstream", #"{"toxicity": 0.25}"#).1.hasSuffix(#""toxicity":0.25}"#))
        #expect(call(api, "GET", "/proxies/db").1.contains(#""toxics":[{"attributes":{"jitter":0,"latency":10}"#))
        #expect(call(api, "DELETE", "/proxies/db/toxics/latency_downstream") == (204, ""))
        #expect(call(api, "DELETE", "/proxies/db/toxics/latency_downstream").0 == 404)
        #expect(call(api, "POST", "/proxies/db", #"{"enabled": false}"#).1.contains(#""enabled":false"#))
        #expect(call(api, "POST", "/reset") == (204, ""))
        #expect(call(api, "GET", "/proxies/db").1.contains(#""enabled":true"#))
        let (p, populated) = call(api, "POST", "/populate", #"[{"name": "web", "upstream": "127.0.0.1:80"}]"#)
        #expect(p == 201 && populated.hasPrefix(#"{"proxies":[{"name":"web""#))
        #expect(call(api, "GET", "/version").1 == #"{"version":"\#(FaultlineVersion.text)"}"#)
        #expect(call(api, "DELETE", "/proxies/db") == (204, ""))
        #expect(call(api, "GET", "/proxies/db") == (404, #"{"error":"proxy not found","status":404}"#))
        #expect(call(api, "GET", "/nowhere").0 == 404)
        api.stop()
    }

    @Test("JSON: strict reading, exact writing")
    func json() throws {
        let v = try JSONValue.parse(Array(#" {"a": [1, -2.5e1, true, null, "\u00e9\ud83d\ude00\n"], "b": {}} "#.utf8))
        #expect(v.text == #"{"a":[1,-25,true,null,"é😀\n"],"b":{}}"#)
        for bad in [
            "", "{", "[1,]", "{\"a\" 1}", "01", "1 2", "\"\u{1}\"", #""\ud800""#, "nul",
            String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
        ] {
            #expect(throws: JSONValue.ParseError.self, "\(bad)") { _ = try JSONValue.parse(Array(bad.utf8)) }
        }
    }
}

@Suite("proxy fault: the experiment's toxics and the proxy's")
struct ProxyToxicSchemaTests {
    @Test("every toxic an experiment can name exists in the proxy with exactly the same attributes, and back")
    func sameToxics() throws {
        #expect(Set(ProxyToxic.schema.keys) == Set(ToxicKinds.all.map { $0.type }))
        for kind in ToxicKinds.all {
            #expect(Set(ProxyToxic.schema[kind.type]?.map(\.name) ?? []) == Set(kind.defaults.keys), "\(kind.type)")
        }
    }

    @Test("an experiment's toxic becomes the proxy's: units converted, refusals said at load")
    func reading() throws {
        let text = """
            version: 1
            title: t
            duration: 10s
            proxies: {db: {listen: "127.0.0.1:0", upstream: "localhost:5432"}}
            faults:
              - {at: 1s, duration: 1s, proxy: {name: db, toxics: [{type: latency, latency: 1500ms, jitter: 20ms, stream: upstream, toxicity: 25%}, {type: bandwidth, rate: 800kbit}, {type: slicer, average_size: 1kb, size_variation: 10, delay: 500us}, {type: limit_data, bytes: 64kb}]}}
              - {at: 3s, duration: 1s, proxy: {name: db, down: true}}
            """
        let e = try ExperimentLoader.load(text: text, file: "p.yaml")
        #expect(e.proxies == [ProxyDecl(name: "db", listen: "127.0.0.1:0", upstream: "localhost:5432")])
        let f = try #require(e.faults.first?.spec as? ProxyFault)
        #expect(
            f.toxics == [
                ProxyToxic(type: "latency", stream: "upstream", toxicity: 0.25, attributes: ["latency": 1_500, "jitter": 20]),
                ProxyToxic(type: "bandwidth", attributes: ["rate": 100]),
                ProxyToxic(type: "slicer", attributes: ["average_size": 1_024, "size_variation": 10, "delay": 500]),
                ProxyToxic(type: "limit_data", attributes: ["bytes": 65_536]),
            ])
        #expect((e.faults.last?.spec as? ProxyFault)?.down == true)
        // Each converts into a toxic the proxy accepts.
        for t in f.toxics { _ = try ToxicKinds.make(t.type, t.attributes) }
    }
}
