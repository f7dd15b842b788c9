// What every executable shares: start-up (OpenBLAS kernels, signals),
// common options, and turning errors into one line and an exit status.
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import CharRNNCore
import CharRNNOpenCL
import CSupport

/// Exit statuses (every tool's man page): 0 success, 1 bad data or I/O, 64 usage.
public enum ExitStatus {
    public static let dataError: Int32 = 1
    public static let usage: Int32 = 64

    /// The status a rank other than 0 ends with when rank 0 reports the stop.
    public static func of(_ stop: PeerStop) -> Int32 {
        switch stop.reason {
        case .failure: return dataError
        case .signal(let s): return 128 + s
        }
    }
}

public enum Tool {
    /// charrnn's version, which every tool's --version prints.
    public static let version = "0.9.0"

    /// The --version line of `tool`.
    public static func version(of tool: String) -> String { "\(tool) (charrnn) \(version)" }

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
            let shape = CommandShape(dumpedHelp: C._dumpHelp())
            cmd = try C.parseAsRoot(try Arguments.prepare(Array(CommandLine.arguments.dropFirst()), shape: shape, tool: name))
        } catch let problem as UsageProblem {
            printError("\(name): error: \(problem.message.trimmingSuffix(".")) — see '\(name) --help'")
            exit(ExitStatus.usage)
        } catch {
            let code = C.exitCode(for: error)
            if code == .success { C.exit(withError: error) }  // --help, --version
            // Usage errors in the tools' one-line form, status 64.
            let message = C.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            printError("\(name): error: \(usageMessage(message).trimmingSuffix(".")) — see '\(name) --help'")
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
            exit(ExitStatus.of(e))   // rank 0 reports it
        } catch let e as ExitCode {
            exit(e.rawValue)
        } catch {
            C.exit(withError: error)
        }
    }

    /// ArgumentParser's message for a value that does not parse, in the
    /// tools' words: "--model must be lstm, gru or rnn (got 'x')."
    static func usageMessage(_ message: String) -> String {
        var m = Substring(message)
        if m.hasPrefix("Error: ") { m = m.dropFirst("Error: ".count) }
        let text = String(m)
        // The value 'V' is invalid for '--opt <name>'. Please provide one of 'a', 'b' or 'c'.
        let head = "The value '", middle = "' is invalid for '", list = ". Please provide one of "
        guard text.hasPrefix(head), let mid = find(middle, in: text) else { return text }
        let value = text[text.index(text.startIndex, offsetBy: head.count)..<mid.lowerBound]
        let rest = text[mid.upperBound...]
        guard let close = rest.firstIndex(of: "'") else { return text }
        let option = rest[..<close].split(separator: " ").first.map(String.init) ?? String(rest[..<close])
        let after = String(rest[rest.index(after: close)...])
        if after.hasPrefix(": ") { return String(after.dropFirst(2)) }   // a message of our own
        if value.hasPrefix("-"), Double(value) != nil { return "\(option) must be 0 or more (got \(value))." }
        if let values = find(list, in: after) {
            var choices = String(after[values.upperBound...].filter { $0 != "'" }).trimmingSuffix(".")
            if let and = find(" and ", in: choices) { choices.replaceSubrange(and, with: " or ") }   // two values
            return "\(option) must be \(choices) (got '\(value)')."
        }
        return text
    }

    /// Where `needle` first occurs in `text`.
    static func find(_ needle: String, in text: String) -> Range<String.Index>? {
        var i = text.startIndex
        while i < text.endIndex {
            if text[i...].hasPrefix(needle) { return i..<text.index(i, offsetBy: needle.count) }
            i = text.index(after: i)
        }
        return nil
    }

    /// Refuses to write binary data to a terminal (as gzip does).
    public static func refuseBinaryOnTerminal(outputPath: String?, force: Bool) throws {
        if (outputPath == nil || outputPath == "-") && !force && isTerminal(1) {
            throw CharRNNError("refusing to write binary data to a terminal",
                               hint: "redirect the output (> file, | next-tool), give -o FILE, or use --force")
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
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
        OpenBLAS.setThreads(blasThreads ?? threadCount)
        let kernels = ProcessEnvironment.kernelOptions
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

    /// --threads, else the CPUs this process may use; processes of an MPI
    /// job on one node that are not bound to cores share the node's CPUs.
    public var threadCount: Int {
        if let threads { return threads }
        let available = Int(charrnn_available_cpus())
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if available >= online, let local = ProcessEnvironment.localRanks, local > 1 {
            return max(1, available / local)
        }
        return available
    }
}

/// --device, for the tools that compute with a model.
public struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "Compute device: cpu, opencl (the first GPU, else the first OpenCL device), opencl:N or opencl:P.D (see 'rnn-ckpt devices').")
    public var device: ComputeDevice = .cpu

    public init() {}

    /// The engine of the device: the CPU, or the OpenCL device (opened
    /// now, so that an unavailable one fails before any work).
    public func engine() throws -> ComputeEngine {
        switch device {
        case .cpu: return CPUEngine()
        case .openCL(let selector): return try CLEngine(selector)
        }
    }
}

extension ComputeDevice {
    public static var allValueStrings: [String] { ["cpu", "opencl", "opencl:N", "opencl:P.D"] }
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
