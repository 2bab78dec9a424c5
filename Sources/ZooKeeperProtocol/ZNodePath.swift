/// Path rules for znodes (`PathUtils.validatePath`).
public enum ZNodePath {
    /// Whether `path` is a valid znode path. A sequential create is checked as if its suffix
    /// were already appended, so `/a/` is valid for it.
    public static func isValid(_ path: String, sequential: Bool = false) -> Bool {
        validate(sequential ? path + "1" : path)
    }

    private static func validate(_ path: String) -> Bool {
        let scalars = Array(path.unicodeScalars)
        guard let first = scalars.first, first == "/" else { return false }
        if scalars.count == 1 { return true }
        if scalars.last == "/" { return false }
        var segmentStart = 1
        for index in 1...scalars.count {
            if index == scalars.count || scalars[index] == "/" {
                let segment = String(String.UnicodeScalarView(scalars[segmentStart..<index]))
                if segment.isEmpty || segment == "." || segment == ".." { return false }
                segmentStart = index + 1
                continue
            }
            let v = scalars[index].value
            if v == 0 || (v > 0 && v < 0x20) || (v >= 0x7F && v <= 0x9F) || (v >= 0xD800 && v <= 0xF8FF) || (v >= 0xFFF0) {
                return false
            }
        }
        return true
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
