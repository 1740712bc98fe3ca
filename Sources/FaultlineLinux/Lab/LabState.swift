import FaultlineCore
import Foundation

/// What a lab created, written *before* each object is created, so `lab down` can remove
/// everything even after `lab up` crashed half-way.
public struct LabState: Codable, Equatable, Sendable {
    public var lab: String
    public var source: String
    public var subnet: String
    public var dataDir: String
    public var bridge: String?
    public var hosts: [Host] = []
    public var createdAt: String

    public struct Host: Codable, Equatable, Sendable {
        public var name: String
        public var address: String
        public var namespace: String
        public var veth: String
        /// PID 1 of the host's PID namespace, as seen from the root namespace.
        public var initProcess: ProcessRef?
        public var services: [Service] = []
    }

    public struct Service: Codable, Equatable, Sendable {
        public var name: String
        public var process: ProcessRef?
        public var log: String
    }

    public static func path(dataRoot: String, lab: String) -> String { "\(dataRoot)/\(lab)/lab.json" }

    public static func read(dataRoot: String, lab: String) -> LabState? {
        guard let data = FileManager.default.contents(atPath: path(dataRoot: dataRoot, lab: lab)) else { return nil }
        return try? Journal.decoder().decode(LabState.self, from: data)
    }

    /// Every lab with a state file under `dataRoot`.
    public static func all(dataRoot: String) -> [LabState] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dataRoot)) ?? []
        return names.sorted().compactMap { read(dataRoot: dataRoot, lab: $0) }
    }

    func save(dataRoot: String) throws(LedgerError) {
        let data: Data
        do {
            data = try Journal.encoder().encode(self)
        } catch {
            throw LedgerError.io("encode lab state: \(error)")
        }
        try Ledger.writeDurably(data, to: Self.path(dataRoot: dataRoot, lab: lab))
    }
}
