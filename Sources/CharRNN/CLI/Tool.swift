// What every executable shares: start-up (OpenBLAS kernels, signals),
// common options, and turning errors into one line and an exit status.
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import CSupport

/// Exit statuses (DESIGN.md): 0 success, 1 bad data or I/O, 64 usage.
public enum ExitStatus {
    public static let dataError: Int32 = 1
    public static let usage: Int32 = 64
}

public enum Tool {
    /// Set on ranks other than 0 of a multi-process run, whose error
    /// lines then name the rank.
    public static var processRank: Int? = nil

    /// Runs a command: re-executes for the right OpenBLAS kernels, parses
    /// arguments (usage errors exit 64), runs, and reports a CharRNNError as
    /// `NAME: error: WHAT — HINT` with status 1. A closed stdout pipe ends
    /// quietly with status 0.
    public static func main<C: ParsableCommand>(_ command: C.Type, name: String) -> Never {
        OpenBLASSetup.ensureBestCore()
        charrnn_ignore_sigpipe()
        charrnn_install_cleanup_handlers()
        var cmd: ParsableCommand
        do {
            cmd = try C.parseAsRoot()
        } catch {
            let code = C.exitCode(for: error)
            if code == .success { C.exit(withError: error) }  // --help, --version
            // Usage errors in the tools' one-line form, status 64.
            let message = C.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            printError("\(name): error: \(message.trimmingPrefix("Error: ")) — see '\(name) --help'")
            exit(code.rawValue)
        }
        do {
            try cmd.run()
            exit(0)
        } catch is BrokenPipe {
            exit(0)
        } catch let e as CharRNNError {
            printError("\(name)\(processRank.map { " (rank \($0))" } ?? ""): error: \(e)")
            exit(ExitStatus.dataError)
        } catch let e as PeerStop {
            exit(e.status)   // rank 0 reports it
        } catch let e as ExitCode {
            exit(e.rawValue)
        } catch {
            C.exit(withError: error)
        }
    }

    /// Refuses to write binary data to a terminal (as gzip does).
    public static func refuseBinaryOnTerminal(outputPath: String?, force: Bool) throws {
        if (outputPath == nil || outputPath == "-") && !force && isTerminal(1) {
            throw CharRNNError("refusing to write binary data to a terminal",
                               hint: "redirect the output (> file, | next-tool), give -o FILE, or use --force")
        }
    }
}

/// Options every tool that computes shares.
public struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for computation (default: the cores this process may use).")
    public var threads: Int?

    @Flag(name: .long, help: "Print diagnostics (OpenBLAS kernels, timings) on stderr.")
    public var verbose = false

    @Flag(name: [.customShort("q"), .long], help: "Print nothing on stderr but errors.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1 (got \(threads)).")
        }
    }

    /// Applies the thread count (OpenBLAS gets `blasThreads` when the tool
    /// splits work itself) and the kernels of CHARRNN_KERNELS (checked
    /// here), and prints the kernel lines when verbose.
    public func apply(tool: String, blasThreads: Int? = nil) throws {
        OpenBLASSetup.setThreads(blasThreads ?? threadCount)
        let kernels = Self.kernelOptions
        try kernels.validate()
        if let forced = kernels.forced {
            // The element-wise kernels of the forced kernel's instruction set.
            let isa = ProductPath(name: forced)?.kernel.map { charrnn_gemm_kernel_isa($0) } ?? PackedKernels.isa(named: forced)
            if let isa, isa >= 0 { charrnn_use_isa(isa) }
        }
        if verbose || ProcessEnvironment.get("CHARRNN_DEBUG") != nil {
            printError("\(tool): \(OpenBLASSetup.describe())")
            printError("\(tool): \(KernelPlanner.machineLine)")
        }
    }

    /// The planner's options from the environment: CHARRNN_KERNELS forces
    /// a path, and plans are cached in $XDG_CACHE_HOME/charrnn (default
    /// ~/.cache/charrnn).
    public static var kernelOptions: KernelOptions {
        let forced = ProcessEnvironment.get("CHARRNN_KERNELS").flatMap { $0.isEmpty ? nil : $0 }
        var cache: String? = nil
        if let xdg = ProcessEnvironment.get("XDG_CACHE_HOME"), xdg.hasPrefix("/") {
            cache = xdg + "/charrnn"
        } else if let home = ProcessEnvironment.get("HOME"), !home.isEmpty {
            cache = home + "/.cache/charrnn"
        }
        return KernelOptions(forced: forced, cacheDirectory: cache)
    }

    /// --threads, else the CPUs this process may use; processes of an MPI
    /// job on one node that are not bound to cores share the node's CPUs.
    public var threadCount: Int {
        if let threads { return threads }
        let available = Int(charrnn_available_cpus())
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if available >= online, let local = ProcessEnvironment.get("OMPI_COMM_WORLD_LOCAL_SIZE").flatMap({ Int($0) }), local > 1 {
            return max(1, available / local)
        }
        return available
    }
}

/// --device, for the tools that compute with a model.
public struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "Compute device: cpu, opencl (the first GPU, else the first OpenCL device), opencl:N or opencl:P.D (see 'rnn-ckpt devices').")
    public var device: String = "cpu"

    public init() {}

    public func validate() throws {
        if ComputeDevice(parsing: device) == nil { throw ValidationError(ComputeDevice.usage(device)) }
    }

    /// The parsed device (validate() has checked it).
    public var computeDevice: ComputeDevice { ComputeDevice(parsing: device)! }

    /// Opens the device now, so that an unavailable one fails before any
    /// work; returns its label for log lines.
    @discardableResult
    public func open() throws -> String { try computeDevice.label() }
}

/// Reads whole inputs: the named files concatenated, or stdin when none.
public func readInputs(_ paths: [String]) throws -> (bytes: [UInt8], name: String) {
    if paths.isEmpty || paths == ["-"] {
        let source = try FileSource.open(nil)
        return (try source.readAll(), "stdin")
    }
    var all: [UInt8] = []
    for path in paths {
        let source = try FileSource.open(path)
        if paths.count == 1 {
            return (try source.readAll(), path)
        }
        all.append(contentsOf: try source.readAll())
    }
    return (all, paths.joined(separator: "+"))
}
