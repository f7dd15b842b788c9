// Byte sources and sinks over file descriptors: stdin/stdout streaming,
// files, and atomic writes (temporary file + fsync + rename).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CSupport

/// Something bytes can be read from, in order.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads exactly `buffer.count` bytes; returns how many were read before
    /// the end (less than requested only at the end of the data).
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads everything that is left.
    public func readAll() throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }
}

/// Something bytes can be written to, in order.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Pushes everything written so far to the next layer.
    func flush() throws
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }
}

func describeErrno(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Reads a file descriptor (a file, a pipe, stdin).
public final class FileSource: ByteSource {
    public let fd: Int32
    public let name: String
    private let owned: Bool

    public init(fd: Int32, name: String, owned: Bool = false) {
        self.fd = fd
        self.name = name
        self.owned = owned
    }

    /// Opens a path for reading, or stdin for "-" or nil.
    public static func open(_ path: String?) throws -> FileSource {
        guard let path, path != "-" else { return FileSource(fd: 0, name: "stdin") }
        var st = stat()
        if stat(path, &st) != 0 {
            let code = errno
            if code == ENOENT {
                throw CharRNNError("\(path): no such file", hint: "check the path")
            }
            throw CharRNNError("\(path): \(describeErrno(code))", hint: "check the path and its permissions")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw CharRNNError("\(path) is a directory", hint: "give a file inside it")
        }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw CharRNNError("\(path): cannot open: \(describeErrno(errno))", hint: "check its permissions")
        }
        return FileSource(fd: fd, name: path, owned: true)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if buffer.count == 0 { return 0 }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            let code = errno
            if code == EISDIR {
                throw CharRNNError("\(name) is a directory", hint: "give a file inside it")
            }
            throw CharRNNError("reading \(name): \(describeErrno(code))")
        }
    }

    deinit {
        if owned { close(fd) }
    }
}

/// Reads bytes from memory (tests, already-loaded data).
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        if n > 0 {
            bytes.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + position, byteCount: n)
            }
            position += n
        }
        return n
    }
}

/// Collects written bytes in memory.
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
    public func flush() throws {}
}

/// Writes to a file descriptor through a buffer. On stdout, a reader that
/// went away (EPIPE) raises `BrokenPipe`; a full disk names the file.
public final class FileSink: ByteSink {
    public let fd: Int32
    public let name: String
    private var buffer: UnsafeMutableRawBufferPointer
    private var used = 0

    public init(fd: Int32, name: String, bufferSize: Int = 1 << 16) {
        self.fd = fd
        self.name = name
        self.buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count > buffer.count - used {
            try flush()
            if bytes.count >= buffer.count {
                try writeOut(bytes)
                return
            }
        }
        (buffer.baseAddress! + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        used += bytes.count
    }

    public func flush() throws {
        if used > 0 {
            let n = used
            used = 0
            try writeOut(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    private func writeOut(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                if code == EPIPE { throw BrokenPipe() }
                if code == ENOSPC {
                    throw CharRNNError("writing \(name): the disk is full", hint: "free some space and run again")
                }
                throw CharRNNError("writing \(name): \(describeErrno(code))")
            }
            done += n
        }
    }

    /// Standard output, buffered.
    public static func standardOutput() -> FileSink { FileSink(fd: 1, name: "stdout") }
}

/// A file written under a temporary name in the same folder and renamed to
/// its final name only once complete and flushed to disk. Until `commit()`
/// the final name is untouched; `discard()` (or a signal) removes the
/// temporary file.
public final class AtomicFile {
    public let path: String
    public let tempPath: String
    public let sink: FileSink
    private var finished = false

    public init(path: String) throws {
        self.path = path
        let (dir, base) = splitPath(path)
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw CharRNNError("\(path) is a directory", hint: "give a file name to write")
        }
        var template = Array((dir + "/." + base + ".tmp.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 {
            let code = errno
            throw CharRNNError("cannot write in \(dir): \(describeErrno(code))",
                               hint: code == ENOENT ? "create the folder first" : "check the folder's permissions")
        }
        tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        charrnn_register_temp(tempPath)
        fchmod(fd, 0o644)
        sink = FileSink(fd: fd, name: path)
    }

    /// Flushes, syncs and renames the file into place.
    public func commit() throws {
        guard !finished else { return }
        do {
            try sink.flush()
            if fsync(sink.fd) != 0 {
                let code = errno
                throw CharRNNError("writing \(path): \(describeErrno(code))",
                                   hint: code == ENOSPC ? "free some space and run again" : nil)
            }
            if close(sink.fd) != 0 {
                throw CharRNNError("writing \(path): \(describeErrno(errno))")
            }
            finished = true
            if rename(tempPath, path) != 0 {
                let code = errno
                unlink(tempPath)
                charrnn_unregister_temp(tempPath)
                throw CharRNNError("cannot rename into \(path): \(describeErrno(code))")
            }
            charrnn_unregister_temp(tempPath)
            // Make the rename itself durable.
            let (dir, _) = splitPath(path)
            let dfd = Glibc.open(dir, O_RDONLY | O_DIRECTORY)
            if dfd >= 0 { fsync(dfd); close(dfd) }
        } catch {
            discard()
            throw error
        }
    }

    /// Removes the temporary file; the final name is left as it was.
    public func discard() {
        guard !finished else { return }
        finished = true
        close(sink.fd)
        unlink(tempPath)
        charrnn_unregister_temp(tempPath)
    }

    deinit { discard() }
}

/// ("dir", "base") of a path; "." for a bare name.
public func splitPath(_ path: String) -> (String, String) {
    if let slash = path.lastIndex(of: "/") {
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }
    return (".", path)
}

/// Writes `bytes` to the file `path` atomically, or to stdout when `path`
/// is nil or "-" (every tool's -o).
public func writeOutput(_ bytes: [UInt8], to path: String?) throws {
    if let path, path != "-" {
        let file = try AtomicFile(path: path)
        try file.sink.write(bytes)
        try file.commit()
    } else {
        let out = FileSink.standardOutput()
        try out.write(bytes)
        try out.flush()
    }
}

/// As writeOutput for text.
public func writeOutput(_ text: String, to path: String?) throws { try writeOutput(Array(text.utf8), to: path) }

/// Runs `body` with a sink to the file `path` (written atomically, kept
/// only when body returns) or to stdout when `path` is nil or "-".
public func withOutput(to path: String?, _ body: (ByteSink) throws -> Void) throws {
    if let path, path != "-" {
        let file = try AtomicFile(path: path)
        try body(file.sink)
        try file.commit()
    } else {
        let out = FileSink.standardOutput()
        try body(out)
        try out.flush()
    }
}

extension FileSink {
    /// The file `path` opened for appending (created if missing); `purpose`
    /// names what it is for in the error.
    public static func append(path: String, purpose: String = "writing") throws -> FileSink {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw CharRNNError("cannot open \(path) for \(purpose)", hint: "check the path") }
        return FileSink(fd: fd, name: path)
    }
}

/// Creates a folder (and its parents) if missing.
public func makeDirectory(_ path: String) throws {
    var st = stat()
    if stat(path, &st) == 0 {
        if (st.st_mode & S_IFMT) != S_IFDIR {
            throw CharRNNError("\(path) exists and is not a folder", hint: "choose another checkpoint folder with -o")
        }
        return
    }
    let (parent, _) = splitPath(path)
    if parent != path && parent != "." && parent != "/" { try makeDirectory(parent) }
    if mkdir(path, 0o755) != 0 && errno != EEXIST {
        throw CharRNNError("cannot create folder \(path): \(describeErrno(errno))", hint: "check the path and permissions")
    }
}

/// Names in a folder (no . or ..), sorted; empty when unreadable.
public func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// Passes bytes on and remembers the last one (does output end a line?).
public final class LastByteSink: ByteSink {
    private let next: ByteSink
    public private(set) var last: UInt8?

    public init(_ next: ByteSink) { self.next = next }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try next.write(bytes)
        if let b = bytes.last { last = b }
    }

    public func flush() throws { try next.flush() }
}

/// Whether `path` names a directory (following symbolic links).
public func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}
