// Data-parallel training across processes: what the trainer needs from a
// process group (sums over every process, a broadcast), and the group of
// an MPI job. MPI is loaded with dlopen only when the tool finds itself
// under an Open MPI launcher, so the build and every single-process run
// never touch it.
import CSupport
#if canImport(Glibc)
import Glibc
#endif

/// A group of processes that train one model together.
public protocol Communicator: AnyObject {
    /// This process's number, 0..<size; rank 0 prints and writes checkpoints.
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `count` values by their sum over every process.
    func sum(_ values: UnsafeMutablePointer<Float>, count: Int) throws
    func sum(_ values: UnsafeMutablePointer<Double>, count: Int) throws
    /// Replaces every process's `count` bytes by rank `root`'s.
    func broadcast(_ bytes: UnsafeMutableRawPointer, count: Int, root: Int) throws
}

extension Communicator {
    /// The sum over every process of a few values.
    public func sum(_ values: [Double]) throws -> [Double] {
        var v = values
        try v.withUnsafeMutableBufferPointer { try sum($0.baseAddress!, count: $0.count) }
        return v
    }

    /// The mean over every process of one value.
    public func average(_ value: Double) throws -> Double {
        try sum([value])[0] / Double(size)
    }

    /// Replaces `values` by their means over every process (gradients).
    public func average(_ values: inout [Float]) throws {
        let scale = 1 / Float(size)
        try values.withUnsafeMutableBufferPointer { v in
            try sum(v.baseAddress!, count: v.count)
            for i in v.indices { v[i] *= scale }
        }
    }
}

/// The processes of an Open MPI job (MPI_COMM_WORLD).
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    var finalized = false

    /// Joins the job this process was started in: loads Open MPI's library
    /// (`library`, default libmpi.so.40 then libmpi.so) and calls MPI_Init.
    /// Whether the process runs under a launcher at all is the tool's to
    /// decide (its environment).
    public static func join(library: String?) throws -> MPICommunicator {
        var error = [CChar](repeating: 0, count: 512)
        if charrnn_mpi_load(library, &error, error.count) != 0 {
            let why = String(cString: error)
            throw CharRNNError("running under mpirun but Open MPI's library could not be loaded: \(why)",
                               hint: "install Open MPI (Debian: apt-get install openmpi-bin libopenmpi3), or name the library with CHARRNN_LIBMPI=/path/libmpi.so.40")
        }
        var rank: Int32 = 0, size: Int32 = 0
        let rc = charrnn_mpi_init(&rank, &size)
        if rc != 0 {
            throw CharRNNError("MPI_Init failed: \(mpiErrorText(rc))", hint: "check the mpirun command line and that every node has the same Open MPI")
        }
        return MPICommunicator(rank: Int(rank), size: Int(size))
    }

    init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    func check(_ rc: Int32, _ what: String) throws {
        if rc != 0 {
            throw CharRNNError("\(what) failed on rank \(rank): \(mpiErrorText(rc))",
                               hint: "another rank probably stopped; see its message, then --resume from the last checkpoint")
        }
    }

    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        try check(charrnn_mpi_allreduce_float(values, count), "MPI_Allreduce")
    }

    public func sum(_ values: UnsafeMutablePointer<Double>, count: Int) throws {
        try check(charrnn_mpi_allreduce_double(values, Int32(count)), "MPI_Allreduce")
    }

    public func broadcast(_ bytes: UnsafeMutableRawPointer, count: Int, root: Int) throws {
        try check(charrnn_mpi_bcast(bytes, Int32(count), Int32(root)), "MPI_Bcast")
    }

    /// Ends MPI cleanly; call only when every rank reaches the same point
    /// (after a normal end of training), never on an error path, where
    /// mpirun ends the other ranks instead.
    public func finalize() {
        if !finalized { _ = charrnn_mpi_finalize(); finalized = true }
    }
}

func mpiErrorText(_ code: Int32) -> String {
    var text = [CChar](repeating: 0, count: 600)
    charrnn_mpi_error_string(code, &text, text.count)
    return String(cString: text)
}

/// Thrown on ranks other than 0 when they stop because of something rank 0
/// reports: they end with the same status and print nothing, so the
/// message appears once.
public struct PeerStop: Error, Equatable {
    public enum Reason: Equatable {
        /// A failure rank 0 reports (a checkpoint that could not be written...).
        case failure
        /// A stop signal reached the group.
        case signal(Int32)
    }
    public let reason: Reason
    public init(_ reason: Reason) { self.reason = reason }
}
