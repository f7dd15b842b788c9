// A folder wherever a checkpoint is expected: its best checkpoint by
// validation loss (rnn-sample cv, --init-from cv, rnn-ckpt info cv), or its
// newest (--resume cv). Checkpoints trained on different data are never
// ranked together: validation losses only compare on the same data.
#if canImport(Glibc)
import Glibc
#endif

public enum CheckpointPick: Sendable {
    /// The lowest validation loss.
    case best
    /// The newest file (the end of the latest run).
    case latest
}

/// A checkpoint chosen from a path: the file itself, or one from a folder.
public struct ChosenCheckpoint {
    public var path: String
    public var checkpoint: Checkpoint
    /// What was chosen and why, for stderr (nil when a file was given).
    public var note: String?
    /// Checkpoints that could not be read and were passed over.
    public var skipped: [CharRNNError] = []
    /// Checkpoints left out because they were trained on other data.
    public var otherData = 0
}

/// Summaries of the same data, newest group first: the key is the data's
/// fingerprint (or, for checkpoints from before it was recorded, the
/// vocabulary).
public func groupedByData(_ summaries: [CheckpointSummary]) -> [[CheckpointSummary]] {
    var groups: [String: [CheckpointSummary]] = [:]
    var order: [String] = []
    for s in summaries {
        let key = s.dataKey
        if groups[key] == nil { order.append(key) }
        groups[key, default: []].append(s)
    }
    func newest(_ key: String) -> Double { groups[key]!.map(\.modified).max() ?? 0 }
    return order.sorted { newest($0) > newest($1) }.map { groups[$0]! }
}

extension CheckpointSummary {
    /// Which data the checkpoint was trained on, as far as it says.
    public var dataKey: String {
        data.map { "\($0.fingerprint):\($0.tokens)" } ?? "vocab:\(vocab.unit.rawValue):\(vocab.tsv.hashValue)"
    }
}

/// The checkpoint `path` names: a file as it is; for a folder its best (or
/// latest) checkpoint, as `chooseCheckpoint(among:)`.
public func chooseCheckpoint(_ path: String, _ pick: CheckpointPick) throws -> ChosenCheckpoint {
    guard isDirectory(path) else { return ChosenCheckpoint(path: path, checkpoint: try Checkpoint.load(path: path), note: nil) }
    let folder = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    let (all, skipped) = try checkpointSummaries([folder])
    return try chooseCheckpoint(among: all, skipped: skipped, in: folder, pick)
}

/// The best (or latest) of `all` that reads back whole (data and CRC, not
/// just the header), among those trained on the same data as the newest;
/// `place` names where they were found, for messages.
public func chooseCheckpoint(among all: [CheckpointSummary], skipped: [CharRNNError], in place: String,
                             _ pick: CheckpointPick) throws -> ChosenCheckpoint {
    var skipped = skipped
    if all.isEmpty {
        throw CharRNNError("\(place) holds no checkpoint" + (skipped.isEmpty ? "" : " that reads back (\(skipped.count) unreadable)"),
                           hint: "train one first (rnn-train input.txt -o cv), or give a checkpoint file")
    }
    let groups = groupedByData(all)
    // Newest by the second it was written, then by iteration (files
    // copied together, or written within one second, keep their order).
    let newestFirst = groups[0].sorted {
        ($0.modified.rounded(.down), $0.progress.iteration, $0.path) > ($1.modified.rounded(.down), $1.progress.iteration, $1.path)
    }
    var candidates = newestFirst
    var why = "the newest in \(place)"
    if pick == .best, newestFirst.contains(where: { $0.valLoss != nil }) {
        candidates = newestFirst.filter { $0.valLoss != nil }.sorted { ($0.valLoss!, $0.path) < ($1.valLoss!, $1.path) }
        why = "the best val_loss in \(place)"
    }
    if groups.count > 1 {
        why += " among the \(groups[0].count) trained on the newest one's data; \(all.count - groups[0].count) trained on other data left out"
    }
    for candidate in candidates {
        do {
            let ckpt = try Checkpoint.load(path: candidate.path)
            let loss = candidate.valLoss.map { ", val_loss \(fixed($0, 4))" } ?? ""
            return ChosenCheckpoint(path: candidate.path, checkpoint: ckpt,
                                    note: "using \(candidate.path) (iteration \(candidate.progress.iteration)\(loss); \(why))",
                                    skipped: skipped, otherData: all.count - groups[0].count)
        } catch let e as CharRNNError {
            skipped.append(e)
        }
    }
    throw CharRNNError("\(place) holds no checkpoint that reads back whole (\(skipped.count) unreadable)",
                       hint: "train again, or give a checkpoint file")
}
