import Foundation
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// The etcd gateway's JSON as etcd 3.4 answers it (bodies copied from a lab member's answers).
@Suite("etcd workload: gateway answers")
struct EtcdDriverTests {
    @Test("a range answer gives the value; a key that is absent gives none; an error body is no answer")
    func decode() throws {
        let hit =
            #"{"header":{"cluster_id":"57","member_id":"17","revision":"2","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}"#
        let a = try #require(EtcdDriver.decode(Data(hit.utf8)))
        #expect(a.value == "bar" && a.pairs.map(\.key) == ["foo"])
        let miss = #"{"header":{"cluster_id":"57","member_id":"17","revision":"2","raft_term":"2"}}"#
        let b = try #require(EtcdDriver.decode(Data(miss.utf8)))
        #expect(b.value == nil && b.pairs.isEmpty)
        let error = #"{"error":"etcdserver: request timed out","message":"etcdserver: request timed out","code":14}"#
        #expect(EtcdDriver.decode(Data(error.utf8)) == nil)
        #expect(EtcdDriver.decode(Data("<html>".utf8)) == nil)
    }

    @Test("a prefix's range end is the prefix with its last byte raised, as etcd's client computes it")
    func prefixEnd() {
        #expect(EtcdDriver.prefixEnd("faultline/register/") == "faultline/register0")
        #expect(EtcdDriver.base64("faultline/register/0") == "ZmF1bHRsaW5lL3JlZ2lzdGVyLzA=")
        #expect(EtcdDriver.unbase64("YmFy") == "bar")
    }
}
