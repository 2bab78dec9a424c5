import Foundation
import NIOCore
import Operations
import ServerCore

/// `/metrics`, `/ready` and `/live`, answered on the core's loop.
extension AviaryServer {
    func answerHTTP(_ path: String) -> HTTPAnswer {
        switch path {
        case "/metrics":
            let sync = log?.syncStatistics ?? (count: 0, nanoseconds: 0)
            let fsync = LatencySamples(recent: log?.recentSyncs ?? [], count: Int64(sync.count),
                                       sum: Int64(sync.nanoseconds / 1_000_000))
            let body = PrometheusExposition.render(core, operatorContext(), process: processFigures(), fsyncSamples: fsync)
            return HTTPAnswer(.ok, "text/plain; version=0.0.4; charset=utf-8", body)
        case "/ready":
            // Ready only while the client port is open, the log can be written and (in an
            // ensemble) the member is part of a serving quorum: read-only is not that.
            let serving = serverChannel?.isActive == true && storageFailure == nil && core.serving && !core.readOnly
            return serving ? HTTPAnswer(.ok, "text/plain", "ready\n") : HTTPAnswer(.serviceUnavailable, "text/plain", "not serving\n")
        case "/live":
            return HTTPAnswer(.ok, "text/plain", "live\n")
        case "/events":
            let loop = coreLoop
            return HTTPAnswer(.ok, "text/event-stream", "") { [self] channel in
                loop.execute { self.events.subscribe(channel, loop: loop) }
            }
        case "/errors":
            return HTTPAnswer(.ok, "application/json", RecentErrors.shared.json)
        case "/events/recent":
            return HTTPAnswer(.ok, "application/json", events.historyJSON)
        default:
            return HTTPAnswer(.notFound, "text/plain", "unknown path \(path); try /metrics, /ready or /live\n")
        }
    }

    /// Resident and virtual size and CPU time, from /proc/self.
    func processFigures() -> PrometheusExposition.Process {
        var resident: Int64 = 0
        var virtual: Int64 = 0
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") {
                let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if parts.count >= 2, let kilobytes = Int64(parts[1]) {
                    if parts[0] == "VmRSS:" { resident = kilobytes * 1024 }
                    if parts[0] == "VmSize:" { virtual = kilobytes * 1024 }
                }
            }
        }
        var cpu = 0.0
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpu = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        return PrometheusExposition.Process(residentBytes: resident, virtualBytes: virtual, cpuSeconds: cpu,
                                            startTimeSeconds: startedAtWall)
    }
}

/// The AdminServer: `/commands`, `/commands/<name>`, and the health endpoints.
extension AviaryServer {
    func answerAdmin(_ path: String, query: [String: String]) -> HTTPAnswer {
        let base = configuration.adminCommandURL
        if path == base || path == base + "/" {
            return HTTPAnswer(.ok, "text/html", AdminCommands.index)
        }
        if path == "/" {
            return HTTPAnswer(.ok, "text/html; charset=utf-8", DashboardPage.html)
        }
        if path == "/dashboard/data" {
            let sync = log?.syncStatistics ?? (count: 0, nanoseconds: 0)
            let fsync = LatencySamples(recent: log?.recentSyncs ?? [], count: Int64(sync.count), sum: Int64(sync.nanoseconds / 1_000_000))
            return HTTPAnswer(.ok, "application/json", DashboardData.json(core, operatorContext(), fsync: fsync,
                                                                           events: events.recent, errors: RecentErrors.shared.all))
        }
        if path.hasPrefix(base + "/") {
            let name = String(path.dropFirst(base.count + 1))
            var context = operatorContext()
            let answer = AdminCommands.run(name, parameters: query, core: &core, context: &context)
            setTraceMask(context.traceMask)
            return HTTPAnswer(.ok, "application/json", answer.rendered() + "\n")
        }
        return answerHTTP(path)
    }
}
