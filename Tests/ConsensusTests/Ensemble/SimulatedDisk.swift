/// One server's data directory in the ensemble simulation: the epoch files (written durably at
/// once, as ZooKeeper fsyncs them), the newest snapshot, and the transaction log, whose
/// appends reach the platter in order some time after they are written. A crash keeps what
/// was synced and a random prefix of what was not (a torn tail is cut at a whole record).
struct SimulatedDisk {
    struct Entry {
        var zxid: Int64
        /// The disk's write sequence number: syncs complete in this order.
        var sequence: Int
        /// The role (server incarnation and role instance) that logged it.
        var role: Int
        var durable = false
    }

    var acceptedEpoch: Int64 = 0
    var currentEpoch: Int64 = 0
    /// The zxids of the tree the newest snapshot holds, in order.
    private(set) var snapshot: [Int64] = []
    /// The zxid of every snapshot written (the snapshot files' names), oldest first.
    private(set) var snapshotZxids: [Int64] = []
    var log: [Entry] = []
    private var writes = 0

    /// Appends `zxid` to the log; returns the write's sequence number, which the sync that
    /// makes it durable reports.
    mutating func append(_ zxid: Int64, role: Int) -> Int {
        writes += 1
        log.append(Entry(zxid: zxid, sequence: writes, role: role))
        return writes
    }

    /// Every write up to `sequence` is durable. Returns the newest zxid `role` logged among
    /// them, which is what that role may now acknowledge.
    mutating func synced(upTo sequence: Int, role: Int) -> Int64? {
        var newest: Int64?
        for index in log.indices where log[index].sequence <= sequence {
            log[index].durable = true
            if log[index].role == role { newest = max(newest ?? .min, log[index].zxid) }
        }
        return newest
    }

    /// A snapshot of `tree` is written (durably, as ZooKeeper's are before it goes on).
    mutating func writeSnapshot(_ tree: [Int64]) {
        snapshot = tree
        snapshotZxids.append(tree.last ?? 0)
    }

    /// What recovery reads: the snapshot, then the log after it.
    var recovered: [Int64] {
        let last = snapshot.last ?? 0
        return snapshot + log.map(\.zxid).filter { $0 > last }
    }

    var lastZxid: Int64 { recovered.last ?? 0 }

    /// TRUNC: the log loses everything after `zxid`.
    mutating func truncate(to zxid: Int64) {
        log.removeAll { $0.zxid > zxid }
    }

    /// A crash of the machine: unsynced appends are lost, except the first `keptUnsynced` of
    /// them, which the OS had written out anyway (and which are on the platter from now on).
    mutating func crash(keptUnsynced: Int) {
        var kept = 0
        var cut = false
        log.removeAll { entry in
            if entry.durable || cut { return cut }
            if kept < keptUnsynced { kept += 1; return false }
            cut = true
            return true
        }
        for index in log.indices { log[index].durable = true }
    }
}
