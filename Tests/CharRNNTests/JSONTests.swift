// The JSON reader and writer used for safetensors headers and metadata:
// round trips, escapes, surrogate pairs, strictness, exact integers.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import Foundation
import XCTest

func assertJSONRejected(_ text: String, _ words: String, file: StaticString = #filePath, line: UInt = #line) {
    do {
        let value = try JSONValue.parse(text)
        XCTFail("accepted \(text.debugDescription) as \(value.text)", file: file, line: line)
    } catch let error as JSONError {
        XCTAssertTrue(error.message.contains(words), "\(text.debugDescription): \(error.message)", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

final class JSONTests: XCTestCase {
    func testParseAndPrintRoundTrip() throws {
        let texts = [
            #"{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-0.5,"g":1e-7,"h":[],"i":{}}"#,
            #"[1,2.5,-3,4E+10,"x",[[]],{"":""}]"#,
            #""just a string""#, "0", "-0", "true", "null",
            #"{"z":1,"a":2,"m":3}"#,  // member order is kept
        ]
        for text in texts {
            let value = try JSONValue.parse(text)
            XCTAssertEqual(value.text, text)
            XCTAssertEqual(try JSONValue.parse(value.text), value)
        }
        let spaced = try JSONValue.parse(" {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : null } ")
        XCTAssertEqual(spaced.text, #"{"a":[1,2],"b":null}"#)
    }

    func testAccessors() throws {
        let value = try JSONValue.parse(#"{"n":42,"x":2.5,"s":"hi","b":true,"a":[1],"o":{"k":null}}"#)
        XCTAssertEqual(value["n"]?.intValue, 42)
        XCTAssertEqual(value["x"]?.doubleValue, 2.5)
        XCTAssertNil(value["x"]?.intValue, "2.5 is not an integer")
        XCTAssertEqual(value["s"]?.stringValue, "hi")
        XCTAssertEqual(value["b"]?.boolValue, true)
        XCTAssertEqual(value["a"]?.arrayValue?.count, 1)
        XCTAssertEqual(value["o"]?.objectValue?.first?.0, "k")
        XCTAssertEqual(value["o"]?["k"], .null)
        XCTAssertNil(value["missing"])
        XCTAssertNil(value["s"]?["k"])
        XCTAssertEqual(JSONValue.double(0.1).text, "0.1")
        XCTAssertEqual(JSONValue.double(3).text, "3")
        XCTAssertEqual(JSONValue.double(.nan).text, "null")
        XCTAssertEqual(JSONValue.int(-12).text, "-12")
        XCTAssertEqual(formatDouble(1e20), "1e+20")
        XCTAssertEqual(Double(formatDouble(0.1 + 0.2)), 0.1 + 0.2)
    }

    func testStringEscapes() throws {
        let parsed = try JSONValue.parse(#""q\" b\\ s\/ b\b f\f n\n r\r t\t u\u0041\u00e9\u6F22 \u0000""#)
        XCTAssertEqual(parsed.stringValue, "q\" b\\ s/ b\u{8} f\u{C} n\n r\r t\t uAé漢 \u{0}")
        // Writing: quotes, backslashes and controls escaped; the rest as UTF-8.
        let original = "q\" b\\ n\n r\r t\t nul\u{0} esc\u{1B} del\u{7F} é 漢 😀 \u{2028}"
        let text = JSONValue.string(original).text
        XCTAssertEqual(text, #""q\" b\\ n\n r\r t\t nul\u0000 esc\u001b del"# + "\u{7F} é 漢 😀 \u{2028}\"")
        XCTAssertEqual(try JSONValue.parse(text).stringValue, original)
        // Foundation reads what we write.
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? String
        XCTAssertEqual(foundation, original)
    }

    func testSurrogatePairs() throws {
        XCTAssertEqual(try JSONValue.parse(#""\ud83d\ude00""#).stringValue, "😀")
        XCTAssertEqual(try JSONValue.parse(#""\uD834\uDD1E x""#).stringValue, "𝄞 x")
        XCTAssertEqual(try JSONValue.parse(#""\uDBFF\uDFFF""#).stringValue, "\u{10FFFF}")
        assertJSONRejected(#""\ud83d""#, "unpaired surrogate")
        assertJSONRejected(#""\ud83d x""#, "unpaired surrogate")
        assertJSONRejected(#""\ude00""#, "unpaired surrogate")
        assertJSONRejected(#""\ud83d\u0041""#, "unpaired surrogate")
        assertJSONRejected(#""\ud83d\ud83d""#, "unpaired surrogate")
    }

    func testRejectsMalformedText() {
        assertJSONRejected("", "unexpected end")
        assertJSONRejected("{} x", "unexpected text after the JSON value")
        assertJSONRejected("[1] [2]", "unexpected text after the JSON value")
        assertJSONRejected("1 2", "unexpected text after the JSON value")
        assertJSONRejected("{\"a\":1,}", "expected a string key")
        assertJSONRejected("[1,]", "expected a value")
        assertJSONRejected("{\"a\" 1}", "expected ':'")
        assertJSONRejected("{'a':1}", "expected a string key")
        assertJSONRejected("[1 2]", "expected ',' or ']'")
        assertJSONRejected("{\"a\":1 \"b\":2}", "expected ',' or '}'")
        assertJSONRejected("\"abc", "unterminated string")
        assertJSONRejected("\"a\nb\"", "control character in string")
        assertJSONRejected(#""\x41""#, "unknown escape")
        assertJSONRejected(#""\u12""#, "\\u escape")
        assertJSONRejected(#""\u12G4""#, "bad hex digit")
        assertJSONRejected("tru", "expected 'true'")
        assertJSONRejected("nul", "expected 'null'")
        assertJSONRejected("True", "expected a value")
        assertJSONRejected(String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000), "nested too deeply")
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0x22]), "invalid UTF-8 in a string")
        // The fault's byte offset is named.
        assertJSONRejected("[1, 2, x]", "at byte 7")
    }

    func testRejectsBadNumbers() {
        for bad in ["01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "1.e5", "--1", "1..2"] {
            do {
                let value = try JSONValue.parse(bad)
                XCTFail("accepted bad number \(bad) as \(value.text)")
            } catch {
                XCTAssertTrue("\(error)".contains("invalid JSON at byte"), "\(bad): \(error)")
            }
        }
        for good in ["0", "-0", "0.5", "-0.5", "10", "1e5", "1E-5", "0e0", "123.456e+78"] {
            XCTAssertEqual(try JSONValue.parse(good).text, good)
        }
    }

    func testExactBigIntegers() throws {
        let text = #"{"a":9007199254740993,"b":9223372036854775807,"c":-9223372036854775808,"d":123456789012345678901234567890}"#
        let value = try JSONValue.parse(text)
        XCTAssertEqual(value.text, text, "numbers keep their exact text")
        XCTAssertEqual(value["a"]?.intValue, 9_007_199_254_740_993, "2^53 + 1 is not rounded through Double")
        XCTAssertEqual(value["b"]?.intValue, Int.max)
        XCTAssertEqual(value["c"]?.intValue, Int.min)
        XCTAssertNil(value["d"]?.intValue, "too big for Int")
        XCTAssertEqual(JSONValue.int(Int.max).text, "9223372036854775807")
        // Equality is exact for integers: 2^53 + 1 and 2^53 differ.
        XCTAssertNotEqual(JSONValue.number("9007199254740993"), JSONValue.number("9007199254740992"))
        XCTAssertEqual(JSONValue.number("1.0"), JSONValue.number("1"), "the same number in two spellings")
        XCTAssertNotEqual(JSONValue.number("1"), JSONValue.string("1"))
    }

    func testObjectEqualityKeepsOrderAndValues() throws {
        XCTAssertEqual(try JSONValue.parse(#"{"a":1,"b":2}"#), try JSONValue.parse(#"{ "a" : 1 , "b" : 2 }"#))
        XCTAssertNotEqual(try JSONValue.parse(#"{"a":1,"b":2}"#), try JSONValue.parse(#"{"a":1,"b":3}"#))
        XCTAssertNotEqual(try JSONValue.parse(#"{"a":1}"#), try JSONValue.parse(#"{"a":1,"b":2}"#))
        XCTAssertNotEqual(try JSONValue.parse("[1,2]"), try JSONValue.parse("[2,1]"))
    }
}
