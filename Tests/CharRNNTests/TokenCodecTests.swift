// Text <-> ids: exact round trips for each corpus (scalars and bytes),
// the tokens dtype by vocab size, and the unknown-symbol policies.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import XCTest

func encode(_ bytes: [UInt8], vocab: Vocab, unknown: UnknownPolicy = .error) throws -> Tensor {
    try bytes.withUnsafeBufferPointer { try TokenCodec(vocab: vocab).encode($0, name: "in.txt", unknown: unknown) }
}

func decode(_ tokens: Tensor, vocab: Vocab) throws -> [UInt8] {
    let sink = MemorySink()
    try TokenCodec(vocab: vocab).decode(tokens, name: "in.tokens", to: sink)
    return sink.bytes
}

final class TokenCodecTests: XCTestCase {
    func testRoundTripEachCorpus() throws {
        for (name, text) in Corpora.all {
            let bytes = Array(text.utf8)
            for unit in [TextUnit.char, .byte] {
                let vocab = try buildVocab(bytes, unit: unit)
                let tokens = try encode(bytes, vocab: vocab)
                XCTAssertEqual(tokens.dtype, .U8, name)
                XCTAssertEqual(tokens.shape, [unit == .char ? text.unicodeScalars.count : bytes.count], name)
                XCTAssertEqual(try decode(tokens, vocab: vocab), bytes, "\(name) \(unit)")
                // Ids are the positions of the symbols in code point order.
                if unit == .char {
                    XCTAssertEqual(tokens.integers(), text.unicodeScalars.map { vocab.symbols.firstIndex(of: $0.value)! })
                }
            }
        }
    }

    func testRoundTripThroughATokensFile() throws {
        let text = Array((Corpora.all.map(\.1).joined()).utf8)
        let vocab = try buildVocab(text)
        let file = TokensFile(vocab: vocab, tokens: try encode(text, vocab: vocab))
        let sink = MemorySink()
        try file.tensorFile.write(to: sink)
        let back = try TokensFile.read(from: MemorySource(sink.bytes), name: "x.tokens")
        XCTAssertEqual(back.vocab, vocab)
        XCTAssertEqual(try decode(back.tokens, vocab: back.vocab), text)
    }

    func testBinaryBytesRoundTrip() throws {
        var random = SplitMix64(seed: 3)
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let vocab = try buildVocab(bytes, unit: .byte)
        XCTAssertEqual(vocab.count, 256)
        let tokens = try encode(bytes, vocab: vocab)
        XCTAssertEqual(tokens.dtype, .U8)
        XCTAssertEqual(tokens.bytes, bytes, "with all 256 bytes present, each byte is its own id")
        XCTAssertEqual(try decode(tokens, vocab: vocab), bytes)
    }

    func testDTypeFollowsVocabSize() throws {
        // 256 symbols: U8; 257: U16; 65536: U16; 65537: U32.
        for (count, dtype) in [(256, DType.U8), (257, .U16), (65536, .U16), (65537, .U32)] {
            var text = ""
            for v in 0..<count { text.unicodeScalars.append(Unicode.Scalar(UInt32(0x10000 + v))!) }
            text.unicodeScalars.append(contentsOf: Array(text.unicodeScalars.reversed()))
            let bytes = Array(text.utf8)
            let vocab = try buildVocab(bytes)
            XCTAssertEqual(vocab.count, count)
            let tokens = try encode(bytes, vocab: vocab)
            XCTAssertEqual(tokens.dtype, dtype, "\(count) symbols")
            XCTAssertEqual(tokens.count, 2 * count)
            let ids = tokens.integers()
            XCTAssertEqual(ids.first, 0)
            XCTAssertEqual(ids[count - 1], count - 1)
            XCTAssertEqual(ids.last, 0)
            XCTAssertEqual(try decode(tokens, vocab: vocab), bytes)
        }
    }

    func testUnknownPolicies() throws {
        let vocab = try buildVocab("abc")
        let text = Array("abxcé".utf8)
        assertThrowsCharRNNError(["in.txt", "'x' (U+0078) at byte offset 2", "not in the vocabulary", "--unknown"]) {
            try encode(text, vocab: vocab, unknown: .error)
        }
        XCTAssertEqual(try decode(try encode(text, vocab: vocab, unknown: .skip), vocab: vocab), Array("abc".utf8))
        XCTAssertEqual(try decode(try encode(text, vocab: vocab, unknown: .replace(0x61)), vocab: vocab), Array("abaca".utf8))
        assertThrowsCharRNNError(["the replacement 'z' (U+007A) is not in the vocabulary"]) {
            try encode(text, vocab: vocab, unknown: .replace(0x7A))
        }
        // The error names the offset of a multi-byte unknown too.
        assertThrowsCharRNNError(["'é' (U+00E9) at byte offset 4"]) { try encode(Array("abcaé".utf8), vocab: vocab) }
        // Everything unknown and skipped: no tokens.
        XCTAssertEqual(try encode(Array("xyz".utf8), vocab: vocab, unknown: .skip).count, 0)
        // Bytes.
        let byteVocab = try buildVocab([0x00, 0x01], unit: .byte)
        assertThrowsCharRNNError(["byte 0xFF at byte offset 1"]) { try encode([0x00, 0xFF], vocab: byteVocab) }
        XCTAssertEqual(try encode([0x00, 0xFF, 0x01], vocab: byteVocab, unknown: .skip).bytes, [0, 1])
    }

    func testEncodeInPlaceEqualsEncode() throws {
        // U8 tokens are written over the text; other dtypes fall back to
        // encode. Either way the same tensor, and the text is consumed.
        var wide = ""
        for v in 0..<300 { wide.unicodeScalars.append(Unicode.Scalar(UInt32(0x4E00 + v))!) }
        let cases: [(String, TextUnit, UnknownPolicy, String)] = [
            ("abc ", .char, .error, "cab a bac ab"),
            ("abcé漢😀\n", .char, .error, "é漢😀a\nbc😀é"),
            ("abcé", .char, .skip, "xé漢yaé😀b"),
            ("abcé", .char, .replace(0x61), "xé漢yaé😀b"),
            ("abc", .byte, .skip, "a\u{FF}bxc"),
            (wide, .char, .error, String(wide.reversed())),
        ]
        for (vocabText, unit, policy, text) in cases {
            let vocab = try buildVocab(Array(vocabText.utf8), unit: unit)
            let expected = try encode(Array(text.utf8), vocab: vocab, unknown: policy)
            var bytes = Array(text.utf8)
            let tokens = try TokenCodec(vocab: vocab).encodeInPlace(&bytes, name: "in.txt", unknown: policy)
            XCTAssertEqual(tokens, expected, text)
            XCTAssertEqual(bytes, [], text)
        }
        // An unknown symbol: an error, and the text is left as it was.
        let vocab = try buildVocab("abc")
        var bytes = Array("abcaé".utf8)
        assertThrowsCharRNNError(["'é' (U+00E9) at byte offset 4"]) {
            _ = try TokenCodec(vocab: vocab).encodeInPlace(&bytes, name: "in.txt", unknown: .error)
        }
        XCTAssertEqual(bytes, Array("abcaé".utf8))
    }

    func testUnknownPolicyParsing() {
        XCTAssertEqual(UnknownPolicy.parse("error"), .error)
        XCTAssertEqual(UnknownPolicy.parse("skip"), .skip)
        XCTAssertEqual(UnknownPolicy.parse("replace:?"), .replace(0x3F))
        XCTAssertEqual(UnknownPolicy.parse("replace:é"), .replace(0xE9))
        XCTAssertEqual(UnknownPolicy.parse("replace:\\n"), .replace(0x0A))
        XCTAssertEqual(UnknownPolicy.parse("replace:\\u{2028}"), .replace(0x2028))
        XCTAssertEqual(UnknownPolicy.parse("replace: "), .replace(0x20))
        for bad in ["bogus", "", "replace", "replace:", "replace:ab", "Skip", "replace:\\q"] {
            XCTAssertNil(UnknownPolicy.parse(bad), bad)
        }
    }

    func testDecodeRejectsIdsOutsideTheVocab() throws {
        let vocab = try buildVocab("abc")
        assertThrowsCharRNNError(["in.tokens", "token 3 at position 2", "outside the vocabulary (size 3)"]) {
            try decode(Tensor(dtype: .U8, shape: [3], bytes: [0, 1, 3]), vocab: vocab)
        }
        assertThrowsCharRNNError(["token 65535 at position 0"]) {
            try decode(Tensor(dtype: .U16, shape: [1], bytes: [0xFF, 0xFF]), vocab: vocab)
        }
        assertThrowsCharRNNError(["token -1 at position 1"]) {
            try decode(Tensor(dtype: .I32, shape: [2], bytes: littleEndianBytes([Int32(0), -1])), vocab: vocab)
        }
        assertThrowsCharRNNError(["dtype F32"]) { try decode(Tensor(floats: [0], shape: [1]), vocab: vocab) }
        // Valid ids of every integer dtype decode.
        XCTAssertEqual(try decode(Tensor(dtype: .U32, shape: [2], bytes: littleEndianBytes([UInt32(2), 0])), vocab: vocab), Array("ca".utf8))
        XCTAssertEqual(try decode(Tensor(dtype: .I32, shape: [1], bytes: littleEndianBytes([Int32(1)])), vocab: vocab), Array("b".utf8))
        XCTAssertEqual(try decode(Tensor(dtype: .U8, shape: [0], bytes: []), vocab: vocab), [])
    }

    func testTokenIDsReadsEachDType() {
        XCTAssertEqual(TokenIDs(Tensor(dtype: .U8, shape: [2], bytes: [7, 255]))[1], 255)
        XCTAssertEqual(TokenIDs(Tensor(dtype: .U16, shape: [2], bytes: littleEndianBytes([UInt16(1), 65535])))[1], 65535)
        let u32 = TokenIDs(Tensor(dtype: .U32, shape: [2], bytes: littleEndianBytes([UInt32(70000), 3])))
        XCTAssertEqual(u32.count, 2)
        XCTAssertEqual(u32[0], 70000)
    }
}
