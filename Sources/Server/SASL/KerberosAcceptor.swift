import CAviaryGSSAPI
import Configuration
import Foundation
import ServerCore

/// One client's Kerberos security context, accepted with the keys of the JAAS `Server`
/// section's keytab through the system's GSS-API library (``GSSAPIServer`` runs the SASL
/// exchange over it). Used on the core's loop only.
final class KerberosAcceptor: GSSAcceptorContext, @unchecked Sendable {
    private var handle: UnsafeMutableRawPointer?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    deinit { aviary_gss_release(handle) }

    /// Calls into the library with an error buffer; throws its message.
    private static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var error = [CChar](repeating: 0, count: 512)
        let status = error.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return body(base, buffer.count)
        }
        if status != 0 { throw Failure(description: "Kerberos: " + text(error)) }
    }

    /// Runs a call that allocates an output buffer; returns its bytes.
    private static func bytes(_ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>,
                                       UnsafeMutablePointer<CChar>, Int) -> Int32) throws -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        try call { error, size in body(&output, &length, error, size) }
        defer { aviary_gss_free(output) }
        guard let output else { return [] }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }

    func accept(_ token: [UInt8]) throws -> (token: [UInt8], established: Bool) {
        var complete: Int32 = 0
        var context = handle
        let answer = try Self.bytes { output, length, error, size in
            token.withUnsafeBufferPointer { input in
                aviary_gss_accept(&context, input.baseAddress, input.count, output, length, &complete, error, size)
            }
        }
        handle = context
        return (answer, complete != 0)
    }

    func initiator() throws -> String {
        var name = [CChar](repeating: 0, count: 1024)
        try Self.call { error, size in
            name.withUnsafeMutableBufferPointer { aviary_gss_peer(handle, $0.baseAddress, $0.count, error, size) }
        }
        return Self.text(name)
    }

    /// A NUL-terminated C string from a buffer.
    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func wrap(_ message: [UInt8]) throws -> [UInt8] {
        try Self.bytes { output, length, error, size in
            message.withUnsafeBufferPointer { aviary_gss_wrap(handle, $0.baseAddress, $0.count, output, length, error, size) }
        }
    }

    func unwrap(_ message: [UInt8]) throws -> [UInt8] {
        try Self.bytes { output, length, error, size in
            message.withUnsafeBufferPointer { aviary_gss_unwrap(handle, $0.baseAddress, $0.count, output, length, error, size) }
        }
    }

    /// Readies the library for a server that logs in with `login` (its keytab; the Kerberos
    /// configuration from `krb5ConfigFile` when one is given) and gives what makes each
    /// connection's exchange; throws what stops the start (no library, no keytab).
    static func exchanges(login: KerberosLogin, configuration: ServerConfiguration) throws -> @Sendable () throws -> GSSAPIServer {
        guard FileManager.default.isReadableFile(atPath: login.keyTab) else {
            throw Failure(description: "the keytab \(login.keyTab) of the JAAS Server section cannot be read")
        }
        if let krb5 = configuration.krb5ConfigFile {
            guard FileManager.default.isReadableFile(atPath: krb5) else {
                throw Failure(description: "the Kerberos configuration \(krb5) (java.security.krb5.conf) cannot be read")
            }
            setenv("KRB5_CONFIG", krb5, 1)
        }
        try call { error, size in
            guard let principal = login.principal else { return aviary_gss_setup(login.keyTab, nil, error, size) }
            return aviary_gss_setup(login.keyTab, principal, error, size)
        }
        let krb5Path = configuration.krb5ConfigFile ?? ProcessInfo.processInfo.environment["KRB5_CONFIG"] ?? "/etc/krb5.conf"
        let realm = (try? String(contentsOfFile: krb5Path, encoding: .utf8)).flatMap(Krb5Configuration.defaultRealm(in:))
            ?? login.principal.flatMap { $0.split(separator: "@").count == 2 ? String($0.split(separator: "@")[1]) : nil }
        let options = GSSAPIServer.Options(defaultRealm: realm,
                                           removeHostFromPrincipal: configuration.kerberosRemoveHostFromPrincipal,
                                           removeRealmFromPrincipal: configuration.kerberosRemoveRealmFromPrincipal)
        return { GSSAPIServer(context: KerberosAcceptor(), options: options) }
    }
}
