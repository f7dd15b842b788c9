// Everything the tools read from their environment, in one place: the
// kernel plan's forcing and cache, the MPI launcher, thread counts. The core
// reads none of it; it gets the values.
#if canImport(Glibc)
import Glibc
#endif
import CharRNNCore

public enum ProcessEnvironment {
    public static func get(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }

    /// The planner's options: CHARRNN_KERNELS forces a path, and plans are
    /// cached in $XDG_CACHE_HOME/charrnn (default ~/.cache/charrnn).
    public static var kernelOptions: KernelOptions {
        let forced = get("CHARRNN_KERNELS").flatMap { $0.isEmpty ? nil : $0 }
        var cache: String? = nil
        if let xdg = get("XDG_CACHE_HOME"), xdg.hasPrefix("/") {
            cache = xdg + "/charrnn"
        } else if let home = get("HOME"), !home.isEmpty {
            cache = home + "/.cache/charrnn"
        }
        return KernelOptions(forced: forced, cacheDirectory: cache)
    }

    /// The group of the MPI job this process was started in, or nil when no
    /// launcher started it (mpirun sets OMPI_COMM_WORLD_SIZE; CHARRNN_MPI=1
    /// forces it; CHARRNN_LIBMPI names the library). Another launcher that
    /// says there are several processes is an error, not N copies each
    /// training the whole model.
    public static func mpiGroup(tool: String) throws -> MPICommunicator? {
        guard get("OMPI_COMM_WORLD_SIZE") != nil || get("CHARRNN_MPI") == "1" else {
            for name in ["PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"] {
                if let v = get(name), let n = Int(v), n > 1 {
                    throw CharRNNError("\(tool) was started by an MPI launcher that is not Open MPI's (\(name)=\(v))",
                                       hint: "launch it with Open MPI's mpirun (Debian: openmpi-bin), or set CHARRNN_MPI=1 if this launcher starts Open MPI processes")
                }
            }
            return nil
        }
        return try MPICommunicator.join(library: get("CHARRNN_LIBMPI"))
    }

    /// Ranks of an MPI job on this node (OMPI_COMM_WORLD_LOCAL_SIZE), or nil.
    static var localRanks: Int? { Self.get("OMPI_COMM_WORLD_LOCAL_SIZE").flatMap { Int($0) } }
}
