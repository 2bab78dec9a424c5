import NIOCore

/// A time limit on something a connection must finish (a TLS handshake, a quorum SASL
/// exchange): started once the connection is up, cancelled when it finishes; when it passes
/// first, `expired` runs on the channel's loop with the limit in milliseconds.
struct ConnectionDeadline {
    let limit: TimeAmount
    private var task: Scheduled<Void>?
    private var started = false

    init(_ limit: TimeAmount) { self.limit = limit }

    mutating func start(on context: ChannelHandlerContext,
                        expired: @escaping (ChannelHandlerContext, Int64) -> Void) {
        guard !started else { return }
        started = true
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let action = NIOLoopBound(expired, eventLoop: context.eventLoop)
        let millis = limit.nanoseconds / 1_000_000
        task = context.eventLoop.scheduleTask(in: limit) { action.value(bound.value, millis) }
    }

    mutating func cancel() {
        task?.cancel()
        task = nil
    }
}
