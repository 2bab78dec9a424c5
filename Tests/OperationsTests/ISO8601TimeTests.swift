import Foundation
import Operations
import Testing

struct ISO8601TimeTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(ISO8601Time.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601Time.string(from: Date(timeIntervalSince1970: 1_700_000_000.123)) == "2023-11-14T22:13:20.123Z")
        #expect(ISO8601Time.string(from: Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        #expect(ISO8601Time.string(from: Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
    }

    /// Agrees with Foundation's own formatter, to the millisecond, across a spread of times.
    @Test func agreesWithFoundation() {
        let foundation = ISO8601DateFormatter()
        foundation.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for step in 0..<200 {
            let date = Date(timeIntervalSince1970: Double(step) * 9_876_543.21)
            #expect(ISO8601Time.string(from: date) == foundation.string(from: date))
        }
    }
}
