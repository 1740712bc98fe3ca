import FaultlineCore
import FaultlineLinux
import Foundation

/// libFuzzer's entry point: every input is read as an experiment (YAML, then as a `.json` file),
/// as a lab file, as an inventory (INI, YAML, `ansible-inventory --list` JSON), and as a request
/// to the proxy's API. Each may refuse it — that is the point — but must never crash, hang or
/// exhaust memory. Built only by `make fuzz` (`swift build -sanitize=fuzzer`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
    _ = try? ExperimentLoader.load(data: bytes, file: "fuzz.yaml", labDataRoot: "/nonexistent/labs")
    _ = try? ExperimentLoader.load(data: bytes, file: "fuzz.json", labDataRoot: "/nonexistent/labs")
    _ = try? LabLoader.load(data: bytes, file: "lab.yaml", dataRoot: "/nonexistent/labs")
    let text = String(decoding: bytes, as: UTF8.self)
    for file in ["fuzz.ini", "fuzz.yaml", "fuzz.json"] { _ = Inventory.parse(text, file: file) }
    _ = ToxiproxyHTTP.check(Array(bytes))
    return 0
}

#if FUZZING
    /// libFuzzer's driver (in its runtime, linked by -sanitize=fuzzer).
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    /// SwiftPM links an executable with `main` renamed to `<target>_main`, and `-parse-as-library`
    /// leaves no main of ours: this one hands the arguments to libFuzzer's driver.
    @_cdecl("faultline_fuzz_main")
    public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
        var count = argc
        var vector = argv
        return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOne(data, size) }
    }
#else
    /// Built without `make fuzz` (every `swift build` builds every target): says how to run it.
    @main
    struct NotFuzzing {
        static func main() {
            FileHandle.standardError.write(Data("faultline-fuzz: build and run it with 'make fuzz'\n".utf8))
            exit(64)
        }
    }
#endif
