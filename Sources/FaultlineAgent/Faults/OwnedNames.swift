/// Names of the kernel objects faults create, derived from the run and the fault so that two
/// runs, or two faults of one run, never share one.
package enum OwnedNames {
    /// `faultline_<run>_<index>`: an nft table (partitions, the queue engine).
    package static func table(runId: String, faultIndex: Int) -> String {
        "faultline_\(String(runId.map { $0 == "-" ? "_" : $0 }))_\(faultIndex)"
    }

    /// A stable 64-bit hash (FNV-1a): the same in the runner and in every agent.
    package static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
