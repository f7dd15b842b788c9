// Reading tensor files (charrnn-files(5)), in the steps the format has:
// sniff gzip, read the header length and the JSON header, check each
// entry's dtype, shape and offsets, check the format tag, then read the
// data in offset order and make sure nothing follows it. Every failure is
// a CharRNNError naming the file and what is wrong with it.

/// One tensor as the header describes it.
struct TensorEntry {
    var name: String
    var dtype: DType
    var shape: [Int]
    var start: Int
    var end: Int
}

struct TensorFileReader {
    let name: String
    /// The format the caller needs, for the message when this is text.
    let expectFormat: String?
    private let reader: ByteSource
    private let gzip: GzipSource?

    private static let notTensorFile = "give a tokens file from rnn-encode or a checkpoint from rnn-train"

    /// Opens `raw`, decompressing it when it starts with the gzip magic.
    init(raw: ByteSource, name: String, expectFormat: String?) throws {
        self.name = name
        self.expectFormat = expectFormat
        var magic = [UInt8](repeating: 0, count: 2)
        let got = try magic.withUnsafeMutableBytes { try raw.readFully(into: $0) }
        if got == 0 {
            throw CharRNNError("\(name) is empty", hint: "expected a charrnn tensor file (tokens or checkpoint)")
        }
        if got == 2 && magic == [0x1f, 0x8b] {
            let gzip = try GzipSource(source: raw, name: name, prefix: magic)
            self.gzip = gzip
            reader = PrefixedSource(prefix: [], source: gzip)
        } else {
            gzip = nil
            reader = PrefixedSource(prefix: Array(magic[0..<got]), source: raw)
        }
    }

    /// The header: its length, then a JSON object.
    func readHeader() throws -> [(String, JSONValue)] {
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        let n = try lengthBytes.withUnsafeMutableBytes { try reader.readFully(into: $0) }
        if n < 8 {
            if gzip == nil && looksLikeText(Array(lengthBytes[0..<n])) { throw textGiven() }
            throw CharRNNError("\(name) is not a charrnn tensor file (too short for a safetensors header)",
                               hint: Self.notTensorFile)
        }
        let headerLength = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        if headerLength == 0 || headerLength > UInt64(TensorFile.maxHeaderBytes) {
            if gzip == nil && looksLikeText(lengthBytes) { throw textGiven() }
            throw CharRNNError("\(name) is not a charrnn tensor file (header length \(headerLength) is out of range)",
                               hint: Self.notTensorFile)
        }
        var header = [UInt8](repeating: 0, count: Int(headerLength))
        let h = try header.withUnsafeMutableBytes { try reader.readFully(into: $0) }
        if h < header.count {
            throw CharRNNError("\(name): header length \(headerLength) is larger than the data (\(h) bytes follow)",
                               hint: "the file is truncated or not a tensor file")
        }
        if header.first != UInt8(ascii: "{") {
            throw CharRNNError("\(name) is not a charrnn tensor file (no JSON header)", hint: Self.notTensorFile)
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
        return members
    }

    /// Splits the header into tensor entries and metadata, checking each.
    func entries(of members: [(String, JSONValue)]) throws -> (entries: [TensorEntry], metadata: [(String, String)]) {
        var entries: [TensorEntry] = []
        var metadata: [(String, String)] = []
        var seen = Set<String>()
        for (key, value) in members {
            if !seen.insert(key).inserted {
                throw corrupt("the header names '\(key)' twice")
            }
            if key == "__metadata__" {
                guard let meta = value.objectValue else { throw corrupt("__metadata__ is not an object") }
                for (k, v) in meta {
                    guard let s = v.stringValue else { throw corrupt("metadata value '\(k)' is not a string") }
                    metadata.append((k, s))
                }
            } else {
                entries.append(try entry(key, value))
            }
        }
        return (entries, metadata)
    }

    private func entry(_ key: String, _ value: JSONValue) throws -> TensorEntry {
        guard let dtypeText = value["dtype"]?.stringValue else { throw corrupt("tensor '\(key)' has no dtype") }
        guard let dtype = DType(rawValue: dtypeText) else {
            throw CharRNNError("\(name): tensor '\(key)' has dtype \(dtypeText), which charrnn does not read",
                               hint: "supported: " + DType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let shapeItems = value["shape"]?.arrayValue else { throw corrupt("tensor '\(key)' has no shape") }
        var shape: [Int] = []
        var elements = 1
        for item in shapeItems {
            guard let d = item.intValue, d >= 0 else {
                throw corrupt("tensor '\(key)' has an invalid shape dimension \(item.text)")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            if overflow { throw corrupt("tensor '\(key)' shape overflows") }
            elements = product
            shape.append(d)
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
              let start = offsets[0].intValue, let end = offsets[1].intValue, start >= 0, end >= start else {
            throw corrupt("tensor '\(key)' has invalid data_offsets")
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
        if overflow || bytes != end - start {
            throw corrupt("tensor '\(key)' shape \(shape) needs \(overflow ? "too many" : String(bytes)) bytes but its offsets hold \(end - start)")
        }
        return TensorEntry(name: key, dtype: dtype, shape: shape, start: start, end: end)
    }

    /// Checks the `format` tag against the one the caller needs (or, with
    /// none needed, that it is a format charrnn knows).
    func checkFormat(_ metadata: [(String, String)], expect expectFormat: String?) throws {
        let format = metadata.first(where: { $0.0 == "format" })?.1
        if let expectFormat {
            guard let format else {
                throw CharRNNError("\(name) has no charrnn format tag",
                                   hint: "expected a \(TensorFile.describeFormat(expectFormat)); give one written by charrnn")
            }
            if format != expectFormat {
                if TensorFile.knownFormats.contains(format) {
                    throw CharRNNError("\(name) is a \(TensorFile.describeFormat(format)), not a \(TensorFile.describeFormat(expectFormat))",
                                       hint: "give a \(TensorFile.describeFormat(expectFormat))")
                }
                throw CharRNNError("\(name) has unknown format '\(format)'",
                                   hint: "it was written by a newer or other program; expected \(expectFormat)")
            }
        } else if let format, !TensorFile.knownFormats.contains(format) {
            throw CharRNNError("\(name) has unknown format '\(format)'",
                               hint: "it was written by a newer or other program")
        }
    }

    /// Reads every entry's bytes, in offset order, then checks that the
    /// stream ends there (for gzip, reading to the end checks the CRC).
    func readData(_ entries: [TensorEntry]) throws -> [[UInt8]] {
        let order = entries.indices.sorted { (entries[$0].start, entries[$0].end) < (entries[$1].start, entries[$1].end) }
        var position = 0
        var tensorBytes = [[UInt8]](repeating: [], count: entries.count)
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        for index in order {
            let e = entries[index]
            if e.start < position { throw corrupt("tensor '\(e.name)' overlaps another tensor's data") }
            // Skip a gap.
            while position < e.start {
                let want = min(scratch.count, e.start - position)
                let got = try scratch.withUnsafeMutableBytes {
                    try reader.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]))
                }
                if got < want { throw TensorFile.outOfRange(name, e.name) }
                position += got
            }
            guard let data = try TensorFile.readExactly(reader, count: e.end - e.start) else {
                throw TensorFile.outOfRange(name, e.name)
            }
            tensorBytes[index] = data
            position = e.end
        }
        let extra = try scratch.withUnsafeMutableBytes { try reader.read(into: $0) }
        if extra > 0 { throw corrupt("unexpected data after the last tensor") }
        if let gzip, gzip.hasTrailingInput { throw corrupt("unexpected data after the compressed stream") }
        return tensorBytes
    }

    /// Printable text: what a user gives when they have not encoded it.
    /// (Printable ASCII, whitespace, and bytes that may be part of UTF-8.)
    private func looksLikeText(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { b in
            (0x20..<0x7F).contains(b) || b == 0x09 || b == 0x0A || b == 0x0D || (0x80...0xF4).contains(b) && b != 0xC0 && b != 0xC1
        }
    }

    private func textGiven() -> CharRNNError {
        switch expectFormat {
        case TensorFile.checkpointFormat?:
            return CharRNNError("\(name) looks like text, not a checkpoint",
                                hint: "train a model on it first (rnn-train \(name) -o cv), then give the checkpoint or its folder (cv)")
        default:
            return CharRNNError("\(name) looks like text, not a tokens file",
                                hint: "make one with rnn-encode \(name) -o FILE (rnn-train also reads text directly)")
        }
    }

    private func corrupt(_ what: String) -> CharRNNError {
        CharRNNError("\(name): \(what)", hint: "the file is corrupt")
    }
}
