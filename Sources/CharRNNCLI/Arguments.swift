// The command line before ArgumentParser sees it: char-rnn's and
// torch-rnn's option spellings get a one-line error naming ours, a
// negative number after an option is its value (not an option), a
// misspelt option or subcommand gets the closest real one. What each
// command accepts is read from ArgumentParser's own description of it
// (the same data --help and the shell completions come from), so this
// list cannot drift from the options.
import ArgumentParser
import CharRNNCore

/// The options and subcommands of one command.
struct CommandShape {
    /// Every spelling ("-t", "--temperature") → the long form, or the
    /// spelling itself when there is none.
    var valueOptions: [String: String] = [:]
    var flags: Set<String> = []
    var subcommands: [(name: String, shape: CommandShape)] = []

    var longNames: [String] {
        (Array(valueOptions.keys) + Array(flags)).filter { $0.hasPrefix("--") }.sorted()
    }

    init(dumpedHelp text: String) {
        self.init((try? JSONValue.parse(text))?["command"] ?? .object([]))
    }

    init(_ command: JSONValue) {
        for argument in command["arguments"]?.arrayValue ?? [] {
            let kind = argument["kind"]?.stringValue
            let names = (argument["names"]?.arrayValue ?? []).compactMap { n -> String? in
                guard let name = n["name"]?.stringValue else { return nil }
                switch n["kind"]?.stringValue {
                case "long": return "--" + name
                case "short": return "-" + name
                case "longWithSingleDash": return "-" + name
                default: return nil
                }
            }
            let long = names.first { $0.hasPrefix("--") } ?? names.first
            for name in names {
                if kind == "option" { valueOptions[name] = long } else if kind == "flag" { flags.insert(name) }
            }
        }
        for sub in command["subcommands"]?.arrayValue ?? [] {
            if let name = sub["commandName"]?.stringValue, name != "help" { subcommands.append((name, CommandShape(sub))) }
        }
        flags.formUnion(["-h", "--help", "--version"])
    }
}

/// A usage error found before parsing: the message, without the tool's name.
struct UsageProblem: Error {
    let message: String
}

enum Arguments {
    /// The arguments to give ArgumentParser; throws a UsageProblem for a
    /// spelling that is certainly wrong.
    static func prepare(_ args: [String], shape top: CommandShape, tool: String) throws -> [String] {
        // Completion scripts call back with their own arguments.
        if args.contains(where: { $0.hasPrefix("---") || $0 == "--generate-completion-script" || $0 == "--experimental-dump-help" }) {
            return args
        }
        var shape = top
        var out: [String] = []
        var i = 0
        var commandChosen = top.subcommands.isEmpty
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--" { out += args[(i - 1)...]; break }
            if !arg.hasPrefix("-") || arg == "-" || isNumber(arg) {
                if !commandChosen {
                    guard let sub = top.subcommands.first(where: { $0.name == arg }) else {
                        if arg == "help" { out.append(arg); commandChosen = true; continue }
                        let names = top.subcommands.map(\.name)
                        let guess = closest(arg, among: names).map { "; did you mean '\($0)'?" } ?? ""
                        throw UsageProblem(message: "unknown subcommand '\(arg)'\(guess) (subcommands: \(names.joined(separator: ", ")))")
                    }
                    shape = sub.shape
                    commandChosen = true
                }
                out.append(arg)
                continue
            }
            let (name, inline) = split(arg)
            if let long = shape.valueOptions[name] {
                // A negative number after an option is its value.
                if inline == nil, i < args.count, isNumber(args[i]), args[i].hasPrefix("-") {
                    out.append((long.hasPrefix("--") ? long : name) + "=" + args[i])
                    i += 1
                } else {
                    out.append(arg)
                }
                continue
            }
            if shape.flags.contains(name) || isShortCluster(name, shape) { out.append(arg); continue }
            if let problem = advice(for: name, shape: shape, tool: tool) { throw UsageProblem(message: problem) }
            out.append(arg)   // ArgumentParser says it is unknown
        }
        return out
    }

    /// "--opt=value" → ("--opt", "value").
    static func split(_ arg: String) -> (String, String?) {
        guard let eq = arg.firstIndex(of: "=") else { return (arg, nil) }
        return (String(arg[..<eq]), String(arg[arg.index(after: eq)...]))
    }

    static func isNumber(_ s: String) -> Bool {
        guard s.count > 1 || s.first?.isNumber == true else { return false }
        return Double(s) != nil && s.first.map { $0 == "-" || $0 == "." || $0.isNumber } == true
    }

    /// "-qv": short flags together (the last may take a value).
    static func isShortCluster(_ name: String, _ shape: CommandShape) -> Bool {
        guard name.hasPrefix("-"), !name.hasPrefix("--"), name.count > 2 else { return false }
        let letters = name.dropFirst().map { "-\($0)" }
        for (k, l) in letters.enumerated() {
            if shape.flags.contains(l) { continue }
            if k == letters.count - 1, shape.valueOptions[l] != nil { continue }
            return false
        }
        return true
    }

    /// What to say about an option the command does not have, or nil to
    /// let ArgumentParser say it is unknown.
    static func advice(for name: String, shape: CommandShape, tool: String) -> String? {
        let bare = String(name.drop { $0 == "-" })
        let key = String(bare.lowercased().map { $0 == "-" ? "_" : $0 })
        if let theirs = CharRNNSpellings.table[tool]?[key] {
            return "\(name) is char-rnn's option; here: \(theirs)"
        }
        // --rnn_size, -rnn-size, -temperature: our option in another spelling.
        let ours = "--" + String(key.map { $0 == "_" ? "-" : $0 })
        if shape.valueOptions[ours] != nil || shape.flags.contains(ours) {
            return "unknown option \(name); did you mean \(ours)?"
        }
        guard name.hasPrefix("--") || bare.count > 1 else { return nil }
        let longs = shape.longNames
        // An abbreviation of exactly one option: --temp → --temperature.
        let starting = longs.filter { $0.hasPrefix(ours) }
        if starting.count == 1 { return "unknown option \(name); did you mean \(starting[0])?" }
        if let guess = closest(ours, among: longs) { return "unknown option \(name); did you mean \(guess)?" }
        return nil
    }

    /// The candidate nearest `word` by edit distance, when it is near enough
    /// to be a typo (a third of the word's length, at most 3).
    static func closest(_ word: String, among candidates: [String]) -> String? {
        let limit = min(3, max(1, word.count / 3))
        let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= limit }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else {
            // A prefix: "inf" → "info".
            let prefixed = candidates.filter { $0.hasPrefix(word) || word.hasPrefix($0) }
            return prefixed.count == 1 ? prefixed[0] : nil
        }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        var row = Array(0...y.count)
        for i in 1...max(1, x.count) where !x.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, y.count) where !y.isEmpty {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return x.isEmpty ? y.count : row[y.count]
    }
}

/// char-rnn's (train.lua, sample.lua) and torch-rnn's option names, per
/// tool, with what to use instead; README "Coming from char-rnn" and
/// rnn-train(1)/rnn-sample(1) show the same table.
public enum CharRNNSpellings {
    static let train: [String: String] = [
        "data_dir": "--data-dir DIR, or the text itself: rnn-train DIR/input.txt",
        "rnn_size": "--rnn-size N",
        "num_layers": "--num-layers N",
        "model": "--model lstm|gru|rnn",
        "learning_rate": "--learning-rate LR",
        "learning_rate_decay": "--learning-rate-decay F",
        "learning_rate_decay_after": "--learning-rate-decay-after EPOCHS",
        "decay_rate": "--decay-rate R",
        "dropout": "--dropout P",
        "seq_length": "--seq-length N",
        "batch_size": "--batch-size N",
        "max_epochs": "--max-epochs N",
        "grad_clip": "--grad-clip C",
        "train_frac": "--train-frac F",
        "val_frac": "--val-frac F",
        "init_from": "--init-from CKPT (new run from its weights) or --resume CKPT (continue its run exactly)",
        "seed": "--seed N",
        "print_every": "--print-every N",
        "eval_val_every": "--eval-val-every N",
        "checkpoint_dir": "--checkpoint-dir DIR (or -o DIR)",
        "savefile": "--savefile NAME",
        "accurate_gpu_timing": "nothing (timings are always exact); drop it",
        "gpuid": "the CPU is the default (as -gpuid -1); --device opencl trains on a GPU through OpenCL",
        "opencl": "--device opencl (the first GPU, else the first OpenCL device; see 'rnn-ckpt devices')",
        "gpu": "--device opencl (the CPU is the default)",
        "gpu_backend": "--device opencl (CUDA is not used)",
        // torch-rnn's train.lua.
        "input_h5": "the text itself (rnn-train input.txt) or a tokens file from rnn-encode",
        "input_json": "nothing: the vocabulary travels inside the tokens file",
        "model_type": "--model lstm|gru|rnn",
        "wordvec_size": "--embedding-size N",
        "checkpoint_every": "--eval-val-every N",
        "checkpoint_name": "--checkpoint-dir DIR and --savefile NAME",
        "lr_decay_every": "--learning-rate-decay-after EPOCHS with --learning-rate-decay F (applied each epoch)",
        "lr_decay_factor": "--learning-rate-decay F",
        "batchnorm": "nothing (no batch normalisation); drop it",
        "memory_benchmark": "make bench (or --verbose)",
        "speed_benchmark": "make bench (or --verbose)",
    ]
    static let sample: [String: String] = [
        "model": "the checkpoint as the first argument: rnn-sample CKPT (or a folder: its best checkpoint)",
        "checkpoint": "the checkpoint as the first argument: rnn-sample CKPT (or a folder: its best checkpoint)",
        "sample": "--argmax for -sample 0; -sample 1 is the default and needs nothing",
        "primetext": "--prime TEXT (or --prime-file FILE)",
        "start_text": "--prime TEXT (or --prime-file FILE)",
        "length": "--length N (or -n N)",
        "temperature": "--temperature T (or -t T)",
        "seed": "--seed N",
        "verbose": "--verbose",
        "gpuid": "the CPU is the default (as -gpuid -1); --device opencl samples on a GPU through OpenCL",
        "opencl": "--device opencl (the first GPU, else the first OpenCL device; see 'rnn-ckpt devices')",
        "gpu": "--device opencl (the CPU is the default)",
        "gpu_backend": "--device opencl (CUDA is not used)",
    ]
    static let table: [String: [String: String]] = ["rnn-train": train, "rnn-sample": sample]
}
