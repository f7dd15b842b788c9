// Makes OpenBLAS use the kernels the CPU supports. Debian 12's OpenBLAS
// 0.3.21 does not know recent Xeons and falls back to generic SSE3 code
// ("Prescott"), about ten times slower; OPENBLAS_CORETYPE fixes that but
// is read only when the library loads, so a tool re-executes itself once.
#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS
import CSupport

public enum OpenBLASSetup {
    /// Kernel families OpenBLAS uses on x86-64, from weakest to strongest.
    /// The rank of a core name says which instructions its kernels need.
    static func rank(ofCore name: String) -> Int {
        switch name.lowercased() {
        case "cooperlake", "sapphirerapids": return 3
        case "skylakex": return 3
        case "haswell", "zen", "skylake": return 2
        case "sandybridge": return 1
        default: return 0  // Prescott, Core2, Nehalem, Katmai... and unknown
        }
    }

    /// The core type to ask for, given the detected core and CPU features,
    /// or nil when the detected one is already as good as the CPU allows.
    public static func recommendedCoreType(detected: String, avx2: Bool, avx512: Bool, avx512bf16: Bool) -> String? {
        let best: (String, Int)?
        if avx512 {
            best = (avx512bf16 ? "Cooperlake" : "SkylakeX", 3)
        } else if avx2 {
            best = ("Haswell", 2)
        } else {
            best = nil
        }
        guard let (name, level) = best else { return nil }
        return rank(ofCore: detected) < level ? name : nil
    }

    /// The name of the kernels OpenBLAS is using now.
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Environment variable that marks a process already re-executed, so a
    /// failure to change the core can never loop.
    static let marker = "CHARRNN_OPENBLAS_REEXEC"

    /// Call first thing in every tool. When the user has not set
    /// OPENBLAS_CORETYPE and the detected kernels are weaker than the CPU
    /// supports, sets the variable and re-executes the same program with the
    /// same arguments (nothing has been read or written yet). Returns only
    /// when no re-execution was needed or it failed.
    public static func ensureBestCore() {
        let env = ProcessEnvironment.self
        if env.get("OPENBLAS_CORETYPE") != nil || env.get(marker) != nil { return }
        guard let core = recommendedCoreType(
            detected: coreName,
            avx2: charrnn_cpu_supports_avx2() != 0,
            avx512: charrnn_cpu_supports_avx512f() != 0,
            avx512bf16: charrnn_cpu_supports_avx512bf16() != 0) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(marker, "1", 1)
        // Every tool calls OpenBLAS from one thread (they split work
        // themselves): without this, OpenBLAS starts a thread per core at
        // load, which then spins in sched_yield for a while (about 0.1 s
        // of a core, a quarter of a short rnn-sample run's CPU time).
        let setThreads = getenv("OPENBLAS_NUM_THREADS") == nil
        if setThreads { setenv("OPENBLAS_NUM_THREADS", "1", 1) }
        let args = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        // The executable's real path (not /proc/self/exe, which would make
        // ps, top and pgrep show the process as "exe").
        var path = [CChar](repeating: 0, count: 4097)
        let n = readlink("/proc/self/exe", &path, 4096)
        let real = n > 0 ? String(cString: path) : ""
        // A binary replaced since it started reads "... (deleted)": use /proc.
        execv(!real.isEmpty && access(real, X_OK) == 0 ? real : "/proc/self/exe", cargs)
        // exec failed (no /proc?): carry on with the slower kernels.
        unsetenv("OPENBLAS_CORETYPE")
        if setThreads { unsetenv("OPENBLAS_NUM_THREADS") }
        for p in cargs { free(p) }
    }

    /// One line for --verbose and benchmarks.
    public static func describe() -> String {
        let user = ProcessEnvironment.get("OPENBLAS_CORETYPE")
        let source: String
        if ProcessEnvironment.get(marker) != nil {
            source = "chosen by charrnn for this CPU"
        } else if user != nil {
            source = "from OPENBLAS_CORETYPE"
        } else {
            source = "detected by OpenBLAS"
        }
        let threads = openblas_get_num_threads()
        return "OpenBLAS kernels: \(coreName) (\(source)), \(threads) thread\(threads == 1 ? "" : "s")"
    }

    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }
}

public enum ProcessEnvironment {
    public static func get(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}
