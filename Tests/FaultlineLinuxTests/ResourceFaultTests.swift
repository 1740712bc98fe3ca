import FaultlineCore
import Foundation
import Glibc
import Testing

@testable import FaultlineAgent
@testable import FaultlineLinux

/// The resource kinds' pieces on this machine: what they read from /proc, the undo steps'
/// shapes, sizes as written.
@Suite("resource faults: readings and undo shapes")
struct ResourceFaultTests {
    @Test("/proc fields with spaces or tabs; this machine's available memory and pressure read")
    func readings() {
        #expect(Workers.kibField("VmRSS:\t  282560 kB\nVmData: 1 kB\n", "VmRSS:") == 282_560 * 1024)
        #expect(Workers.kibField("MemAvailable:   23859876 kB\n", "MemAvailable:") == 23_859_876 * 1024)
        #expect(Workers.kibField("MemAvailable: lots\n", "MemAvailable:") == nil)
        #expect((Workers.memAvailable() ?? 0) > 1 << 20)
        #expect(Workers.residentBytes(getpid()).map { $0 > 1 << 20 } == true)
        #expect(Workers.cpuTicks(getpid()) != nil)
    }

    @Test("undo steps of the resource kinds: only faultline's tags and fill files")
    func undoShapes() {
        #expect(UndoStep.endWorkers(tag: "faultline_20261204_1_0").refusal == nil)
        #expect(UndoStep.endWorkers(tag: "sshd").refusal != nil)
        #expect(UndoStep.removeFile("/var/lib/pg/faultline_20261204_1_0.fill").refusal == nil)
        for bad in [
            "/etc/passwd", "relative/faultline_a_0.fill", "/x/../faultline_a_0.fill", "/x/faultline_.fill", "/x/faultline_a b.fill",
        ] {
            #expect(UndoStep.removeFile(bad).refusal != nil, "\(bad)")
        }
    }

    @Test("cgroup limits: only limit files under /sys/fs/cgroup, values of the shapes faultline writes; a lab's own cgroups")
    func cgroupShapes() {
        #expect(
            UndoStep.writeCgroup(dir: "/sys/fs/cgroup/memory/a/b", file: "memory.limit_in_bytes", value: "9223372036854771712").refusal
                == nil)
        #expect(UndoStep.writeCgroup(dir: "/sys/fs/cgroup/system.slice/x.service", file: "cpu.max", value: "max 100000").refusal == nil)
        #expect(UndoStep.writeCgroup(dir: "/sys/fs/cgroup/cpu/a", file: "cpu.cfs_quota_us", value: "-1").refusal == nil)
        for (dir, file, value) in [
            ("/etc", "memory.max", "max"), ("/sys/fs/cgroup/../../etc", "memory.max", "max"), ("/sys/fs/cgroup/a", "cgroup.procs", "1"),
            ("/sys/fs/cgroup/a", "memory.max", "1; rm -rf /"), ("/sys/fs/cgroup/a", "cpu.max", "max"),
            ("/sys/fs/cgroup/a b", "memory.max", "max"),
            ("/sys/fs/cgroup/a", "memory.high", "-5"),
        ] {
            #expect(UndoStep.writeCgroup(dir: dir, file: file, value: value).refusal != nil, "\(dir) \(file) \(value)")
        }
        // The system clock's undo: its offset from the boot clock, never more than a year away.
        #expect(UndoStep.setSystemClock(bootDelta: SystemClock.bootDelta() - 60_000_000_000).refusal == nil)
        #expect(UndoStep.setSystemClock(bootDelta: SystemClock.bootDelta() + 400 * 86_400 * 1_000_000_000).refusal != nil)
        #expect(UndoStep.setSystemClock(bootDelta: SystemClock.bootDelta()).residue() == nil)
        // io: one device's line; v2 keeps what the cgroup had for the keys not asked.
        let io = CgroupSetting.ioMax(device: "/var/lib/pg", rbps: nil, wbps: 1 << 20, riops: nil, wiops: nil)
        #expect(
            io.files(v2: true, device: "254:0", old: "254:0 rbps=5000000 wbps=max riops=max wiops=200")?.first?.value
                == "254:0 rbps=5000000 wbps=1048576 riops=max wiops=200")
        #expect(io.files(v2: false, device: "8:0")?.map(\.file) == ["blkio.throttle.write_bps_device"])
        #expect(
            UndoStep.writeCgroup(dir: "/sys/fs/cgroup/a", file: "io.max", value: "254:0 rbps=max wbps=max riops=max wiops=max").refusal
                == nil)
        #expect(
            UndoStep.writeCgroup(dir: "/sys/fs/cgroup/blkio/a", file: "blkio.throttle.write_bps_device", value: "8:16 0").refusal == nil)
        for bad in [
            "254:0 wbps=1", "254 rbps=max wbps=max riops=max wiops=max", "254:0 rbps=max wbps=max riops=max wiops=max x=1", "a:b 1",
        ] {
            #expect(UndoStep.writeCgroup(dir: "/sys/fs/cgroup/a", file: "io.max", value: bad).refusal != nil, "\(bad)")
        }
        #expect(Cgroups.same("67108864", "67108864") && Cgroups.same("67104768", "67108000") && !Cgroups.same("max", "67108864"))
        #expect(LabCgroups.isLabCgroup("/sys/fs/cgroup/memory/x/faultline-lab-t1/n1-web", lab: "t1"))
        #expect(LabCgroups.isLabCgroup("/sys/fs/cgroup/faultline-lab-t1", lab: "t1"))
        for bad in [
            "/sys/fs/cgroup/memory", "/sys/fs/cgroup/faultline-lab-t2/n1", "/sys/fs/cgroup/faultline-lab-t1/../system.slice",
            "/etc/faultline-lab-t1",
        ] {
            #expect(!LabCgroups.isLabCgroup(bad, lab: "t1"), "\(bad)")
        }
    }

    @Test("where a process's cgroup is: a v1 hierarchy first, then v2; the root cgroup is found as such")
    func cgroupPlaces() throws {
        let hybrid = [
            Cgroups.Mount(path: "/sys/fs/cgroup", fstype: "tmpfs", options: []),
            Cgroups.Mount(path: "/sys/fs/cgroup/cpu", fstype: "cgroup", options: ["cpu"]),
            Cgroups.Mount(path: "/sys/fs/cgroup/memory", fstype: "cgroup", options: ["memory"]),
            Cgroups.Mount(path: "/sys/fs/cgroup/unified", fstype: "cgroup2", options: []),
        ]
        let text = "4:memory:/a/b\n1:cpu:/\n0::/\n"
        let m = try Cgroups.place(cgroupFile: text, controller: .memory, mounts: hybrid).get()
        #expect(m == Cgroups.Place(version: .v1, dir: "/sys/fs/cgroup/memory/a/b", path: "/a/b"))
        #expect(try Cgroups.place(cgroupFile: text, controller: .cpu, mounts: hybrid).get().path == "/")
        // io is on no v1 hierarchy here and the v2 tree offers nothing.
        #expect((try? Cgroups.place(cgroupFile: text, controller: .io, mounts: hybrid).get()) == nil)
        let v2 = [Cgroups.Mount(path: "/sys/fs/cgroup", fstype: "cgroup2", options: ["cpu", "memory", "io"])]
        let p = try Cgroups.place(cgroupFile: "0::/system.slice/redis.service\n", controller: .io, mounts: v2).get()
        #expect(p == Cgroups.Place(version: .v2, dir: "/sys/fs/cgroup/system.slice/redis.service", path: "/system.slice/redis.service"))
        #expect(Cgroups.unescape("/sys/fs/cgroup/a\\040b") == "/sys/fs/cgroup/a b")
        #expect(CgroupSetting.memoryHigh(1 << 26).files(v2: false) == nil)
        #expect(
            CgroupSetting.cpuMax(quota: 20_000, period: 100_000).files(v2: false)?.map(\.file) == ["cpu.cfs_period_us", "cpu.cfs_quota_us"])
        #expect(!Cgroups.mounts().isEmpty, "this machine has cgroup filesystems")
    }

    @Test("an injection's baseline keeps a large number through the ledger's JSON")
    func baselineRoundTrip() throws {
        var i = Injection(undo: [.endWorkers(tag: "faultline_a_0")], summary: "s")
        i.baseline["available"] = 24_372_916_224
        let data = try FaultlineJSON.encoder().encode(i)
        let back = try FaultlineJSON.decoder().decode(Injection.self, from: data)
        #expect(back.baseline["available"] == 24_372_916_224, "\(String(decoding: data, as: UTF8.self))")
    }

    @Test("sizes as experiments write them, and as reports show them")
    func sizes() {
        #expect(ByteSizeText.parse("512MiB") == 512 << 20)
        #expect(ByteSizeText.parse("1.5GiB") == 3 << 29)
        #expect(ByteSizeText.parse("100MB") == 100_000_000)
        #expect(ByteSizeText.parse("4096") == 4096)
        for bad in ["", "MiB", "-1MiB", "1..5GiB", "2PiB", "1 GiB", "lots"] { #expect(ByteSizeText.parse(bad) == nil, "\(bad)") }
        #expect(ByteSizeText.format(276 << 20) == "276 MiB")
        #expect(ByteSizeText.format(3 << 29) == "1.5 GiB")
        #expect(ByteSizeText.format(300) == "300 B")
        #expect(FixedText.format(1.567, 2) == "1.57" && FixedText.format(3, 1) == "3.0" && FixedText.format(-0.04, 1) == "0.0")
        #expect(FixedText.format(0.05, 2) == "0.05" && FixedText.format(12.25, 0) == "12")
    }
}

/// A PromQL answer is another program's output: each shape read, none trusted.
@Suite("PromQL answers")
struct PrometheusAnswerTests {
    func read(_ json: String) -> (value: Double?, error: String?) { PrometheusProbe.read(Data(json.utf8)) }

    @Test("a scalar, a vector of one series, an empty vector (no number, no failure)")
    func values() {
        #expect(read(#"{"status":"success","data":{"resultType":"scalar","result":[1733.1,"2.5"]}}"#).value == 2.5)
        let one = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"x"},"value":[1733.1,"3"]}]}}"#
        #expect(read(one).value == 3 && read(one).error == nil)
        let empty = read(#"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
        #expect(empty.value == nil && empty.error == nil)
    }

    @Test("several series, an error answer, NaN, other shapes and other bytes: a failure that says why")
    func failures() {
        let two = #"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}}"#
        #expect(read(two).error?.contains("returned 2 series; one is needed") == true)
        #expect(
            read(#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#).error == "bad_data: parse error at char 3")
        #expect(read(#"{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}"#).error == "the query's value is nan")
        #expect(read(#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#).error?.contains("matrix answer") == true)
        #expect(
            read(#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"lots"]}]}}"#).error
                == "a series without a number")
        #expect(read("<html>not json</html>").error == "the answer is not a Prometheus API object")
        #expect(read(#"{"status":"success"}"#).error == "the answer has no data.resultType")
    }
}
