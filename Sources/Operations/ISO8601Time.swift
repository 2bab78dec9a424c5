import Foundation

/// UTC timestamps as `2026-11-25T00:53:37.420Z` (RFC 3339 with milliseconds), for log lines
/// and events. Written by hand from `gmtime_r`: Foundation's formatters load ICU's data on
/// first use (several MB of resident memory) and are not documented as safe to share
/// between threads.
public enum ISO8601Time {
    /// The timestamp of `date`.
    public static func string(from date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let fraction = Int(millis - Int64(seconds) * 1000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "1970-01-01T00:00:00.000Z" }
        var text = ""
        text.reserveCapacity(24)
        func put(_ value: Int, _ width: Int) {
            let digits = String(value)
            if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
            text += digits
        }
        put(Int(parts.tm_year) + 1900, 4); text += "-"
        put(Int(parts.tm_mon) + 1, 2); text += "-"
        put(Int(parts.tm_mday), 2); text += "T"
        put(Int(parts.tm_hour), 2); text += ":"
        put(Int(parts.tm_min), 2); text += ":"
        put(Int(parts.tm_sec), 2); text += "."
        put(fraction, 3); text += "Z"
        return text
    }
}
