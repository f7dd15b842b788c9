// One training run per checkpoint folder and savefile: an flock on
// DIR/.lm_<savefile>.lock, which the kernel drops when the process dies,
// so a crashed run never leaves the folder locked.
#if canImport(Glibc)
import Glibc
#endif

public final class RunLock {
    let fd: Int32
    public let path: String

    public init(directory: String, savefile: String) throws {
        path = directory + "/.lm_\(savefile).lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw CharRNNError("cannot create the lock file \(path): \(describeErrno(errno))", hint: "check the folder's permissions")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var holder = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &holder, 31)
            let pid = n > 0 ? String(decoding: holder[0..<n], as: UTF8.self).trimmingCharacters() : "?"
            close(fd)
            throw CharRNNError("another rnn-train (pid \(pid)) is writing '\(savefile)' checkpoints in \(directory)",
                               hint: "wait for it, or give this run another --savefile or -o folder")
        }
        let text = Array("\(getpid())\n".utf8)
        ftruncate(fd, 0)
        _ = pwrite(fd, text, text.count, 0)
    }

    public func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

extension String {
    func trimmingCharacters() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\n" }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed())
    }
}
