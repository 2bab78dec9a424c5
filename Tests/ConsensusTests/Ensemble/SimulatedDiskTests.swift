import Testing

/// The simulation's disk model: what survives a crash.
struct SimulatedDiskTests {
    @Test func aCrashKeepsWhatWasSyncedAndAPrefixOfTheRest() {
        var disk = SimulatedDisk()
        let first = disk.append(1, role: 1)
        _ = disk.append(2, role: 1)
        _ = disk.append(3, role: 1)
        _ = disk.append(4, role: 1)
        #expect(disk.synced(upTo: first, role: 1) == 1)
        disk.crash(keptUnsynced: 1)
        #expect(disk.recovered == [1, 2])
    }

    /// Seed 79 of the three-voter run: appends that a crash kept (the OS had written them
    /// out) were still marked unsynced, so a second crash could lose a transaction the
    /// server had acknowledged after the first restart. Once kept, they are on the platter.
    @Test func whatACrashKeptSurvivesTheNextCrash() {
        var disk = SimulatedDisk()
        _ = disk.append(1, role: 1)
        _ = disk.append(2, role: 1)
        disk.crash(keptUnsynced: 2)
        _ = disk.append(3, role: 2)
        disk.crash(keptUnsynced: 0)
        #expect(disk.recovered == [1, 2])
    }

    @Test func truncationDropsTheDivergedTail() {
        var disk = SimulatedDisk()
        for zxid in Int64(1)...4 { _ = disk.append(zxid, role: 1) }
        disk.truncate(to: 2)
        #expect(disk.recovered == [1, 2])
        #expect(disk.lastZxid == 2)
    }
}
