/// Every toxic kind, by type name.
package enum ToxicKinds {
    package static let all: [any Toxic.Type] = [
        LatencyToxic.self, BandwidthToxic.self, SlowCloseToxic.self, TimeoutToxic.self, ResetPeerToxic.self, SlicerToxic.self,
        LimitDataToxic.self,
    ]

    static func kind(_ type: String) -> (any Toxic.Type)? { all.first { $0.type == type } }

    package static func make(_ type: String, _ attributes: ToxicAttributes) throws(ToxicError) -> any Toxic {
        guard let k = kind(type) else {
            throw ToxicError("unknown toxic type '\(type)' (valid: \(all.map { $0.type }.joined(separator: ", ")))")
        }
        return try k.init(attributes)
    }
}
