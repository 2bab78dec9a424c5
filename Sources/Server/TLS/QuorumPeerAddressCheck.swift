import Dispatch
import Glibc
import NIOCore
import NIOSSL
import NIOTLS
import ServerCore

/// On an accepted election or quorum connection over TLS: checks that the certificate the
/// dialling member presented names the address it dials from, as ZooKeeper's `ZKTrustManager`
/// does for quorum peers (`QuorumX509Util` verifies client hostnames too, unless
/// `ssl.quorum.hostnameVerification=false`): the address against the certificate's IP
/// subject alternative names, then the name a reverse lookup of the address gives against its
/// DNS names (or its common name, when it has no DNS or IP names). A certificate stolen from
/// one member cannot then be used from another address.
///
/// Sits behind the TLS handler and holds what the peer sends until the check is over; a peer
/// that presented no certificate (`ssl.quorum.clientAuth` want or none) is not checked.
final class QuorumPeerAddressCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Says why a peer was refused (to log and count it).
    typealias Refused = (ChannelHandlerContext, _ reason: String) -> Void

    private enum State { case awaitingHandshake, checking, passed, refused }
    private var state = State.awaitingHandshake
    private var held: [ByteBuffer] = []
    private var heldBytes = 0
    private let refused: Refused
    /// The most a peer may send while its address is checked (a reverse lookup may wait on
    /// DNS): far more than an election message or a learner's first packets.
    static let heldLimit = 1 << 20

    init(refused: @escaping Refused) {
        self.refused = refused
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .passed: context.fireChannelRead(data)
        case .refused: return
        case .awaitingHandshake, .checking:
            let buffer = unwrapInboundIn(data)
            heldBytes += buffer.readableBytes
            guard heldBytes <= Self.heldLimit else {
                return refuse(context, "it sent more than \(Self.heldLimit) bytes before its address was checked")
            }
            held.append(buffer)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        guard case .handshakeCompleted? = event as? TLSUserEvent, state == .awaitingHandshake else { return }
        guard let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate,
              let address = context.channel.remoteAddress else {
            return pass(context)
        }
        let names = CertificateNames(certificate)
        if names.matches(address: address) { return pass(context) }
        guard names.mayMatchByName else {
            return refuse(context, "its certificate does not name \(address.ipAddress ?? "its address") (\(names))")
        }
        // ZooKeeper then tries the name a reverse lookup gives: off the loop, it may wait on DNS.
        state = .checking
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        DispatchQueue.global(qos: .userInitiated).async {
            let hostname = Self.reverseLookup(address)
            loop.execute {
                let (check, context) = bound.value
                guard check.state == .checking else { return }
                if let hostname, names.matches(hostname: hostname) { return check.pass(context) }
                check.refuse(context, "its certificate names neither \(address.ipAddress ?? "its address") nor \(hostname ?? "a name for it") (\(names))")
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        held.removeAll()
        state = .refused
        context.fireChannelInactive()
    }

    private func pass(_ context: ChannelHandlerContext) {
        state = .passed
        for buffer in held { context.fireChannelRead(wrapInboundOut(buffer)) }
        held.removeAll()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        state = .refused
        held.removeAll()
        refused(context, reason)
        context.close(promise: nil)
    }

    /// The name the resolver gives an address (`InetAddress.getHostName`), nil without one.
    static func reverseLookup(_ address: SocketAddress) -> String? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status: Int32
        switch address {
        case .v4(let v4):
            var raw = v4.address
            status = withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
                }
            }
        case .v6(let v6):
            var raw = v6.address
            status = withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    getnameinfo($0, socklen_t(MemoryLayout<sockaddr_in6>.size), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
                }
            }
        case .unixDomainSocket:
            return nil
        }
        guard status == 0 else { return nil }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The names a certificate gives its holder: IP addresses and DNS names from its subject
/// alternative names, and its common name (used only when it has neither, as
/// `ZKHostnameVerifier` does).
struct CertificateNames: CustomStringConvertible, Sendable {
    var addresses: [[UInt8]] = []
    var dnsNames: [String] = []
    var commonName: String?

    init(_ certificate: NIOSSLCertificate) {
        for name in certificate._subjectAlternativeNames() {
            switch name.nameType {
            case .ipAddress: addresses.append(Array(name.contents))
            case .dnsName: dnsNames.append(String(decoding: name.contents, as: UTF8.self))
            default: continue
            }
        }
        if let der = try? certificate.toDERBytes() { commonName = X509Subject.commonName(certificate: der) }
    }

    init(addresses: [[UInt8]], dnsNames: [String], commonName: String?) {
        self.addresses = addresses
        self.dnsNames = dnsNames
        self.commonName = commonName
    }

    /// Whether an IP subject alternative name is `address`.
    func matches(address: SocketAddress) -> Bool {
        guard let bytes = Self.bytes(of: address) else { return false }
        return addresses.contains(bytes)
    }

    /// Whether a host name could match at all (there are DNS names, or a common name to fall
    /// back on when there are no alternative names).
    var mayMatchByName: Bool { !dnsNames.isEmpty || (addresses.isEmpty && commonName != nil) }

    /// Whether `hostname` matches a DNS name (a leading `*.` standing for one label), or the
    /// common name when the certificate has no alternative names.
    func matches(hostname: String) -> Bool {
        let host = hostname.lowercased().hasSuffix(".") ? String(hostname.lowercased().dropLast()) : hostname.lowercased()
        let candidates = dnsNames.isEmpty && addresses.isEmpty ? [commonName].compactMap { $0 } : dnsNames
        return candidates.contains { Self.match(host, pattern: $0.lowercased()) }
    }

    static func match(_ host: String, pattern: String) -> Bool {
        guard pattern.hasPrefix("*.") else { return host == pattern }
        let suffix = pattern.dropFirst(1)  // ".example.com"
        guard host.hasSuffix(suffix) else { return false }
        let label = host.dropLast(suffix.count)
        return !label.isEmpty && !label.contains(".")
    }

    /// An address's bytes as an IP subject alternative name holds them.
    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            // An IPv4 peer on a dual-stack socket (::ffff:a.b.c.d) is its IPv4 address.
            if bytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] { return Array(bytes.suffix(4)) }
            return bytes
        case .unixDomainSocket:
            return nil
        }
    }

    var description: String {
        var parts: [String] = []
        if !addresses.isEmpty { parts.append("IP " + addresses.map(Self.text).joined(separator: ", ")) }
        if !dnsNames.isEmpty { parts.append("DNS " + dnsNames.joined(separator: ", ")) }
        if parts.isEmpty { parts.append("CN " + (commonName ?? "none")) }
        return "it names " + parts.joined(separator: "; ")
    }

    private static func text(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count, by: 2).map { String(Int(bytes[$0]) << 8 | Int(bytes[min($0 + 1, bytes.count - 1)]), radix: 16) }
            .joined(separator: ":")
    }
}
