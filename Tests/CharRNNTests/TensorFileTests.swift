// Tensor files: round trips for every dtype (gzip and plain, memory and
// disk), the safetensors layout checked by an independent reader, and
// every way a damaged or foreign file is rejected.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import Foundation
import XCTest

// MARK: Building test data

/// Little-endian bytes of fixed-width integers.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    var out: [UInt8] = []
    for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    return out
}

/// One tensor of every dtype, with edge values, plus empty and scalar ones.
func sampleTensors() -> [(name: String, tensor: Tensor)] {
    let halves: [Float16] = [0, -0.0, 1, -2.5, 65504, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, 0.333]
    let floats: [Float] = [0, -0.0, 1.5, -3.25e-38, .greatestFiniteMagnitude, .infinity, -.infinity, .nan,
                           .leastNonzeroMagnitude, .pi]
    return [
        ("u8", Tensor(dtype: .U8, shape: [5], bytes: [0, 1, 127, 128, 255])),
        ("u16", Tensor(dtype: .U16, shape: [2, 2], bytes: littleEndianBytes([UInt16(0), 1, 0x1234, 0xFFFF]))),
        ("u32", Tensor(dtype: .U32, shape: [3], bytes: littleEndianBytes([UInt32(0), 0xDEAD_BEEF, .max]))),
        ("i32", Tensor(dtype: .I32, shape: [2, 3], bytes: littleEndianBytes([Int32.min, -1, 0, 1, .max, 42]))),
        ("f16", Tensor(dtype: .F16, shape: [10], bytes: littleEndianBytes(halves.map(\.bitPattern)))),
        ("f32", Tensor(dtype: .F32, shape: [5, 2], bytes: littleEndianBytes(floats.map(\.bitPattern)))),
        ("empty.f32", Tensor(dtype: .F32, shape: [0], bytes: [])),
        ("empty.u8", Tensor(dtype: .U8, shape: [0], bytes: [])),
        ("empty.3x0x2.u16", Tensor(dtype: .U16, shape: [3, 0, 2], bytes: [])),
        ("scalar.i32", Tensor(dtype: .I32, shape: [], bytes: littleEndianBytes([Int32(-7)]))),
    ]
}

/// Metadata whose values need JSON escaping.
let sampleMetadata: [(String, String)] = [
    ("format", TensorFile.checkpointFormat),
    ("vocab", "# charrnn vocab v1 unit=char\n0\t3\t\\n\n1\t1\t\"\n"),
    ("notes", "quotes \" backslash \\ tab \t cr \r soh \u{1} del \u{7F} é 漢 😀 \u{2028}"),
    ("empty", ""),
    ("json", #"{"model":"lstm","rnn_size":128,"big":123456789012345678901234567890}"#),
]

func writeToMemory(_ file: TensorFile, compressed: Bool) throws -> [UInt8] {
    let sink = MemorySink()
    try file.write(to: sink, compressed: compressed)
    return sink.bytes
}

func readFromMemory(_ bytes: [UInt8], name: String = "test.ckpt", expectFormat: String? = nil) throws -> TensorFile {
    try TensorFile.read(from: MemorySource(bytes), name: name, expectFormat: expectFormat)
}

func gzipBytes(_ bytes: [UInt8]) throws -> [UInt8] {
    let sink = MemorySink()
    let gzip = try GzipSink(next: sink)
    try gzip.write(bytes)
    try gzip.finish()
    return sink.bytes
}

/// A hand-made safetensors file: length, header (padded with spaces unless
/// `pad` is false) and data. `length` overrides the length field.
func handMade(_ header: String, data: [UInt8] = [], pad: Bool = true, length: UInt64? = nil) -> [UInt8] {
    var headerBytes = Array(header.utf8)
    while pad && headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var out = littleEndianBytes([length ?? UInt64(headerBytes.count)])
    out += headerBytes
    out += data
    return out
}

func assertSameContents(_ a: TensorFile, _ b: TensorFile, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.tensors.map(\.name), b.tensors.map(\.name), file: file, line: line)
    for (x, y) in zip(a.tensors, b.tensors) {
        XCTAssertEqual(x.tensor.dtype, y.tensor.dtype, x.name, file: file, line: line)
        XCTAssertEqual(x.tensor.shape, y.tensor.shape, x.name, file: file, line: line)
        XCTAssertTrue(x.tensor.bytes == y.tensor.bytes, "bytes of \(x.name) differ", file: file, line: line)
    }
    XCTAssertEqual(a.metadata.map(\.0), b.metadata.map(\.0), file: file, line: line)
    XCTAssertEqual(a.metadata.map(\.1), b.metadata.map(\.1), file: file, line: line)
}

/// A source that returns the given pieces one read at a time (as a pipe
/// may), splitting a piece further only when the buffer is smaller.
final class PiecewiseSource: ByteSource {
    private var pieces: [[UInt8]]
    private var offset = 0

    init(_ pieces: [[UInt8]]) { self.pieces = pieces.filter { !$0.isEmpty } }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let piece = pieces.first, buffer.count > 0 else { return 0 }
        let n = min(buffer.count, piece.count - offset)
        piece.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        if offset == piece.count {
            pieces.removeFirst()
            offset = 0
        }
        return n
    }
}

// MARK: An independent safetensors reader

/// A safetensors file parsed without the library: Foundation's JSON parser
/// and byte arithmetic only. Checks the layout rules as it goes.
struct IndependentSafetensors {
    var headerLength: Int
    var header: [String: Any]
    /// Tensor names ordered by their data offsets.
    var namesInDataOrder: [String]
    var tensors: [String: (dtype: String, shape: [Int], bytes: [UInt8])]
    var metadata: [String: String]

    static func intValue(_ any: Any) -> Int? {
        if let n = any as? NSNumber { return n.intValue }
        return any as? Int
    }

    init(_ raw: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        guard raw.count >= 8 else { throw CharRNNError("shorter than 8 bytes") }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(raw[i]) << (8 * UInt64(i)) }
        headerLength = Int(length)
        XCTAssertEqual((8 + headerLength) % 8, 0, "header not padded to a multiple of 8", file: file, line: line)
        guard 8 + headerLength <= raw.count else { throw CharRNNError("header length past the end") }
        let headerBytes = Array(raw[8..<(8 + headerLength)])
        XCTAssertEqual(headerBytes.first, UInt8(ascii: "{"), "header must start with '{'", file: file, line: line)
        // Padding is spaces only, after the closing brace.
        let lastBrace = headerBytes.lastIndex(of: UInt8(ascii: "}")) ?? 0
        XCTAssertTrue(headerBytes[(lastBrace + 1)...].allSatisfy { $0 == 0x20 }, "padding must be spaces", file: file, line: line)
        XCTAssertLessThan(headerBytes.count - lastBrace - 1, 8, "padding longer than needed", file: file, line: line)
        guard let object = try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] else {
            throw CharRNNError("header is not a JSON object")
        }
        header = object
        metadata = [:]
        if let meta = object["__metadata__"] {
            guard let dict = meta as? [String: Any] else { throw CharRNNError("__metadata__ is not an object") }
            for (key, value) in dict {
                guard let s = value as? String else { throw CharRNNError("metadata \(key) is not a string") }
                metadata[key] = s
            }
        }
        let data = Array(raw[(8 + headerLength)...])
        var entries: [(name: String, dtype: String, shape: [Int], start: Int, end: Int)] = []
        for (name, value) in object where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeItems = info["shape"] as? [Any], let offsetItems = info["data_offsets"] as? [Any] else {
                throw CharRNNError("entry \(name) is malformed")
            }
            let shape = shapeItems.compactMap(IndependentSafetensors.intValue)
            let offsets = offsetItems.compactMap(IndependentSafetensors.intValue)
            guard shape.count == shapeItems.count, offsets.count == 2 else { throw CharRNNError("entry \(name) has bad numbers") }
            XCTAssertEqual(Set(info.keys), ["dtype", "shape", "data_offsets"], file: file, line: line)
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        entries.sort { $0.start < $1.start || ($0.start == $1.start && $0.end < $1.end) }
        // Contiguous from 0, in order, ending exactly at the end of the data.
        var position = 0
        tensors = [:]
        for e in entries {
            XCTAssertEqual(e.start, position, "\(e.name) does not start where the previous tensor ends", file: file, line: line)
            let size = ["U8": 1, "U16": 2, "F16": 2, "U32": 4, "I32": 4, "F32": 4][e.dtype] ?? 0
            XCTAssertNotEqual(size, 0, "unknown dtype \(e.dtype)", file: file, line: line)
            XCTAssertEqual(e.end - e.start, e.shape.reduce(1, *) * size, "\(e.name) size disagrees with its shape", file: file, line: line)
            guard e.end <= data.count, e.start <= e.end else { throw CharRNNError("\(e.name) lies past the data") }
            tensors[e.name] = (e.dtype, e.shape, Array(data[e.start..<e.end]))
            position = e.end
        }
        XCTAssertEqual(position, data.count, "data after the last tensor", file: file, line: line)
        namesInDataOrder = entries.map(\.name)
    }
}

final class TensorFileTests: XCTestCase {
    // MARK: Round trips

    func testRoundTripEveryDTypeThroughMemory() throws {
        let original = TensorFile(tensors: sampleTensors(), metadata: sampleMetadata)
        XCTAssertEqual(Set(original.tensors.map(\.tensor.dtype)), Set(DType.allCases))
        for compressed in [true, false] {
            let bytes = try writeToMemory(original, compressed: compressed)
            XCTAssertEqual(bytes.starts(with: [0x1f, 0x8b]), compressed, "gzip magic only when compressed")
            let back = try readFromMemory(bytes)
            assertSameContents(original, back)
            XCTAssertEqual(back.meta("notes"), sampleMetadata[2].1)
            XCTAssertNil(back.meta("absent"))
        }
    }

    func testRoundTripEveryDTypeThroughAFile() throws {
        let folder = try makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let original = TensorFile(tensors: sampleTensors(), metadata: sampleMetadata)
        for compressed in [true, false] {
            let path = folder + "/model.ckpt"
            try original.write(toPath: path, compressed: compressed)
            XCTAssertEqual(try folderListing(folder), ["model.ckpt"], "no temporary file left behind")
            let back = try TensorFile.read(path: path, expectFormat: TensorFile.checkpointFormat)
            assertSameContents(original, back)
            // The file on disk is exactly what the memory writer produces.
            let onDisk = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let inMemory = try writeToMemory(original, compressed: compressed)
            if compressed {
                XCTAssertEqual(try gunzipWithTool(onDisk), try gunzipWithTool(inMemory))
            } else {
                XCTAssertEqual(onDisk, inMemory)
            }
        }
    }

    func testValuesDecodeToTheNumbersWritten() throws {
        let t = Dictionary(uniqueKeysWithValues: sampleTensors().map { ($0.name, $0.tensor) })
        XCTAssertEqual(t["u8"]!.integers(), [0, 1, 127, 128, 255])
        XCTAssertEqual(t["u16"]!.integers(), [0, 1, 0x1234, 0xFFFF])
        XCTAssertEqual(t["u32"]!.integers(), [0, 0xDEAD_BEEF, Int(UInt32.max)])
        XCTAssertEqual(t["i32"]!.integers(), [Int(Int32.min), -1, 0, 1, Int(Int32.max), 42])
        XCTAssertEqual(t["scalar.i32"]!.integers(), [-7])
        XCTAssertEqual(t["scalar.i32"]!.count, 1)
        XCTAssertEqual(t["empty.3x0x2.u16"]!.count, 0)
        let halves = t["f16"]!.floats()
        XCTAssertEqual(Array(halves[0..<7]), [0, 0, 1, -2.5, 65504, .infinity, -.infinity])
        XCTAssertEqual(halves[1].sign, .minus)
        XCTAssertTrue(halves[7].isNaN)
        XCTAssertEqual(halves[8], Float(Float16.leastNonzeroMagnitude))
        XCTAssertEqual(halves[9], Float(Float16(0.333)))
        let floats = t["f32"]!.floats()
        XCTAssertEqual(floats[2], 1.5)
        XCTAssertEqual(floats[3], -3.25e-38)
        XCTAssertEqual(floats[4], .greatestFiniteMagnitude)
        XCTAssertTrue(floats[7].isNaN)
        XCTAssertEqual(floats[9], .pi)
        XCTAssertEqual(Tensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3]).floats(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t["empty.f32"]!.floats(), [])
    }

    func testEmptyFileOfTensorsAndMetadataOnly() throws {
        for original in [TensorFile(), TensorFile(metadata: [("format", TensorFile.tokensFormat)])] {
            for compressed in [true, false] {
                let back = try readFromMemory(try writeToMemory(original, compressed: compressed))
                XCTAssertEqual(back.tensors.count, 0)
                assertSameContents(original, back)
            }
        }
    }

    /// A tensor above 100 MB, as large checkpoints are.
    func testLargeTensorRoundTrip() throws {
        let count = 26_000_000
        let values = [Float](unsafeUninitializedCapacity: count) { buf, n in
            var state: UInt32 = 12345
            for i in 0..<count {
                // Mostly repeating values with some noise: compresses, but not to nothing.
                state = state &* 1_664_525 &+ 1_013_904_223
                buf[i] = Float(i % 977) * 0.5 + ((state >> 28) == 0 ? Float(state >> 8) : 0)
            }
            n = count
        }
        let original = TensorFile(tensors: [("big", Tensor(floats: values, shape: [count / 1000, 1000])),
                                            ("after", Tensor(dtype: .U8, shape: [3], bytes: [7, 8, 9]))],
                                  metadata: [("format", TensorFile.checkpointFormat)])
        XCTAssertGreaterThanOrEqual(original.tensors[0].tensor.bytes.count, 100_000_000)

        // Uncompressed, through memory.
        let plain = try writeToMemory(original, compressed: false)
        XCTAssertEqual(plain.count, 8 + original.headerBytes().count + 4 * count + 3)
        assertSameContents(original, try readFromMemory(plain))

        // Compressed, through a file.
        let folder = try makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let path = folder + "/big.ckpt"
        try original.write(toPath: path)
        let back = try TensorFile.read(path: path)
        assertSameContents(original, back)
        XCTAssertEqual(back["big"]!.floats()[count - 1], values[count - 1])
        XCTAssertEqual(try folderListing(folder), ["big.ckpt"])
    }

    // MARK: Layout, checked independently

    func testLayoutMatchesSafetensors() throws {
        let original = TensorFile(tensors: sampleTensors(), metadata: sampleMetadata)
        for compressed in [true, false] {
            let written = try writeToMemory(original, compressed: compressed)
            let raw = compressed ? try gunzipWithTool(written) : written
            let parsed = try IndependentSafetensors(raw)
            XCTAssertEqual(parsed.namesInDataOrder.filter { parsed.tensors[$0]!.bytes.count > 0 },
                           original.tensors.map(\.name).filter { original[$0]!.bytes.count > 0 },
                           "data in the order the tensors were given")
            XCTAssertEqual(Set(parsed.tensors.keys), Set(original.tensors.map(\.name)))
            for (name, tensor) in original.tensors {
                let p = parsed.tensors[name]!
                XCTAssertEqual(p.dtype, tensor.dtype.rawValue, name)
                XCTAssertEqual(p.shape, tensor.shape, name)
                XCTAssertEqual(p.bytes, tensor.bytes, name)
            }
            XCTAssertEqual(parsed.metadata, Dictionary(uniqueKeysWithValues: sampleMetadata))
            XCTAssertEqual(parsed.headerLength, original.headerBytes().count)
        }
    }

    func testHeaderPaddingForEveryLengthModulo8() throws {
        // Names of growing length move the JSON length through every residue.
        for extra in 0..<16 {
            let name = "t" + String(repeating: "x", count: extra)
            let file = TensorFile(tensors: [(name, Tensor(dtype: .U8, shape: [1], bytes: [UInt8(extra)]))])
            let header = file.headerBytes()
            XCTAssertEqual((8 + header.count) % 8, 0)
            let parsed = try IndependentSafetensors(try writeToMemory(file, compressed: false))
            XCTAssertEqual(parsed.tensors[name]?.bytes, [UInt8(extra)])
            XCTAssertEqual(try readFromMemory(try writeToMemory(file, compressed: true))[name]?.bytes, [UInt8(extra)])
        }
    }

    func testGzipToolAcceptsTheFile() throws {
        let bytes = try writeToMemory(TensorFile(tensors: sampleTensors(), metadata: sampleMetadata), compressed: true)
        let (status, _, err) = try runProgram("/bin/gzip", ["-t"], stdin: bytes)
        XCTAssertEqual(status, 0, String(decoding: err, as: UTF8.self))
        // The library's own decompressor gives the same bytes as gzip.
        let viaLibrary = try GzipSource(source: MemorySource(bytes), name: "x").readAll()
        XCTAssertEqual(viaLibrary, try gunzipWithTool(bytes))
    }

    /// Files written by other programs: unpadded header, tensors listed out of
    /// data order, unknown metadata keys, no metadata at all.
    func testAcceptsOtherValidLayouts() throws {
        let header = #"{"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]},"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"__metadata__":{"format":"charrnn.tokens.v1","other":"x"}}"#
        for raw in [handMade(header, data: [1, 2, 3, 4, 5], pad: false), handMade(header, data: [1, 2, 3, 4, 5])] {
            for bytes in [raw, try gzipBytes(raw)] {
                let file = try readFromMemory(bytes, expectFormat: TensorFile.tokensFormat)
                XCTAssertEqual(file.tensors.map(\.name), ["b", "a"])
                XCTAssertEqual(file["a"]?.bytes, [1, 2, 3])
                XCTAssertEqual(file["b"]?.bytes, [4, 5])
                XCTAssertEqual(file.meta("other"), "x")
            }
        }
        let bare = try readFromMemory(handMade(#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 128, 63]))
        XCTAssertEqual(bare["t"]?.floats(), [1])
        XCTAssertTrue(bare.metadata.isEmpty)
    }

    // MARK: Rejections

    /// Runs a rejection on the plain bytes and on their gzip-compressed form.
    func assertRejected(_ raw: [UInt8], _ words: [String], expectFormat: String? = nil,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        for bytes in [raw, try gzipBytes(raw)] {
            assertThrowsCharRNNError(["bad.ckpt"] + words, file: file, line: line) {
                try readFromMemory(bytes, name: "bad.ckpt", expectFormat: expectFormat)
            }
        }
    }

    let validU8Entry = #""t":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}"#

    func testRejectsTextThatIsNoTensorFile() throws {
        // Plain text says so; compressed text is only "not a tensor file"
        // (rnn-encode could not read it either).
        for (text, words) in [("The quick brown fox jumps over the lazy dog.\n", ["looks like text, not a", "rnn-encode"]),
                              ("short", ["looks like text"]), ("naïve café ünïcödé text", ["looks like text"])] {
            assertThrowsCharRNNError(["bad.ckpt"] + words) { try readFromMemory(Array(text.utf8), name: "bad.ckpt") }
            assertThrowsCharRNNError(["bad.ckpt", "not a charrnn tensor file"]) {
                try readFromMemory(try gzipBytes(Array(text.utf8)), name: "bad.ckpt")
            }
        }
        try assertRejected([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x7B], ["not a charrnn tensor file", "out of range"])
        assertThrowsCharRNNError(["bad.ckpt", "looks like text, not a checkpoint", "rnn-train bad.ckpt"]) {
            try readFromMemory(Array("First Citizen:\nBefore we proceed".utf8), name: "bad.ckpt", expectFormat: TensorFile.checkpointFormat)
        }
        try assertRejected([0x1f], ["not a charrnn tensor file"])
        var random = SplitMix64(seed: 7)
        let noise = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &random) }
        assertThrowsCharRNNError(["bad.ckpt"]) { try readFromMemory(noise, name: "bad.ckpt") }
    }

    func testRejectsEmptyFile() {
        assertThrowsCharRNNError(["bad.ckpt", "is empty"]) { try readFromMemory([], name: "bad.ckpt") }
        // An empty gzip stream has no safetensors header.
        assertThrowsCharRNNError(["bad.ckpt", "not a charrnn tensor file"]) {
            try readFromMemory(try gzipBytes([]), name: "bad.ckpt")
        }
    }

    func testRejectsTruncatedGzip() throws {
        let bytes = try writeToMemory(TensorFile(tensors: sampleTensors(), metadata: sampleMetadata), compressed: true)
        for cut in [bytes.count / 2, bytes.count - 8, bytes.count - 1, 12] {
            assertThrowsCharRNNError(["bad.ckpt", "truncated"]) {
                try readFromMemory(Array(bytes[0..<cut]), name: "bad.ckpt")
            }
        }
        // A plain safetensors file cut short.
        let plain = try writeToMemory(TensorFile(tensors: sampleTensors(), metadata: sampleMetadata), compressed: false)
        assertThrowsCharRNNError(["bad.ckpt", "truncated"]) { try readFromMemory(Array(plain.dropLast(3)), name: "bad.ckpt") }
    }

    func testRejectsCRCMismatch() throws {
        var bytes = try writeToMemory(TensorFile(tensors: sampleTensors(), metadata: sampleMetadata), compressed: true)
        bytes[bytes.count - 8] ^= 0x01  // first byte of the CRC32 in the trailer
        assertThrowsCharRNNError(["bad.ckpt", "CRC mismatch"]) { try readFromMemory(bytes, name: "bad.ckpt") }
    }

    func testRejectsCorruptDeflateData() throws {
        var bytes = try writeToMemory(TensorFile(tensors: sampleTensors(), metadata: sampleMetadata), compressed: true)
        XCTAssertEqual(bytes[3], 0, "zlib writes a 10-byte gzip header without a name")
        bytes[10] = 0x07  // final block of type 3, which does not exist
        assertThrowsCharRNNError(["bad.ckpt", "corrupt compressed data"]) { try readFromMemory(bytes, name: "bad.ckpt") }
    }

    func testRejectsDataAfterTheCompressedStream() throws {
        let bytes = try writeToMemory(TensorFile(tensors: sampleTensors()), compressed: true)
        assertThrowsCharRNNError(["bad.ckpt", "after the compressed stream"]) {
            try readFromMemory(bytes + bytes, name: "bad.ckpt")
        }
    }

    /// Pipes deliver data in pieces; the reader must not depend on full reads.
    func testReadsFromASourceWithShortReads() throws {
        let original = TensorFile(tensors: sampleTensors(), metadata: sampleMetadata)
        for compressed in [true, false] {
            let bytes = try writeToMemory(original, compressed: compressed)
            for piece in [1, 3, 4096] {
                let pieces = stride(from: 0, to: bytes.count, by: piece).map { Array(bytes[$0..<min($0 + piece, bytes.count)]) }
                assertSameContents(original, try TensorFile.read(from: PiecewiseSource(pieces), name: "x"))
            }
        }
    }

    /// Data after the gzip stream is found even when the stream ends exactly
    /// where one read of the underlying source ends.
    func testRejectsDataAfterTheCompressedStreamAtAReadBoundary() throws {
        let bytes = try writeToMemory(TensorFile(tensors: sampleTensors()), compressed: true)
        let source = PiecewiseSource([Array(bytes[0..<2]), Array(bytes[2...]), Array("garbage".utf8)])
        assertThrowsCharRNNError(["bad.ckpt", "after the compressed stream"]) {
            try TensorFile.read(from: source, name: "bad.ckpt")
        }
        // Without the garbage the same pieces read fine.
        let clean = PiecewiseSource([Array(bytes[0..<2]), Array(bytes[2...])])
        XCTAssertEqual(try TensorFile.read(from: clean, name: "ok").tensors.count, sampleTensors().count)
    }

    func testRejectsHeaderLengths() throws {
        try assertRejected(handMade("{\(validU8Entry)}", data: [1, 2, 3, 4], length: 1000), ["header length 1000", "larger than the data"])
        try assertRejected(handMade("{\(validU8Entry)}", data: [1, 2, 3, 4], length: 1 << 63), ["header length 9223372036854775808", "out of range"])
        try assertRejected(handMade("{\(validU8Entry)}", data: [1, 2, 3, 4], length: UInt64.max), ["out of range"])
        try assertRejected(handMade("{\(validU8Entry)}", data: [1, 2, 3, 4], length: 0), ["header length 0", "out of range"])
    }

    func testRejectsBadJSON() throws {
        try assertRejected(handMade(#"{"t":{"dtype":"U8",}}"#), ["not valid JSON", "byte"])
        try assertRejected(handMade(#"{"t":{"dtype":"U8""#), ["not valid JSON"])
        try assertRejected(handMade("{\(validU8Entry)} x", data: [1, 2, 3, 4]), ["not valid JSON"])
        try assertRejected(handMade(#"[1, 2, 3]"#), ["not a charrnn tensor file", "JSON"])
        try assertRejected(handMade(#""a string""#), ["not a charrnn tensor file", "JSON"])
        try assertRejected(handMade(#"{"__metadata__":[1]}"#), ["__metadata__ is not an object"])
        try assertRejected(handMade(#"{"__metadata__":{"format":1}}"#), ["metadata value 'format' is not a string"])
    }

    func testRejectsBadOffsets() throws {
        let overlapping = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#
        try assertRejected(handMade(overlapping, data: Array(0..<8)), ["overlaps"])
        let same = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#
        try assertRejected(handMade(same, data: Array(0..<4)), ["overlaps"])
        let pastEnd = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#
        try assertRejected(handMade(pastEnd, data: Array(0..<6)), ["'b'", "past the end"])
        let farAway = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[1000,1004]}}"#
        try assertRejected(handMade(farAway, data: Array(0..<4)), ["past the end"])
        let huge = #"{"a":{"dtype":"U8","shape":[1125899906842624],"data_offsets":[0,1125899906842624]}}"#
        try assertRejected(handMade(huge, data: Array(0..<4)), ["past the end"])
        let backwards = #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#
        try assertRejected(handMade(backwards, data: Array(0..<4)), ["invalid data_offsets"])
        let negative = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[-4,0]}}"#
        try assertRejected(handMade(negative, data: Array(0..<4)), ["invalid data_offsets"])
        let oneOffset = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[4]}}"#
        try assertRejected(handMade(oneOffset, data: Array(0..<4)), ["invalid data_offsets"])
        let fractional = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4.0]}}"#
        try assertRejected(handMade(fractional, data: Array(0..<4)), ["invalid data_offsets"])
    }

    func testRejectsShapeMismatches() throws {
        let tooFew = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        try assertRejected(handMade(tooFew, data: Array(0..<8)), ["'a'", "needs 12 bytes", "hold 8"])
        let multiDim = #"{"a":{"dtype":"U16","shape":[2,3],"data_offsets":[0,6]}}"#
        try assertRejected(handMade(multiDim, data: Array(0..<6)), ["needs 12 bytes"])
        let negativeDim = #"{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#
        try assertRejected(handMade(negativeDim), ["invalid shape dimension -1"])
        let negativePair = #"{"a":{"dtype":"U8","shape":[-2,-2],"data_offsets":[0,4]}}"#
        try assertRejected(handMade(negativePair, data: Array(0..<4)), ["invalid shape dimension -2"])
        let textDim = #"{"a":{"dtype":"U8","shape":["4"],"data_offsets":[0,4]}}"#
        try assertRejected(handMade(textDim, data: Array(0..<4)), ["invalid shape dimension"])
        let overflow = #"{"a":{"dtype":"U8","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,0]}}"#
        try assertRejected(handMade(overflow), ["overflows"])
        let noShape = #"{"a":{"dtype":"U8","data_offsets":[0,0]}}"#
        try assertRejected(handMade(noShape), ["'a' has no shape"])
        let noDType = #"{"a":{"shape":[0],"data_offsets":[0,0]}}"#
        try assertRejected(handMade(noDType), ["'a' has no dtype"])
        let notAnObject = #"{"a":5}"#
        try assertRejected(handMade(notAnObject), ["'a'"])
    }

    func testRejectsUnknownDTypes() throws {
        for dtype in ["F64", "Q4", "BF16", "u8", ""] {
            let header = #"{"a":{"dtype":"\#(dtype)","shape":[1],"data_offsets":[0,8]}}"#
            try assertRejected(handMade(header, data: Array(0..<8)), ["dtype \(dtype)", "does not read", "F32"])
        }
    }

    func testRejectsUnknownAndWrongFormats() throws {
        let unknown = handMade(#"{"__metadata__":{"format":"charrnn.tokens.v2"},\#(validU8Entry)}"#, data: [1, 2, 3, 4])
        try assertRejected(unknown, ["unknown format 'charrnn.tokens.v2'"])
        try assertRejected(unknown, ["unknown format 'charrnn.tokens.v2'"], expectFormat: TensorFile.tokensFormat)

        let tokens = TokensFile(vocab: Vocab(unit: .char, symbols: [97, 98], counts: [1, 1]),
                                tokens: Tensor(dtype: .U8, shape: [2], bytes: [0, 1]))
        let bytes = try writeToMemory(tokens.tensorFile, compressed: true)
        assertThrowsCharRNNError(["bad.ckpt", "is a tokens file, not a checkpoint"]) {
            try readFromMemory(bytes, name: "bad.ckpt", expectFormat: TensorFile.checkpointFormat)
        }
        XCTAssertEqual(try readFromMemory(bytes, expectFormat: TensorFile.tokensFormat)["tokens"]?.bytes, [0, 1])

        let checkpoint = try writeToMemory(TensorFile(tensors: sampleTensors(), metadata: sampleMetadata), compressed: true)
        assertThrowsCharRNNError(["bad.ckpt", "is a checkpoint, not a tokens file"]) {
            try readFromMemory(checkpoint, name: "bad.ckpt", expectFormat: TensorFile.tokensFormat)
        }
        assertThrowsCharRNNError(["bad.tokens", "is a checkpoint, not a tokens file"]) {
            try TokensFile.read(from: MemorySource(checkpoint), name: "bad.tokens")
        }
        let untagged = handMade("{\(validU8Entry)}", data: [1, 2, 3, 4])
        try assertRejected(untagged, ["no charrnn format tag"], expectFormat: TensorFile.checkpointFormat)
    }

    func testRejectsDuplicateNames() throws {
        let twice = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}"#
        try assertRejected(handMade(twice, data: [1, 2, 3, 4]), ["'a' twice"])
        let metaTwice = #"{"__metadata__":{},"__metadata__":{}}"#
        try assertRejected(handMade(metaTwice), ["'__metadata__' twice"])
    }

    func testRejectsDataAfterTheLastTensor() throws {
        try assertRejected(handMade("{\(validU8Entry)}", data: [1, 2, 3, 4, 5]), ["unexpected data after the last tensor"])
        try assertRejected(handMade("{}", data: [0]), ["unexpected data after the last tensor"])
        // The same file without the extra byte is fine.
        XCTAssertEqual(try readFromMemory(handMade("{\(validU8Entry)}", data: [1, 2, 3, 4]))["t"]?.bytes, [1, 2, 3, 4])
    }

    // MARK: Files on disk

    func testAtomicWriteLeavesNoTemporaryFiles() throws {
        let folder = try makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        let path = folder + "/out.tokens"
        let first = TensorFile(tensors: [("a", Tensor(dtype: .U8, shape: [1], bytes: [1]))])
        let second = TensorFile(tensors: [("b", Tensor(dtype: .U8, shape: [2], bytes: [2, 3]))])
        try first.write(toPath: path)
        try second.write(toPath: path)  // replaces the first
        XCTAssertEqual(try folderListing(folder), ["out.tokens"])
        XCTAssertEqual(try TensorFile.read(path: path).tensors.map(\.name), ["b"])

        // Writing where a folder is fails and leaves nothing behind.
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: false)
        assertThrowsCharRNNError(["sub", "is a directory"]) { try first.write(toPath: folder + "/sub") }
        assertThrowsCharRNNError(["create the folder first"]) { try first.write(toPath: folder + "/missing/out.tokens") }
        XCTAssertEqual(try folderListing(folder), ["out.tokens", "sub"])
        XCTAssertEqual(try folderListing(folder + "/sub"), [])

        // A discarded atomic file leaves the old contents in place.
        let atomic = try AtomicFile(path: path)
        try atomic.sink.write([1, 2, 3])
        XCTAssertEqual(try folderListing(folder).count, 3, "the temporary file exists while writing")
        atomic.discard()
        XCTAssertEqual(try folderListing(folder), ["out.tokens", "sub"])
        XCTAssertEqual(try TensorFile.read(path: path).tensors.map(\.name), ["b"])
    }

    func testReadingMissingFilesAndFolders() throws {
        let folder = try makeTemporaryFolder()
        defer { removeTemporaryFolder(folder) }
        assertThrowsCharRNNError(["nope.ckpt", "no such file"]) { try TensorFile.read(path: folder + "/nope.ckpt") }
        assertThrowsCharRNNError(["is a directory"]) { try TensorFile.read(path: folder) }
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/empty.ckpt", contents: Data()))
        assertThrowsCharRNNError(["empty.ckpt is empty"]) { try TensorFile.read(path: folder + "/empty.ckpt") }
    }

    // MARK: Tokens files

    func testTokensFileChecks() throws {
        let vocab = Vocab(unit: .char, symbols: [97, 98, 99], counts: [1, 1, 1])
        let good = TokensFile(vocab: vocab, tokens: Tensor(dtype: .U8, shape: [4], bytes: [0, 1, 2, 1]))
        let back = try TokensFile.read(from: MemorySource(try writeToMemory(good.tensorFile, compressed: true)), name: "x.tokens")
        XCTAssertEqual(back.vocab, vocab)
        XCTAssertEqual(back.tokens, good.tokens)

        let outside = TokensFile(vocab: vocab, tokens: Tensor(dtype: .U8, shape: [3], bytes: [0, 3, 1]))
        assertThrowsCharRNNError(["x.tokens", "token 3 at position 1", "outside the vocabulary"]) {
            try TokensFile.read(from: MemorySource(try writeToMemory(outside.tensorFile, compressed: true)), name: "x.tokens")
        }
        let floats = TensorFile(tensors: [("tokens", Tensor(floats: [0, 1], shape: [2]))],
                                metadata: [("format", TensorFile.tokensFormat), ("vocab", vocab.tsv)])
        assertThrowsCharRNNError(["x.tokens", "1-D U8/U16/U32"]) {
            try TokensFile.read(from: MemorySource(try writeToMemory(floats, compressed: true)), name: "x.tokens")
        }
        let noVocab = TensorFile(tensors: [("tokens", Tensor(dtype: .U8, shape: [1], bytes: [0]))],
                                 metadata: [("format", TensorFile.tokensFormat)])
        assertThrowsCharRNNError(["x.tokens", "has no vocab"]) {
            try TokensFile.read(from: MemorySource(try writeToMemory(noVocab, compressed: true)), name: "x.tokens")
        }
        let noTokens = TensorFile(tensors: [("ids", Tensor(dtype: .U8, shape: [1], bytes: [0]))],
                                  metadata: [("format", TensorFile.tokensFormat), ("vocab", vocab.tsv)])
        assertThrowsCharRNNError(["x.tokens", "no 'tokens' tensor"]) {
            try TokensFile.read(from: MemorySource(try writeToMemory(noTokens, compressed: true)), name: "x.tokens")
        }
        let badVocab = TensorFile(tensors: [("tokens", Tensor(dtype: .U8, shape: [1], bytes: [0]))],
                                  metadata: [("format", TensorFile.tokensFormat), ("vocab", "hello\n")])
        assertThrowsCharRNNError(["x.tokens (embedded vocab)", "not a charrnn vocab file"]) {
            try TokensFile.read(from: MemorySource(try writeToMemory(badVocab, compressed: true)), name: "x.tokens")
        }
    }
}
