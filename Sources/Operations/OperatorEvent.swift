import Foundation

/// Something that happened, for `/events` subscribers, webhooks and the history.
public struct OperatorEvent: Sendable {
    public var time: Date
    public var server: String
    public var kind: String
    public var details: [String: String]

    public init(time: Date, server: String, kind: String, details: [String: String]) {
        self.time = time; self.server = server; self.kind = kind; self.details = details
    }


    /// One line of JSON: `{"time": ..., "server": ..., "kind": ..., "details": {...}}`.
    public var json: String { value.compact }

    /// The event as a JSON value.
    public var value: JSONValue {
        .object([
            ("time", .string(ISO8601Time.string(from: time))),
            ("server", .string(server)),
            ("kind", .string(kind)),
            ("details", .object(details.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
        ])
    }
}

extension JSONValue {
    /// The value on one line, without spaces.
    public var compact: String {
        switch self {
        case .array(let items): return "[" + items.map(\.compact).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { Self.quote($0.0) + ":" + $0.1.compact }.joined(separator: ",") + "}"
        default: return rendered()
        }
    }
}
