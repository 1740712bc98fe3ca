/// libfaketime as lab services run under it (`clock: faketime`) and clock faults drive it.
public enum Faketime {
    /// Debian's library (package faketime), preloaded into a service.
    public static let library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
    /// A host's control file, in its data directory: `+0` until a clock fault writes it.
    public static let controlFileName = "faketime.rc"

    /// The environment that makes a process read the wall clock through `file`. Only the wall
    /// clock moves, as a step of a real clock does: CLOCK_MONOTONIC stays.
    public static func environment(file: String) -> [String: String] {
        ["LD_PRELOAD": library, "FAKETIME_TIMESTAMP_FILE": file, "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"]
    }
}
