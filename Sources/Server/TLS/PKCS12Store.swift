import CNIOBoringSSL
import CNIOBoringSSLShims
import Foundation
import NIOSSL

/// A PKCS12 key or trust store, read with BoringSSL's `PKCS12_get_key_and_certs`: unlike
/// `NIOSSLPKCS12Bundle`, it takes a store without a private key (a trust store, as `keytool`
/// and `openssl pkcs12 -nokeys` make them) and says so instead of stopping the process.
struct PKCS12Store {
    /// The private key, if the store has one.
    var privateKey: NIOSSLPrivateKey?
    /// The certificates; when there is a key, the one it belongs to comes first.
    var certificates: [NIOSSLCertificate]

    /// Reads `path` with `password` (empty for none).
    init(path: String, password: String) throws(TLSSetupError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw TLSSetupError("cannot read \(path)") }
        guard let stack = CNIOBoringSSLShims_sk_X509_new_null() else { throw TLSSetupError("out of memory reading \(path)") }
        defer { CNIOBoringSSLShims_sk_X509_pop_free(stack, X509_free) }
        var key: OpaquePointer?
        let parsed = data.withUnsafeBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return 0 }
            var input = CBS()
            CBS_init(&input, base.assumingMemoryBound(to: UInt8.self), bytes.count)
            return password.withCString { PKCS12_get_key_and_certs(&key, stack, &input, $0) }
        }
        defer { if let key { EVP_PKEY_free(key) } }
        guard parsed == 1 else {
            ERR_clear_error()
            throw TLSSetupError("\(path) is not a PKCS12 store that this password opens")
        }
        var certificates: [NIOSSLCertificate] = []
        var leaf: Int?
        for index in 0..<CNIOBoringSSLShims_sk_X509_num(stack) {
            guard let x509 = CNIOBoringSSLShims_sk_X509_value(stack, index) else { continue }
            if let key, leaf == nil, X509_check_private_key(x509, key) == 1 { leaf = certificates.count }
            ERR_clear_error()
            var der: UnsafeMutablePointer<UInt8>?
            let length = i2d_X509(x509, &der)
            guard length > 0, let der else { throw TLSSetupError("\(path) holds a certificate that cannot be encoded") }
            defer { OPENSSL_free(der) }
            do {
                certificates.append(try NIOSSLCertificate(bytes: Array(UnsafeBufferPointer(start: der, count: Int(length))), format: .der))
            } catch {
                throw TLSSetupError("\(path) holds a certificate that cannot be read (\(error))")
            }
        }
        if let leaf, leaf > 0 { certificates.insert(certificates.remove(at: leaf), at: 0) }
        self.certificates = certificates
        if let key {
            var der: UnsafeMutablePointer<UInt8>?
            let length = i2d_PrivateKey(key, &der)
            guard length > 0, let der else { throw TLSSetupError("\(path) holds a private key that cannot be encoded") }
            defer { OPENSSL_free(der) }
            do {
                privateKey = try NIOSSLPrivateKey(bytes: Array(UnsafeBufferPointer(start: der, count: Int(length))), format: .der)
            } catch {
                throw TLSSetupError("\(path) holds a private key that cannot be read (\(error))")
            }
        } else {
            privateKey = nil
        }
    }
}
