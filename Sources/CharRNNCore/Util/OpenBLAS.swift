// OpenBLAS as the core sees it: the kernels it runs, the kernel family a
// CPU should get, its thread count. (The tools' start-up that fixes a
// mis-detected family is CharRNNCLI's OpenBLASSetup.)
import COpenBLAS

public enum OpenBLAS {
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

    public static var threads: Int { Int(openblas_get_num_threads()) }

    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }
}
