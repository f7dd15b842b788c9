// The vocabulary: building it from text (scalars or bytes, ids in code
// point order, --min-count), its TSV form (escapes, exact round trip) and
// the errors a damaged vocab file gives, each naming its line.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import XCTest

func buildVocab(_ text: String, unit: TextUnit = .char, minCount: Int = 1) throws -> Vocab {
    try buildVocab(Array(text.utf8), unit: unit, minCount: minCount)
}

func buildVocab(_ bytes: [UInt8], unit: TextUnit = .char, minCount: Int = 1) throws -> Vocab {
    try bytes.withUnsafeBufferPointer { try Vocab.build(from: $0, unit: unit, name: "test.txt", minCount: minCount) }
}

/// The expected vocab, computed with Swift's own Unicode handling.
func expectedSymbolsAndCounts(_ text: String) -> ([UInt32], [Int]) {
    var tally: [UInt32: Int] = [:]
    for s in text.unicodeScalars { tally[s.value, default: 0] += 1 }
    let symbols = tally.keys.sorted()
    return (symbols, symbols.map { tally[$0]! })
}

final class VocabTests: XCTestCase {
    func testBuildFromEachCorpus() throws {
        for (name, text) in Corpora.all {
            let vocab = try buildVocab(text)
            let (symbols, counts) = expectedSymbolsAndCounts(text)
            XCTAssertEqual(vocab.unit, .char)
            XCTAssertEqual(vocab.symbols, symbols, name)
            XCTAssertEqual(vocab.counts, counts, name)
            XCTAssertEqual(vocab.symbols, vocab.symbols.sorted(), "ids in code point order (\(name))")
            for (id, s) in vocab.symbols.enumerated() { XCTAssertEqual(vocab.id(of: s), id) }
        }
    }

    func testEmojiZWJSequencesAreSeparateScalars() throws {
        let family = "👨‍👩‍👧"  // man ZWJ woman ZWJ girl: one Character, five scalars
        XCTAssertEqual(family.count, 1)
        let vocab = try buildVocab(family)
        XCTAssertEqual(vocab.symbols, [0x200D, 0x1F467, 0x1F468, 0x1F469])
        XCTAssertEqual(vocab.counts, [2, 1, 1, 1])
        XCTAssertEqual(vocab.escaped(0x200D), "\\u{200D}", "ZWJ is a format character")
        XCTAssertEqual(vocab.escaped(0x1F468), "👨")
    }

    func testCombiningMarksAndCRLFAndNUL() throws {
        let vocab = try buildVocab("e\u{301}\r\n\u{0}é")
        XCTAssertEqual(vocab.symbols, [0x0, 0x0A, 0x0D, 0x65, 0xE9, 0x301])
        XCTAssertEqual(vocab.escaped(0x301), "\u{301}", "a combining mark is printable on its own line")
        XCTAssertEqual(vocab.escaped(0x0), "\\u{0000}")
        XCTAssertEqual(vocab.escaped(0x0D), "\\r")
        XCTAssertEqual(vocab.escaped(0x0A), "\\n")
        XCTAssertEqual(vocab.tsv, """
            # charrnn vocab v1 unit=char
            0\t1\t\\u{0000}
            1\t1\t\\n
            2\t1\t\\r
            3\t1\te
            4\t1\té
            5\t1\t\u{301}

            """)
    }

    func testByteMode() throws {
        let bytes: [UInt8] = [0x00, 0xFF, 0x41, 0x0A, 0xFF, 0x5C, 0x7F, 0x09, 0x0D, 0xC3, 0x00, 0xFF]
        let vocab = try buildVocab(bytes, unit: .byte)
        XCTAssertEqual(vocab.unit, .byte)
        XCTAssertEqual(vocab.symbols, [0x00, 0x09, 0x0A, 0x0D, 0x41, 0x5C, 0x7F, 0xC3, 0xFF])
        XCTAssertEqual(vocab.counts, [2, 1, 1, 1, 1, 1, 1, 1, 3])
        XCTAssertEqual(vocab.tsv, """
            # charrnn vocab v1 unit=byte
            0\t2\t\\x00
            1\t1\t\\t
            2\t1\t\\n
            3\t1\t\\r
            4\t1\tA
            5\t1\t\\\\
            6\t1\t\\x7F
            7\t1\t\\xC3
            8\t3\t\\xFF

            """)
        XCTAssertEqual(try Vocab.parse(vocab.tsv, name: "v"), vocab)
        XCTAssertEqual(vocab.describe(0xFF), "byte 0xFF")
        XCTAssertEqual(vocab.describe(0x05), "byte 0x05")
        // Invalid UTF-8 is fine as bytes, and every byte value works.
        let all = try buildVocab((0...255).map { UInt8($0) } + [0xFF], unit: .byte)
        XCTAssertEqual(all.count, 256)
        XCTAssertEqual(all.counts.last, 2)
        XCTAssertEqual(try Vocab.parse(all.tsv, name: "v"), all)
    }

    func testMinCount() throws {
        let text = "aaab bc\n"  // a:3 b:2 ' ':1 c:1 \n:1
        XCTAssertEqual(try buildVocab(text, minCount: 1).symbols, Array(" \nabc".unicodeScalars.map(\.value)).sorted())
        let two = try buildVocab(text, minCount: 2)
        XCTAssertEqual(two.symbols, [0x61, 0x62])
        XCTAssertEqual(two.counts, [3, 2])
        XCTAssertEqual(try buildVocab(text, minCount: 3).symbols, [0x61])
        XCTAssertEqual(try buildVocab(text, minCount: 4).count, 0)
        XCTAssertEqual(try buildVocab([0, 0, 1], unit: .byte, minCount: 2).symbols, [0])
    }

    func testEmptyText() throws {
        XCTAssertEqual(try buildVocab("").count, 0)
        XCTAssertEqual(try buildVocab([], unit: .byte).count, 0)
    }

    func testInvalidUTF8IsAnErrorInCharMode() {
        assertThrowsCharRNNError(["test.txt", "invalid UTF-8 at byte offset 3"]) { try buildVocab([0x61, 0x62, 0x63, 0xFF]) }
    }

    func testTSVRoundTripForEveryCorpus() throws {
        for (name, text) in Corpora.all {
            let vocab = try buildVocab(text)
            XCTAssertEqual(try Vocab.parse(vocab.tsv, name: name), vocab, name)
            let bytes = try buildVocab(Array(text.utf8), unit: .byte)
            XCTAssertEqual(try Vocab.parse(bytes.tsv, name: name), bytes, name)
        }
        // Every scalar of the first planes, and some from each of the others.
        var scalars = (0..<0x3000).compactMap(Unicode.Scalar.init).map { String($0) }.joined()
        for plane in 1...16 {
            for low in stride(from: 0, to: 0x10000, by: 0x1111) {
                if let s = Unicode.Scalar(UInt32(plane << 16 | low)) { scalars.unicodeScalars.append(s) }
            }
        }
        let big = try buildVocab(scalars)
        XCTAssertGreaterThan(big.count, 0x3000 - 0x800 - 1)
        let parsed = try Vocab.parse(big.tsv, name: "big")
        XCTAssertEqual(parsed.symbols, big.symbols)
        XCTAssertEqual(parsed, big)
        // Each line has exactly three fields and a symbol with no raw control.
        for line in big.tsv.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(fields.count, 3, String(line))
            XCTAssertFalse(fields[2].unicodeScalars.contains { $0.properties.generalCategory == .control })
        }
    }

    func testEscapes() throws {
        let vocab = try buildVocab("x")  // unit=char; escaping does not depend on the contents
        let cases: [(UInt32, String)] = [
            (0x0A, "\\n"), (0x09, "\\t"), (0x0D, "\\r"), (0x5C, "\\\\"),
            (0x00, "\\u{0000}"), (0x01, "\\u{0001}"), (0x1B, "\\u{001B}"), (0x7F, "\\u{007F}"), (0x85, "\\u{0085}"),
            (0xA0, "\\u{00A0}"), (0xAD, "\\u{00AD}"), (0x200B, "\\u{200B}"), (0x200D, "\\u{200D}"),
            (0x2028, "\\u{2028}"), (0x2029, "\\u{2029}"), (0x3000, "\\u{3000}"), (0xFEFF, "\\u{FEFF}"),
            (0xE000, "\\u{E000}"), (0x10FFFF, "\\u{10FFFF}"), (0xE0001, "\\u{E0001}"),
            (0x20, " "), (0x41, "A"), (0x23, "#"), (0xE9, "é"), (0x301, "\u{301}"), (0x6F22, "漢"), (0x1F600, "😀"),
        ]
        for (symbol, text) in cases {
            XCTAssertEqual(vocab.escaped(symbol), text, "U+\(String(symbol, radix: 16))")
            let tsv = "# charrnn vocab v1 unit=char\n0\t1\t\(text)\n"
            XCTAssertEqual(try Vocab.parse(tsv, name: "v").symbols, [symbol], "parse of \(text)")
        }
        // Escapes written by hand, in other spellings, are read too.
        XCTAssertEqual(try Vocab.parse("# charrnn vocab v1 unit=char\n0\t1\t\\u{41}\n", name: "v").symbols, [0x41])
        XCTAssertEqual(try Vocab.parse("# charrnn vocab v1 unit=char\n0\t1\t\\u{1f600}\n", name: "v").symbols, [0x1F600])
        XCTAssertEqual(try Vocab.parse("# charrnn vocab v1 unit=byte\n0\t1\t\\xff\n", name: "v").symbols, [0xFF])
    }

    func testDescribeNamesTheCharacterAndCodePoint() throws {
        let vocab = try buildVocab("x")
        XCTAssertEqual(vocab.describe(0x41), "'A' (U+0041)")
        XCTAssertEqual(vocab.describe(0x1F600), "'😀' (U+1F600)")
        XCTAssertEqual(vocab.describe(0x0A), "'\\n' (U+000A)")
        XCTAssertEqual(vocab.describe(0x200D), "'\\u{200D}' (U+200D)")
    }

    func testTokenDTypeBySize() {
        XCTAssertEqual(Vocab(unit: .byte, symbols: (0..<256).map { UInt32($0) }, counts: Array(repeating: 1, count: 256)).tokenDType, .U8)
        XCTAssertEqual(Vocab(unit: .char, symbols: (0..<257).map { UInt32($0) }, counts: Array(repeating: 1, count: 257)).tokenDType, .U16)
        XCTAssertEqual(Vocab(unit: .char, symbols: (0..<65536).map { UInt32($0) + 0x10000 }, counts: Array(repeating: 1, count: 65536)).tokenDType, .U16)
        XCTAssertEqual(Vocab(unit: .char, symbols: (0..<65537).map { UInt32($0) + 0x10000 }, counts: Array(repeating: 1, count: 65537)).tokenDType, .U32)
    }

    // MARK: Parse errors

    let header = "# charrnn vocab v1 unit=char\n"

    func testParseErrorsNameTheLine() {
        let cases: [(String, [String])] = [
            ("hello\n0\t1\ta\n", ["not a charrnn vocab file", "first line"]),
            ("", ["not a charrnn vocab file", "first line"]),
            ("# charrnn vocab v1 unit=word\n0\t1\ta\n", ["line 1", "unknown unit 'word'"]),
            ("0\t1\ta\n" + header, ["not a charrnn vocab file", "first line"]),
            (header, ["lists no symbols"]),
            (header + "0\t1\ta\n1\t1\tb\n1\t1\tc\n", ["line 4", "duplicate id 1", "first on line 3"]),
            (header + "0\t1\ta\n1\t1\ta\n", ["line 3", "duplicate symbol 'a' (U+0061)", "first on line 2"]),
            (header + "0\t1\t\\n\n1\t1\t\\u{000A}\n", ["line 3", "duplicate symbol"]),
            (header + "0\t1\ta\n1\t1\n", ["line 3", "expected 3 tab-separated fields, found 2"]),
            (header + "0\t1\ta\n1 1 b\n", ["line 3", "expected 3 tab-separated fields, found 1"]),
            (header + "0\t1\ta\n\n1\t1\tb\n", ["line 3", "expected 3 tab-separated fields"]),
            (header + "0\t1\ta\nx\t1\tb\n", ["line 3", "'x' is not an id"]),
            (header + "0\t1\ta\n-1\t1\tb\n", ["line 3", "'-1' is not an id"]),
            (header + "0\t1\ta\n1\tmany\tb\n", ["line 3", "'many' is not a count"]),
            (header + "0\t1\ta\n1\t1\tbc\n", ["line 3", "'bc' is not exactly one character"]),
            (header + "0\t1\ta\n1\t1\t\n", ["line 3", "is not exactly one character"]),
            (header + "0\t1\ta\n1\t1\tb\tc\n", ["line 3", "is not exactly one character"]),
            (header + "0\t1\ta\n1\t1\t\\q\n", ["line 3", "'\\q' is not exactly one character"]),
            (header + "0\t1\ta\n1\t1\t\\u{D800}\n", ["line 3", "not exactly one character"]),
            (header + "0\t1\ta\n1\t1\t\\u{110000}\n", ["line 3", "not exactly one character"]),
            (header + "0\t1\ta\n1\t1\t\\xFF\n", ["line 3", "not exactly one character"]),
            (header + "0\t1\ta\n1\t1\te\u{301}\n", ["line 3", "not exactly one character"]),
            (header + "0\t1\ta\n2\t1\tb\n", ["line 3", "id 2 is out of range", "0..1"]),
            (header + "1\t1\ta\n2\t1\tb\n", ["line 3", "id 2 is out of range"]),
            ("# charrnn vocab v1 unit=byte\n0\t1\t\\x1\n", ["line 2", "not exactly one byte"]),
            ("# charrnn vocab v1 unit=byte\n0\t1\t\\u{41}\n", ["line 2", "not exactly one byte"]),
            ("# charrnn vocab v1 unit=byte\n0\t1\té\n", ["line 2", "not exactly one byte"]),
        ]
        for (text, words) in cases {
            assertThrowsCharRNNError(["my.vocab"] + words) { try Vocab.parse(text, name: "my.vocab") }
        }
    }

    func testParseAcceptsCommentsAndAnyLineOrder() throws {
        let vocab = try Vocab.parse(header + "1\t5\tb\n# a comment\n0\t7\ta\n", name: "v")
        XCTAssertEqual(vocab.symbols, [0x61, 0x62])
        XCTAssertEqual(vocab.counts, [7, 5])
        // Without a final newline too.
        XCTAssertEqual(try Vocab.parse(header + "0\t1\ta", name: "v").symbols, [0x61])
    }
}
