// Shared test helpers: temporary folders, running a program, checking that
// a call throws a CharRNNError whose message has the expected words.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import Foundation
import XCTest

/// A fresh temporary folder, removed by the caller with `removeTemporaryFolder`.
func makeTemporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "charrnn-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeTemporaryFolder(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// The names in a folder, sorted.
func folderListing(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}

/// Runs a program with the given stdin bytes; returns (status, stdout, stderr).
func runProgram(_ path: String, _ arguments: [String], stdin: [UInt8] = []) throws -> (Int32, [UInt8], [UInt8]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let input = Pipe(), output = Pipe(), errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Feed stdin and drain the outputs concurrently so large data cannot deadlock.
    let writer = Thread {
        input.fileHandleForWriting.write(Data(stdin))
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    final class Box: @unchecked Sendable { var data = Data() }
    let errorBox = Box()
    let done = DispatchSemaphore(value: 0)
    let errorThread = Thread {
        errorBox.data = errors.fileHandleForReading.readDataToEndOfFile()
        done.signal()
    }
    errorThread.start()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    process.waitUntilExit()
    return (process.terminationStatus, [UInt8](outData), [UInt8](errorBox.data))
}

/// `gzip -dc` of some bytes (an independent decompressor).
func gunzipWithTool(_ bytes: [UInt8]) throws -> [UInt8] {
    let (status, out, err) = try runProgram("/bin/gzip", ["-dc"], stdin: bytes)
    guard status == 0 else {
        throw CharRNNError("gzip -dc failed with status \(status): \(String(decoding: err, as: UTF8.self))")
    }
    return out
}

/// Asserts that `body` throws a CharRNNError whose text contains every word.
func assertThrowsCharRNNError<T>(_ words: [String], file: StaticString = #filePath, line: UInt = #line,
                                 _ body: () throws -> T) {
    do {
        let value = try body()
        XCTFail("expected an error with \(words), got a result: \(value)", file: file, line: line)
    } catch let error as CharRNNError {
        let text = error.description
        for word in words where !text.contains(word) {
            XCTFail("error message lacks '\(word)': \(text)", file: file, line: line)
        }
    } catch {
        XCTFail("expected a CharRNNError, got \(type(of: error)): \(error)", file: file, line: line)
    }
}

/// Deterministic pseudo-random numbers (SplitMix64) so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The test corpora shared by the vocab and codec tests.
enum Corpora {
    static let cjk = "漢字かな交じり文。中文测试，日本語のテキスト。\n한국어 텍스트\n"
    /// Family and flag emoji: ZWJ sequences and regional indicators; each
    /// scalar is its own symbol.
    static let emoji = "family: 👨‍👩‍👧‍👦 and 🏳️‍🌈, flags 🇫🇷🇯🇵, skin 👍🏽\n"
    /// Combining marks: e + U+0301, a stack of diacritics, precomposed é.
    static let combining = "cafe\u{301} vs caf\u{E9}, Z\u{351}\u{36B}\u{343}\u{36A}\n"
    static let crlf = "line one\r\nline two\r\n\r\nend\r"
    static let nul = "a\u{0}b\u{0}\u{0}c\n"
    static let controls = "tab\there\\back\u{7F}del\u{200B}zwsp\u{2028}ls\u{A0}nbsp\u{1}soh\u{E000}pua\n"
    static let all: [(String, String)] = [
        ("cjk", cjk), ("emoji", emoji), ("combining", combining), ("crlf", crlf), ("nul", nul), ("controls", controls),
    ]
}
