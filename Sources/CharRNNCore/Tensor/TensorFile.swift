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
        // Sniff the gzip magic.
        var magic = [UInt8](repeating: 0, count: 2)
        let got = try magic.withUnsafeMutableBytes { try raw.readFully(into: $0) }
        if got == 0 {
            throw CharRNNError("\(name) is empty", hint: "expected a charrnn tensor file (tokens or checkpoint)")
        }
        let source: ByteSource
        var gzip: GzipSource?
        var prefix: [UInt8] = []
        if got == 2 && magic == [0x1f, 0x8b] {
            gzip = try GzipSource(source: raw, name: name, prefix: magic)
            source = gzip!
        } else {
            source = raw
            prefix = Array(magic[0..<got])
        }
        let reader = PrefixedSource(prefix: prefix, source: source)

        // Header length.
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        let n = try lengthBytes.withUnsafeMutableBytes { try reader.readFully(into: $0) }
        if n < 8 {
            throw CharRNNError("\(name) is not a charrnn tensor file (too short for a safetensors header)",
                               hint: "give a tokens file from rnn-encode or a checkpoint from rnn-train")
        }
        let headerLength = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        if headerLength == 0 || headerLength > UInt64(maxHeaderBytes) {
            throw CharRNNError("\(name) is not a charrnn tensor file (header length \(headerLength) is out of range)",
                               hint: "give a tokens file from rnn-encode or a checkpoint from rnn-train")
        }
        var header = [UInt8](repeating: 0, count: Int(headerLength))
        let h = try header.withUnsafeMutableBytes { try reader.readFully(into: $0) }
        if h < header.count {
            throw CharRNNError("\(name): header length \(headerLength) is larger than the data (\(h) bytes follow)",
                               hint: "the file is truncated or not a tensor file")
        }
        if header.first != UInt8(ascii: "{") {
            throw CharRNNError("\(name) is not a charrnn tensor file (no JSON header)",
                               hint: "give a tokens file from rnn-encode or a checkpoint from rnn-train")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(header)
        } catch let e as JSONError {
            throw CharRNNError("\(name): the safetensors header is not valid JSON (\(e.message))",
                               hint: "the file is corrupt")
        }
        guard let members = json.objectValue else {
            throw CharRNNError("\(name): the safetensors header is not a JSON object", hint: "the file is corrupt")
        }

        // Parse entries.
        struct Entry { var name: String; var dtype: DType; var shape: [Int]; var start: Int; var end: Int }
        var entries: [Entry] = []
        var metadata: [(String, String)] = []
        var seen = Set<String>()
        for (key, value) in members {
            if !seen.insert(key).inserted {
                throw CharRNNError("\(name): the header names '\(key)' twice", hint: "the file is corrupt")
            }
            if key == "__metadata__" {
                guard let meta = value.objectValue else {
                    throw CharRNNError("\(name): __metadata__ is not an object", hint: "the file is corrupt")
                }
                for (k, v) in meta {
                    guard let s = v.stringValue else {
                        throw CharRNNError("\(name): metadata value '\(k)' is not a string", hint: "the file is corrupt")
                    }
                    metadata.append((k, s))
                }
                continue
            }
            guard let dtypeText = value["dtype"]?.stringValue else {
                throw CharRNNError("\(name): tensor '\(key)' has no dtype", hint: "the file is corrupt")
            }
            guard let dtype = DType(rawValue: dtypeText) else {
                throw CharRNNError("\(name): tensor '\(key)' has dtype \(dtypeText), which charrnn does not read",
                                   hint: "supported: " + DType.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard let shapeItems = value["shape"]?.arrayValue else {
                throw CharRNNError("\(name): tensor '\(key)' has no shape", hint: "the file is corrupt")
            }
            var shape: [Int] = []
            var elements = 1
            for item in shapeItems {
                guard let d = item.intValue, d >= 0 else {
                    throw CharRNNError("\(name): tensor '\(key)' has an invalid shape dimension \(item.text)",
                                       hint: "the file is corrupt")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                if overflow {
                    throw CharRNNError("\(name): tensor '\(key)' shape overflows", hint: "the file is corrupt")
                }
                elements = product
                shape.append(d)
            }
            guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
                  let start = offsets[0].intValue, let end = offsets[1].intValue, start >= 0, end >= start else {
                throw CharRNNError("\(name): tensor '\(key)' has invalid data_offsets", hint: "the file is corrupt")
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            if overflow || bytes != end - start {
                throw CharRNNError("\(name): tensor '\(key)' shape \(shape) needs \(overflow ? "too many" : String(bytes)) bytes but its offsets hold \(end - start)",
                                   hint: "the file is corrupt")
            }
            entries.append(Entry(name: key, dtype: dtype, shape: shape, start: start, end: end))
        }
        let format = metadata.first(where: { $0.0 == "format" })?.1
        if let expectFormat {
            guard let format else {
                throw CharRNNError("\(name) has no charrnn format tag", hint: "expected a \(describeFormat(expectFormat)); give one written by charrnn")
            }
            if format != expectFormat {
                if knownFormats.contains(format) {
                    throw CharRNNError("\(name) is a \(describeFormat(format)), not a \(describeFormat(expectFormat))",
                                       hint: "give a \(describeFormat(expectFormat))")
                }
                throw CharRNNError("\(name) has unknown format '\(format)'",
                                   hint: "it was written by a newer or other program; expected \(expectFormat)")
            }
        } else if let format, !knownFormats.contains(format) {
            throw CharRNNError("\(name) has unknown format '\(format)'",
                               hint: "it was written by a newer or other program")
        }

        if headerOnly {
            return TensorFile(tensors: entries.map { e in
                (e.name, Tensor(dtype: e.dtype, shape: [0], bytes: []))
            }.map { ($0.0, $0.1) }, metadata: metadata, shapes: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.shape) }))
        }
        // Data: read in offset order, straight into each tensor.
        let order = entries.indices.sorted { (entries[$0].start, entries[$0].end) < (entries[$1].start, entries[$1].end) }
        var position = 0
        var tensorBytes = [[UInt8]](repeating: [], count: entries.count)
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        for index in order {
            let e = entries[index]
            if e.start < position {
                throw CharRNNError("\(name): tensor '\(e.name)' overlaps another tensor's data", hint: "the file is corrupt")
            }
            // Skip a gap.
            while position < e.start {
                let want = min(scratch.count, e.start - position)
                let got = try scratch.withUnsafeMutableBytes { try reader.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
                if got < want { throw outOfRange(name, e.name) }
                position += got
            }
            guard let data = try readExactly(reader, count: e.end - e.start) else { throw outOfRange(name, e.name) }
            tensorBytes[index] = data
            position = e.end
        }
        // The stream must end here: no trailing data; for gzip, read to the
        // end so the CRC is checked.
        let extra = try scratch.withUnsafeMutableBytes { try reader.read(into: $0) }
        if extra > 0 {
            throw CharRNNError("\(name): unexpected data after the last tensor", hint: "the file is corrupt")
        }
        if let gzip, gzip.hasTrailingInput {
            throw CharRNNError("\(name): unexpected data after the compressed stream", hint: "the file is corrupt")
        }
        var tensors: [(name: String, tensor: Tensor)] = []
        for (i, e) in entries.enumerated() {
            tensors.append((e.name, Tensor(dtype: e.dtype, shape: e.shape, bytes: tensorBytes[i])))
        }
        return TensorFile(tensors: tensors, metadata: metadata)
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
