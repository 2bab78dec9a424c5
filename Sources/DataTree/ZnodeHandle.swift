/// A znode held across changes to its tree, for a walk that stops and resumes between
/// requests (a fuzzy snapshot): its record number with what shows whether the record still
/// holds that znode (its parent's record, its full path's hash, the zxid that created it).
/// A record is reused once its znode is deleted; a reused one fails the check, so a walk
/// skips a znode deleted meanwhile instead of visiting another in its place.
struct ZnodeHandle: Sendable, Equatable {
    let record: UInt32
    let parent: UInt32
    let hash: UInt32
    let czxid: Int64
}

