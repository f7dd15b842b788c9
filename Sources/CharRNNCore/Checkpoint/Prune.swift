// Which checkpoints of a folder to delete: all but the best N by validation
// loss and the newest (rnn-train --keep after each validation, rnn-ckpt prune).
#if canImport(Glibc)
import Glibc
#endif

public enum Pruner {
    /// The checkpoints of `folder` (those of `savefile` only, when given)
    /// that keeping the `keep` lowest validation losses and the newest
    /// (latest modification time, then name) leaves over; unreadable files
    /// are left alone and reported in `skipped`.
    public static func excess(folder: String, keep: Int, savefile: String? = nil)
        -> (remove: [String], skipped: [CharRNNError]) {
        var found: [(path: String, loss: Double, mtime: Int)] = []
        var skipped: [CharRNNError] = []
        for name in listDirectory(folder) where name.hasSuffix(".ckpt") {
            if let savefile, !name.hasPrefix("lm_\(savefile)_epoch") { continue }
            let path = folder + "/" + name
            do {
                let s = try CheckpointSummary(path: path)
                if let savefile, s.options.savefile != savefile { continue }
                found.append((path, s.valLoss ?? .infinity, modificationTime(path)))
            } catch let e as CharRNNError {
                skipped.append(e)
            } catch {
                skipped.append(CharRNNError("\(path): \(error)"))
            }
        }
        let ranked = found.sorted { ($0.loss, $0.path) < ($1.loss, $1.path) }
        let newest = found.max { ($0.mtime, $0.path) < ($1.mtime, $1.path) }?.path
        let kept = Set(ranked.prefix(keep).map(\.path) + [newest].compactMap { $0 })
        return (ranked.map(\.path).filter { !kept.contains($0) }, skipped)
    }

    /// A file's modification time in nanoseconds (0 when it cannot be read).
    static func modificationTime(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec) : 0
    }
}
