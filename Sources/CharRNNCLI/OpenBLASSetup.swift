// Makes OpenBLAS use the kernels the CPU supports. Debian 12's OpenBLAS
// 0.3.21 does not know recent Xeons and falls back to generic SSE3 code
// ("Prescott"), about ten times slower; OPENBLAS_CORETYPE fixes that but
// is read only when the library loads, so a tool re-executes itself once.
#if canImport(Glibc)
import Glibc
#endif
import CharRNNCore
import CSupport

public enum OpenBLASSetup {
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
        guard let core = OpenBLAS.recommendedCoreType(
            detected: OpenBLAS.coreName,
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
        let threads = OpenBLAS.threads
        return "OpenBLAS kernels: \(OpenBLAS.coreName) (\(source)), \(threads) thread\(threads == 1 ? "" : "s")"
    }

}
