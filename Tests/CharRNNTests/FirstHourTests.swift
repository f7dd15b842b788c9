// What a char-rnn user meets first, unit by unit: text told from tokens
// files, the data a checkpoint records, a folder's best or newest
// checkpoint, and the command line before ArgumentParser (char-rnn's
// spellings, negative numbers, typos). The tools themselves are tested
// end to end in Tests/e2e/firsthour.sh.
import XCTest
@testable import CharRNNCLI
@testable import CharRNNCore
#if canImport(Glibc)
import Glibc
#endif

final class FirstHourTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/charrnn-firsthour-XXXXXX".utf8CString)
        dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    override func tearDown() {
        for f in listDirectory(dir) { unlink(dir + "/" + f) }
        rmdir(dir)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = dir + "/" + name
        try writeOutput(bytes, to: path)
        return path
    }

    func vocab(_ text: String) throws -> Vocab {
        try Array(text.utf8).withUnsafeBufferPointer { try Vocab.build(from: $0, unit: .char, name: "v") }
    }

    // MARK: text or tokens

    func testTensorFilesAreRecognisedByTheirFirstBytes() throws {
        let tokens = TokensFile(vocab: try vocab("abc"),
                                tokens: Tensor(dtype: .U8, shape: [3], bytes: [0, 1, 2]))
        let gz = MemorySink(), plain = MemorySink()
        try tokens.tensorFile.write(to: gz)
        try tokens.tensorFile.write(to: plain, compressed: false)
        XCTAssertTrue(TensorFile.looksLikeTensorFile(Array(gz.bytes.prefix(16))))
        XCTAssertTrue(TensorFile.looksLikeTensorFile(Array(plain.bytes.prefix(16))))
        for text in ["First Citizen:\nBefore we proceed", "{\"a\": 1} json text", "short", "日本語のテキストです。"] {
            XCTAssertFalse(TensorFile.looksLikeTensorFile(Array(text.utf8.prefix(16))), text)
        }
    }

    func testTextAndItsTokensFileGiveTheSameData() throws {
        let text = Array("to be or not to be, that is the question\n".utf8)
        let textPath = try write("input.txt", text)
        let fromText = try TrainingData.load(path: textPath, unit: nil, vocab: nil)
        XCTAssertEqual(fromText.kind, .text)
        let tokensPath = try write("input.tokens", [])
        try fromText.file.tensorFile.write(toPath: tokensPath)
        let fromTokens = try TrainingData.load(path: tokensPath, unit: nil, vocab: nil)
        XCTAssertEqual(fromTokens.kind, .tokens)
        XCTAssertEqual(fromText.file.vocab.symbols, fromTokens.file.vocab.symbols)
        XCTAssertEqual(fromText.file.tokens, fromTokens.file.tokens)
        XCTAssertTrue(fromText.record.sameData(as: fromTokens.record))
        XCTAssertEqual(fromText.record.source, textPath)
    }

    func testBytesAndTheCheckpointVocabulary() throws {
        let path = try write("latin1.txt", [0x63, 0x61, 0x66, 0xE9, 0x0A])   // "café" in Latin-1: not UTF-8
        XCTAssertThrowsError(try TrainingData.load(path: path, unit: nil, vocab: nil)) { e in
            XCTAssertTrue("\(e)".contains("--bytes"), "\(e)")
        }
        let bytes = try TrainingData.load(path: path, unit: .byte, vocab: nil)
        XCTAssertEqual(bytes.file.vocab.unit, .byte)
        XCTAssertEqual(bytes.file.tokens.count, 5)
        // With a checkpoint's vocabulary: its ids, and unknown symbols per --unknown.
        let vocab = try vocab("abc ")
        let other = try write("other.txt", Array("abcd".utf8))
        XCTAssertThrowsError(try TrainingData.load(path: other, unit: nil, vocab: vocab)) { e in
            XCTAssertTrue("\(e)".contains("--unknown skip"), "\(e)")
        }
        let skipped = try TrainingData.load(path: other, unit: nil, vocab: vocab, unknown: .skip)
        XCTAssertEqual(skipped.file.tokens.count, 3)
        XCTAssertEqual(skipped.file.vocab.symbols, vocab.symbols)
        XCTAssertThrowsError(try TrainingData.load(path: other, unit: .byte, vocab: vocab))
    }

    func testDataRecordTellsDataApartAndRoundTrips() throws {
        let a = DataRecord(tokens: Tensor(dtype: .U8, shape: [4], bytes: [0, 1, 2, 3]), kind: .text, source: "/x/input.txt", dataDir: nil)
        let b = DataRecord(tokens: Tensor(dtype: .U8, shape: [4], bytes: [0, 1, 3, 2]), kind: .text, source: "/x/input.txt", dataDir: nil)
        XCTAssertFalse(a.sameData(as: b))
        XCTAssertTrue(a.fingerprint.hasPrefix("crc32:") && a.fingerprint.count == 14, a.fingerprint)
        XCTAssertEqual(DataRecord(json: try JSONValue.parse(a.json.text)), a)
        let stdin = DataRecord(tokens: Tensor(dtype: .U8, shape: [1], bytes: [0]), kind: .tokens, source: nil, dataDir: "/d")
        XCTAssertEqual(DataRecord(json: try JSONValue.parse(stdin.json.text)), stdin)
    }

    // MARK: a folder's checkpoint

    /// A tiny checkpoint with validation loss `loss` trained on `data`.
    func checkpoint(_ name: String, loss: Double, iteration: Int, data: [UInt8], modified: Int) throws -> String {
        let vocab = try vocab("ab")
        let config = ModelConfig(cell: .rnn, rnnSize: 2, numLayers: 1, embeddingSize: 0, dropout: 0, vocabSize: vocab.count)
        var progress = Progress()
        progress.valLoss = loss
        progress.iteration = iteration
        let ckpt = Checkpoint(config: config, vocab: vocab, params: [Float](repeating: 0.1, count: ParamLayout(config).total),
                              optimizer: nil, options: TrainOptions(), progress: progress, history: History(), stateH: [], stateC: [],
                              data: DataRecord(tokens: Tensor(dtype: .U8, shape: [data.count], bytes: data), kind: .text,
                                               source: nil, dataDir: nil))
        let path = dir + "/" + name
        try ckpt.save(to: path)
        var times = [timespec(tv_sec: modified, tv_nsec: 0), timespec(tv_sec: modified, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0)
        return path
    }

    func testAFolderMeansItsBestOrNewestAmongTheNewestData() throws {
        let old = try checkpoint("old.ckpt", loss: 0.5, iteration: 900, data: [0, 1, 0, 1], modified: 1_000)
        let best = try checkpoint("best.ckpt", loss: 1.2, iteration: 100, data: [1, 1, 0, 0], modified: 2_000)
        let newest = try checkpoint("newest.ckpt", loss: 1.4, iteration: 200, data: [1, 1, 0, 0], modified: 3_000)
        let chosenBest = try chooseCheckpoint(dir, .best)
        XCTAssertEqual(chosenBest.path, best, "the 0.5 of other data does not compare")
        XCTAssertEqual(chosenBest.otherData, 1)
        XCTAssertTrue(chosenBest.note?.contains("best val_loss") == true)
        XCTAssertEqual(try chooseCheckpoint(dir, .latest).path, newest)
        XCTAssertEqual(try chooseCheckpoint(old, .best).path, old, "a file is itself")
        XCTAssertNil(try chooseCheckpoint(old, .best).note)
        // Written in the same second: the higher iteration is the newer.
        _ = try checkpoint("same-second.ckpt", loss: 1.3, iteration: 300, data: [1, 1, 0, 0], modified: 3_000)
        XCTAssertEqual(try chooseCheckpoint(dir, .latest).path, dir + "/same-second.ckpt")
        // A corrupt best is passed over.
        try writeOutput(Array("not a checkpoint".utf8), to: best)
        XCTAssertNotEqual(try chooseCheckpoint(dir, .best).path, best)
    }

    func testAnEmptyFolderSaysHowToMakeACheckpoint() {
        XCTAssertThrowsError(try chooseCheckpoint(dir, .best)) { e in
            XCTAssertTrue("\(e)".contains("holds no checkpoint") && "\(e)".contains("rnn-train"), "\(e)")
        }
    }

    // MARK: the command line

    static let sampleShape = CommandShape(dumpedHelp: """
        {"command": {"commandName": "rnn-sample", "arguments": [
          {"kind": "positional", "names": []},
          {"kind": "option", "names": [{"kind": "short", "name": "t"}, {"kind": "long", "name": "temperature"}]},
          {"kind": "option", "names": [{"kind": "short", "name": "n"}, {"kind": "long", "name": "length"}]},
          {"kind": "option", "names": [{"kind": "long", "name": "top-k"}]},
          {"kind": "option", "names": [{"kind": "long", "name": "top-p"}]},
          {"kind": "option", "names": [{"kind": "long", "name": "seed"}]},
          {"kind": "flag", "names": [{"kind": "short", "name": "q"}, {"kind": "long", "name": "quiet"}]},
          {"kind": "flag", "names": [{"kind": "long", "name": "argmax"}]}]}}
        """)

    func prepare(_ args: [String], tool: String = "rnn-sample", shape: CommandShape = sampleShape) throws -> [String] {
        try Arguments.prepare(args, shape: shape, tool: tool)
    }

    func problem(_ args: [String], tool: String = "rnn-sample", shape: CommandShape = sampleShape) -> String {
        do { _ = try prepare(args, tool: tool, shape: shape); return "(accepted)" } catch let p as UsageProblem { return p.message } catch { return "\(error)" }
    }

    func testNegativeNumbersAreValues() throws {
        XCTAssertEqual(try prepare(["cv", "-t", "-1"]), ["cv", "--temperature=-1"])
        XCTAssertEqual(try prepare(["cv", "--seed", "-5", "-q"]), ["cv", "--seed=-5", "-q"])
        XCTAssertEqual(try prepare(["cv", "-n", "-.5"]), ["cv", "--length=-.5"])
        XCTAssertEqual(try prepare(["cv", "-t", "0.5", "--top-k=3"]), ["cv", "-t", "0.5", "--top-k=3"], "unchanged otherwise")
        XCTAssertEqual(try prepare(["cv", "-qt", "1"]), ["cv", "-qt", "1"], "short options together")
    }

    func testCharRNNSpellingsNameOurs() {
        XCTAssertTrue(problem(["cv", "-primetext", "ROMEO"]).contains("--prime TEXT"))
        XCTAssertTrue(problem(["cv", "-sample", "0"]).contains("--argmax"))
        XCTAssertTrue(problem(["cv", "-gpuid", "-1"]).contains("--device opencl"))
        XCTAssertTrue(problem(["-rnn_size", "512"], tool: "rnn-train", shape: CommandShape(dumpedHelp: "{}")).contains("--rnn-size N"))
        for (key, _) in CharRNNSpellings.train {
            XCTAssertTrue(problem(["-" + key], tool: "rnn-train", shape: CommandShape(dumpedHelp: "{}")).contains("char-rnn's option"), key)
        }
    }

    func testMisspeltOptionsGetTheClosest() {
        XCTAssertEqual(problem(["cv", "--temp", "0.5"]), "unknown option --temp; did you mean --temperature?")
        XCTAssertEqual(problem(["cv", "--top_k", "3"]), "unknown option --top_k; did you mean --top-k?")
        XCTAssertEqual(problem(["cv", "-argmax"]), "unknown option -argmax; did you mean --argmax?")
        XCTAssertEqual(problem(["cv", "--lenght", "5"]), "unknown option --lenght; did you mean --length?")
        XCTAssertEqual(problem(["cv", "--zzzzzz"]), "(accepted)", "nothing close: ArgumentParser says it is unknown")
    }

    func testSubcommandTyposListTheRealOnes() {
        let shape = CommandShape(dumpedHelp: """
            {"command": {"commandName": "rnn-ckpt", "subcommands": [
              {"commandName": "info", "arguments": []}, {"commandName": "ls", "arguments": []},
              {"commandName": "best", "arguments": []}, {"commandName": "help", "arguments": []}]}}
            """)
        XCTAssertEqual(problem(["inf", "cv"], tool: "rnn-ckpt", shape: shape), "unknown subcommand 'inf'; did you mean 'info'? (subcommands: info, ls, best)")
        XCTAssertEqual(problem(["zzz"], tool: "rnn-ckpt", shape: shape), "unknown subcommand 'zzz' (subcommands: info, ls, best)")
        XCTAssertEqual(try prepare(["best", "cv"], tool: "rnn-ckpt", shape: shape), ["best", "cv"])
        XCTAssertEqual(try prepare(["--version"], tool: "rnn-ckpt", shape: shape), ["--version"])
    }

    func testEditDistance() {
        XCTAssertEqual(Arguments.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(Arguments.editDistance("", "abc"), 3)
        XCTAssertEqual(Arguments.editDistance("abc", ""), 3)
        XCTAssertEqual(Arguments.editDistance("same", "same"), 0)
    }

    func testShellQuoting() {
        XCTAssertEqual(shellQuoted("cv/lm_lstm_epoch1.00_1.2345.ckpt"), "cv/lm_lstm_epoch1.00_1.2345.ckpt")
        XCTAssertEqual(shellQuoted("my file.txt"), "'my file.txt'")
        XCTAssertEqual(shellQuoted("it's"), "'it'\\''s'")
    }
}
