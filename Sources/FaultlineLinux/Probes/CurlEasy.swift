internal import CCurl
import Foundation

/// Owns one libcurl easy handle (`curl_easy_init` / `curl_easy_cleanup`) and its header list.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private var headers: UnsafeMutablePointer<curl_slist>?
    /// The body of the last response, capped at one MiB.
    fileprivate var body = Data()
    /// nil once libcurl is loaded and initialised; otherwise why not.
    private static let unavailable: String? = {
        guard fl_curl_lib() != nil else {
            return "cannot load libcurl.so.4 (apt install libcurl4): \(String(cString: fl_curl_error()))"
        }
        return fl_curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK ? nil : "curl_global_init failed"
    }()

    /// Loads and initialises libcurl on a background thread, so that a run whose first HTTP
    /// probe comes a few milliseconds later finds it ready (loading it costs about 4 ms).
    /// The process must not `exit` before `settle()`: see there.
    public static func preload() {
        var thread = pthread_t()
        guard
            pthread_create(
                &thread, nil,
                { _ in
                    _ = CurlEasy.unavailable
                    return nil
                }, nil) == 0
        else { return }
        preloading = thread
    }

    /// Waits for `preload`'s thread, if one was started. `exit` runs the exit handlers that
    /// libcurl's dependencies registered as they initialised: OpenSSL registers its clean-up
    /// early in `curl_global_init`, and running it while the other thread is still inside that
    /// initialisation crashed the process (a run stopped by bad input ended with SIGSEGV
    /// instead of exit 64, one time in four). Called on the main thread only.
    public static func settle() {
        guard let thread = preloading else { return }
        preloading = nil
        pthread_join(thread, nil)
    }

    nonisolated(unsafe) private static var preloading: pthread_t?

    init() throws(ProbeError) {
        if let why = Self.unavailable { throw ProbeError.setup(why) }
        guard let h = fl_curl_easy_init() else { throw ProbeError.setup("curl_easy_init failed") }
        handle = h
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
        let rc = fl_curl_setopt_writefn(handle) { ptr, size, count, user in
            guard let user, let ptr else { return 0 }
            let me = Unmanaged<CurlEasy>.fromOpaque(user).takeUnretainedValue()
            let n = size * count
            if me.body.count < 1 << 20 { me.body.append(UnsafeRawPointer(ptr).assumingMemoryBound(to: UInt8.self), count: n) }
            return n
        }
        try check(rc, "CURLOPT_WRITEFUNCTION")
    }

    deinit {
        fl_curl_easy_cleanup(handle)
        if let headers { fl_curl_slist_free_all(headers) }
    }

    func set(_ option: CURLoption, _ value: Int) throws(ProbeError) {
        try check(fl_curl_setopt_long(handle, option, value), "option \(option.rawValue)")
    }

    func set(_ option: CURLoption, _ value: String) throws(ProbeError) {
        // libcurl copies string options (since 7.17), so the temporary C string may go.
        try check(fl_curl_setopt_string(handle, option, value), "option \(option.rawValue)")
    }

    func set(_ option: CURLoption, _ value: UnsafeMutableRawPointer?) throws(ProbeError) {
        try check(fl_curl_setopt_pointer(handle, option, value), "option \(option.rawValue)")
    }

    /// The lower-cased name of a response header to keep (`captured`), e.g. the backend's name.
    private var headerPrefix: [UInt8] = []
    fileprivate(set) var captured: String?

    /// Keeps the value of response header `name` of each response in `captured`.
    func capture(header name: String) throws(ProbeError) {
        headerPrefix = Array((name.lowercased() + ":").utf8)
        try set(CURLOPT_HEADERDATA, Unmanaged.passUnretained(self).toOpaque())
        let rc = fl_curl_setopt_headerfn(handle) { ptr, size, count, user in
            let n = size * count
            guard let user, let ptr else { return n }
            let me = Unmanaged<CurlEasy>.fromOpaque(user).takeUnretainedValue()
            let line = UnsafeRawBufferPointer(start: ptr, count: n)
            let p = me.headerPrefix
            guard n > p.count, zip(line.prefix(p.count), p).allSatisfy({ ($0 | 0x20) == $1 || $0 == $1 }) else { return n }
            me.captured = String(decoding: line.dropFirst(p.count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return n
        }
        try check(rc, "CURLOPT_HEADERFUNCTION")
    }

    /// Sets request headers (`curl_slist_append`, CURLOPT_HTTPHEADER).
    func setHeaders(_ lines: [String]) throws(ProbeError) {
        for l in lines { headers = fl_curl_slist_append(headers, l) }
        try set(CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers))
    }

    /// Performs the request (`curl_easy_perform`); returns the status code or libcurl's error text.
    func perform() -> Result<Int, CurlFailure> {
        body.removeAll(keepingCapacity: true)
        captured = nil
        let rc = fl_curl_easy_perform(handle)
        guard rc == CURLE_OK else { return .failure(CurlFailure(message: String(cString: fl_curl_easy_strerror(rc)))) }
        var code = 0
        _ = fl_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return .success(code)
    }

    var responseBody: Data { body }

    private func check(_ rc: CURLcode, _ what: String) throws(ProbeError) {
        guard rc == CURLE_OK else { throw ProbeError.setup("libcurl \(what): \(String(cString: fl_curl_easy_strerror(rc)))") }
    }
}

struct CurlFailure: Error {
    var message: String
}
