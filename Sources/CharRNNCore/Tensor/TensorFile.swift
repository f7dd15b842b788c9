// Tensor files: a gzip stream whose content is exactly a safetensors file
// (8-byte little-endian header length, JSON header, raw little-endian
// data). Used for tokens and checkpoints; see charrnn-files(5).

public enum DType: String, CaseIterable, Sendable {
    case U8, U16, U32, I32, F16, F32

    public var size: Int {
        switch self {
        case .U8: return 1
        case .U16, .F16: return 2
        case .U32, .I32, .F32: return 4
        }
    }
}

/// One named tensor: dtype, shape and its raw little-endian bytes.
public struct Tensor: Equatable, Sendable {
    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.size == bytes.count, "tensor bytes do not match shape")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public var count: Int { shape.reduce(1, *) }

    public init(floats: [Float], shape: [Int]) {
        let bytes = floats.withUnsafeBytes { Array($0) }
        self.init(dtype: .F32, shape: shape, bytes: bytes)
    }

    /// The values as Float (F32 and F16 tensors).
    public func floats() -> [Float] {
        switch dtype {
        case .F32:
            return [Float](unsafeUninitializedCapacity: count) { buf, n in
                bytes.withUnsafeBytes { src in
                    UnsafeMutableRawBufferPointer(buf).copyMemory(from: src)
                }
                n = count
            }
        case .F16:
            return bytes.withUnsafeBytes { src in
                (0..<count).map { Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            }
        default:
            return integers().map { Float($0) }
        }
    }

    /// The values as integers (U8, U16, U32, I32).
    public func integers() -> [Int] {
        bytes.withUnsafeBytes { src in
            switch dtype {
            case .U8: return src.map { Int($0) }
            case .U16: return (0..<count).map { Int(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .U32: return (0..<count).map { Int(UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            case .I32: return (0..<count).map { Int(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case .F32, .F16: return floats().map { Int($0) }
            }
        }
    }
}

/// The contents of a tensor file: tensors in file order plus metadata.
public struct TensorFile: Sendable {
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [(String, String)]
    /// For a header-only read: each tensor's shape (its Tensor is empty).
    public var headerShapes: [String: [Int]] = [:]

    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [(String, String)] = []) {
        self.tensors = tensors
        self.metadata = metadata
    }

    init(tensors: [(name: String, tensor: Tensor)], metadata: [(String, String)], shapes: [String: [Int]]) {
        self.tensors = tensors
        self.metadata = metadata
        self.headerShapes = shapes
    }

    public subscript(name: String) -> Tensor? {
        tensors.first(where: { $0.name == name })?.tensor
    }

    public func meta(_ key: String) -> String? {
        metadata.first(where: { $0.0 == key })?.1
    }

    public static let maxHeaderBytes = 100 << 20  // as the safetensors library

    // MARK: Writing

    /// The safetensors header JSON (padded with spaces to a multiple of 8),
    /// with tensors laid out contiguously in the given order.
    public func headerBytes() -> [UInt8] {
        var members: [(String, JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.map { ($0.0, .string($0.1)) })))
        }
        var offset = 0
        for (name, tensor) in tensors {
            let end = offset + tensor.bytes.count
            members.append((name, .object([
                ("dtype", .string(tensor.dtype.rawValue)),
                ("shape", .array(tensor.shape.map { .int($0) })),
                ("data_offsets", .array([.int(offset), .int(end)])),
            ])))
            offset = end
        }
        var header = Array(JSONValue.object(members).text.utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        return header
    }

    /// Writes the file to a sink: gzip-compressed unless `compressed` is false.
    public func write(to sink: ByteSink, compressed: Bool = true) throws {
        let header = headerBytes()
        let target: ByteSink
        var gzip: GzipSink?
        if compressed {
            gzip = try GzipSink(next: sink)
            target = gzip!
        } else {
            target = sink
        }
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try target.write($0) }
        try target.write(header)
        for (_, tensor) in tensors {
            try tensor.bytes.withUnsafeBytes { try target.write($0) }
        }
        if let gzip { try gzip.finish() } else { try sink.flush() }
    }

    /// Writes the file atomically to `path`, or to stdout for "-".
    public func write(toPath path: String, compressed: Bool = true) throws {
        try withOutput(to: path) { try write(to: $0, compressed: compressed) }
    }

    // MARK: Reading

    /// Reads a tensor file (gzip-wrapped or plain safetensors) from a source.
    /// `name` is used in messages. `expectFormat`, when given, is the
    /// required value of the `format` metadata key.
    public static func read(from raw: ByteSource, name: String, expectFormat: String? = nil) throws -> TensorFile {
        try read(from: raw, name: name, expectFormat: expectFormat, headerOnly: false)
    }

    /// Reads only the metadata and the tensors' names, dtypes and shapes
    /// (their bytes are empty): cheap listing of big checkpoints.
    public static func readHeader(path: String, expectFormat: String? = nil) throws -> TensorFile {
        let source = try FileSource.open(path)
        return try read(from: source, name: source.name, expectFormat: expectFormat, headerOnly: true)
    }

    static func read(from raw: ByteSource, name: String, expectFormat: String?, headerOnly: Bool) throws -> TensorFile {
        let file = try TensorFileReader(raw: raw, name: name, expectFormat: expectFormat)
        let (entries, metadata) = try file.entries(of: file.readHeader())
        try file.checkFormat(metadata, expect: expectFormat)
        if headerOnly {
            return TensorFile(tensors: entries.map { ($0.name, Tensor(dtype: $0.dtype, shape: [0], bytes: [])) },
                              metadata: metadata,
                              shapes: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.shape) }))
        }
        let data = try file.readData(entries)
        let tensors = zip(entries, data).map { e, bytes in (e.name, Tensor(dtype: e.dtype, shape: e.shape, bytes: bytes)) }
        return TensorFile(tensors: tensors, metadata: metadata)
    }

    /// Whether the first bytes of a file are those of a tensor file: gzip, or
    /// an 8-byte header length followed by the header's "{". Text has no NUL
    /// bytes, and every length below 2^56 has one, so a corrupt length still
    /// counts as a tensor file (and gets the tensor file's error).
    public static func looksLikeTensorFile<C: Collection>(_ head: C) -> Bool where C.Element == UInt8, C.Index == Int {
        let h = Array(head.prefix(9))
        if h.count >= 2 && h[0] == 0x1f && h[1] == 0x8b { return true }
        guard h.count == 9 else { return false }
        return h[8] == UInt8(ascii: "{") && h[0..<8].contains(0)
    }

    /// Reads a tensor file from a path ("-" for stdin).
    public static func read(path: String?, expectFormat: String? = nil) throws -> TensorFile {
        let source = try FileSource.open(path)
        return try read(from: source, name: source.name, expectFormat: expectFormat)
    }

    /// Reads exactly `count` bytes, or returns nil when the data ends first.
    /// The count comes from the header, which may be corrupt: beyond 64 MiB,
    /// memory grows with the data actually read, so a header that claims
    /// petabytes fails as "past the end" instead of crashing on allocation.
    static func readExactly(_ reader: ByteSource, count: Int) throws -> [UInt8]? {
        let pieceSize = 1 << 26
        func piece(_ size: Int) throws -> [UInt8]? {
            var got = 0
            let bytes = try [UInt8](unsafeUninitializedCapacity: size) { buf, initialized in
                got = try reader.readFully(into: UnsafeMutableRawBufferPointer(buf))
                // Zero what was not read so the array is initialised.
                UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buf)[got...])
                    .initializeMemory(as: UInt8.self, repeating: 0)
                initialized = size
            }
            return got == size ? bytes : nil
        }
        guard var data = try piece(min(count, pieceSize)) else { return nil }
        while data.count < count {
            guard let more = try piece(min(count - data.count, pieceSize)) else { return nil }
            data.append(contentsOf: more)
        }
        return data
    }

    static func outOfRange(_ file: String, _ tensor: String) -> CharRNNError {
        CharRNNError("\(file): tensor '\(tensor)' lies past the end of the data (offsets out of range or file truncated)",
                     hint: "the file is corrupt or cut short")
    }

    public static let tokensFormat = "charrnn.tokens.v1"
    public static let checkpointFormat = "charrnn.checkpoint.v1"
    static let knownFormats: Set<String> = [tokensFormat, checkpointFormat]

    static func describeFormat(_ f: String) -> String {
        switch f {
        case tokensFormat: return "tokens file"
        case checkpointFormat: return "checkpoint"
        default: return "'\(f)' file"
        }
    }
}

/// A source that yields some already-read bytes first.
final class PrefixedSource: ByteSource {
    private var prefix: [UInt8]
    private var used = 0
    private let source: ByteSource

    init(prefix: [UInt8], source: ByteSource) {
        self.prefix = prefix
        self.source = source
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if used < prefix.count {
            let n = min(buffer.count, prefix.count - used)
            prefix.withUnsafeBytes { p in
                buffer.baseAddress!.copyMemory(from: p.baseAddress! + used, byteCount: n)
            }
            used += n
            return n
        }
        return try source.read(into: buffer)
    }
}
