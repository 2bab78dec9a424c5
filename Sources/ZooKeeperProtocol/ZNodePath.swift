/// Path rules for znodes (`PathUtils.validatePath`).
public enum ZNodePath {
    /// Whether `path` is a valid znode path. A sequential create is checked as if its suffix
    /// were already appended, so `/a/` is valid for it.
    public static func isValid(_ path: String, sequential: Bool = false) -> Bool {
        validate(sequential ? path + "1" : path)
    }

    /// One pass over the scalars, without allocating: segments may not be empty, "." or
    /// "..", and no control, surrogate, private-use or non-BMP character may appear.
    private static func validate(_ path: String) -> Bool {
        var scalars = path.unicodeScalars.makeIterator()
        guard scalars.next() == "/" else { return false }
        var count = 1
        var segmentLength = 0
        var dots = 0
        while let scalar = scalars.next() {
            count += 1
            if scalar == "/" {
                if segmentLength == 0 || (segmentLength == dots && dots <= 2) { return false }
                segmentLength = 0
                dots = 0
                continue
            }
            let v = scalar.value
            if v < 0x20 || (v >= 0x7F && v <= 0x9F) || (v >= 0xD800 && v <= 0xF8FF) || v >= 0xFFF0 {
                return false
            }
            segmentLength += 1
            if scalar == "." { dots += 1 }
        }
        if count == 1 { return true }
        return segmentLength > 0 && !(segmentLength == dots && dots <= 2)
    }

    /// The parent of `path` (`/` for top-level nodes and for `/` itself).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// The last segment of `path`.
    public static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `parent` joined with `child`.
    public static func join(_ parent: String, _ child: String) -> String {
        parent == "/" ? "/" + child : parent + "/" + child
    }
}
