// Strict UTF-8 decoding: each kind of invalid input names the byte offset
// of the fault; valid text decodes to the same scalars as Swift's String.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import XCTest

/// (scalar, offset) pairs, or the error.
func scan(_ bytes: [UInt8], name: String = "in.txt") throws -> [(UInt32, Int)] {
    var out: [(UInt32, Int)] = []
    try bytes.withUnsafeBufferPointer { buf in
        try UTF8Scan.forEachScalar(buf, name: name) { out.append(($0, $1)) }
    }
    return out
}

/// The first invalid offset by Swift's own UTF-8 parser, or nil when valid.
func swiftFirstInvalidOffset(_ bytes: [UInt8]) -> Int? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let encoded): offset += encoded.count
        case .emptyInput: return nil
        case .error: return offset
        }
    }
}

final class UTF8Tests: XCTestCase {
    func testInvalidInputsNameTheByteOffset() {
        let prefix: [UInt8] = Array("ab€".utf8)  // 5 bytes, so offsets are not trivially 0
        let cases: [(String, [UInt8], [String])] = [
            ("stray continuation byte", [0x80], ["0x80", "stray continuation byte"]),
            ("overlong 2-byte slash", [0xC0, 0xAF], ["0xC0", "overlong"]),
            ("overlong 2-byte C1", [0xC1, 0xBF], ["0xC1", "overlong"]),
            ("overlong 3-byte", [0xE0, 0x80, 0xAF], ["0xE0", "invalid sequence"]),
            ("overlong 4-byte", [0xF0, 0x80, 0x80, 0xAF], ["0xF0", "invalid sequence"]),
            ("surrogate", [0xED, 0xA0, 0x80], ["0xED", "surrogate"]),
            ("low surrogate", [0xED, 0xBF, 0xBF], ["0xED"]),
            ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80], ["0xF4"]),
            ("F5 lead", [0xF5, 0x80, 0x80, 0x80], ["0xF5", "never appears"]),
            ("0xFF", [0xFF], ["0xFF", "never appears"]),
            ("0xFE", [0xFE], ["0xFE", "never appears"]),
            ("truncated 2-byte at EOF", [0xC3], ["0xC3", "cut off by the end"]),
            ("truncated 3-byte at EOF", [0xE2, 0x82], ["0xE2", "cut off by the end"]),
            ("truncated 4-byte at EOF", [0xF0, 0x9F, 0x98], ["0xF0", "cut off by the end"]),
            ("bad continuation", [0xE2, 0x28, 0xA1], ["0xE2", "bad continuation"]),
            ("bad continuation near the end", [0xE2, 0x41], ["0xE2", "bad continuation"]),
            ("bad continuation before the end", [0xF0, 0x9F, 0x41], ["0xF0", "bad continuation"]),
        ]
        for (what, bad, words) in cases {
            for (before, after) in [([UInt8](), [UInt8]()), (prefix, [UInt8]()), (prefix, Array("xyz".utf8))] {
                // Sequences that are "cut off" only are at the very end.
                if words.contains("cut off by the end") && !after.isEmpty { continue }
                let input = before + bad + after
                assertThrowsCharRNNError(["in.txt", "invalid UTF-8 at byte offset \(before.count) "] + words) {
                    try scan(input)
                }
                XCTAssertEqual(swiftFirstInvalidOffset(input), before.count, "Swift disagrees that \(what) is invalid there")
            }
        }
    }

    func testStrayContinuationAfterValidMultibyte() {
        // "é" is C3 A9; a third A9 is the fault, at offset 3 after "x".
        assertThrowsCharRNNError(["invalid UTF-8 at byte offset 3 "]) { try scan([0x78, 0xC3, 0xA9, 0xA9]) }
    }

    func testValidSequencesOfEachLength() throws {
        let cases: [([UInt8], UInt32)] = [
            ([0x00], 0), ([0x41], 0x41), ([0x7F], 0x7F),
            ([0xC2, 0x80], 0x80), ([0xC3, 0xA9], 0xE9), ([0xDF, 0xBF], 0x7FF),
            ([0xE0, 0xA0, 0x80], 0x800), ([0xE2, 0x82, 0xAC], 0x20AC), ([0xED, 0x9F, 0xBF], 0xD7FF),
            ([0xEE, 0x80, 0x80], 0xE000), ([0xEF, 0xBF, 0xBF], 0xFFFF),
            ([0xF0, 0x90, 0x80, 0x80], 0x10000), ([0xF0, 0x9F, 0x98, 0x80], 0x1F600), ([0xF4, 0x8F, 0xBF, 0xBF], 0x10FFFF),
        ]
        for (bytes, scalar) in cases {
            let decoded = try scan(bytes)
            XCTAssertEqual(decoded.map(\.0), [scalar])
            XCTAssertEqual(decoded.map(\.1), [0])
            XCTAssertEqual(UTF8Scan.encode(scalar), bytes)
        }
    }

    func testRandomValidTextMatchesSwift() throws {
        var random = SplitMix64(seed: 42)
        let ranges: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        for _ in 0..<200 {
            var text = ""
            for _ in 0..<Int.random(in: 0...60, using: &random) {
                let range = ranges.randomElement(using: &random)!
                text.unicodeScalars.append(Unicode.Scalar(UInt32.random(in: range, using: &random))!)
            }
            let bytes = Array(text.utf8)
            let decoded = try scan(bytes)
            XCTAssertEqual(decoded.map(\.0), text.unicodeScalars.map(\.value))
            var offsets: [Int] = []
            var offset = 0
            for s in text.unicodeScalars {
                offsets.append(offset)
                offset += String(s).utf8.count
                XCTAssertEqual(UTF8Scan.encode(s.value), Array(String(s).utf8))
            }
            XCTAssertEqual(decoded.map(\.1), offsets)
        }
    }

    func testRandomBytesAgreeWithSwiftOnValidity() {
        var random = SplitMix64(seed: 9)
        // Bytes drawn mostly from the interesting lead and continuation ranges.
        let pool: [UInt8] = [0x41, 0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                             0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF]
        var invalidSeen = 0, validSeen = 0
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 1...6, using: &random)).map { _ in pool.randomElement(using: &random)! }
            let expected = swiftFirstInvalidOffset(bytes)
            do {
                let decoded = try scan(bytes)
                XCTAssertNil(expected, "accepted invalid \(bytes)")
                XCTAssertEqual(decoded.map(\.0), String(decoding: bytes, as: UTF8.self).unicodeScalars.map(\.value))
                validSeen += 1
            } catch let error as CharRNNError {
                XCTAssertNotNil(expected, "rejected valid \(bytes): \(error)")
                if let expected {
                    XCTAssertTrue(error.what.contains("byte offset \(expected) "), "\(bytes): \(error.what)")
                }
                invalidSeen += 1
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
        XCTAssertGreaterThan(invalidSeen, 1000)
        XCTAssertGreaterThan(validSeen, 300)
    }

    func testHintMentionsBytesMode() {
        do {
            _ = try scan([0xFF])
            XCTFail("0xFF was accepted")
        } catch let error as CharRNNError {
            XCTAssertTrue(error.hint?.contains("--bytes") ?? false, error.description)
        } catch {
            XCTFail("\(error)")
        }
    }
}
