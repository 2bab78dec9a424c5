/// A certificate's subject as Java's `X500Principal.getName()` spells it (RFC 2253): what
/// ZooKeeper's `X509AuthenticationProvider` makes a TLS client's `x509` identity, so that ACLs
/// and the super user written for a ZooKeeper server match the same certificates here.
///
/// Relative names come last-first, attributes as `CN=value` for the keywords RFC 2253 knows
/// (CN, C, L, ST, O, OU, STREET, DC, UID) and as `dotted.oid=#hex` of the value's DER for the
/// rest; `,=+<>#;"\` in a value are escaped with a backslash, as are leading and trailing spaces.
public enum X509Subject {
    /// The subject of the DER certificate `der`, or nil if `der` is not a certificate.
    public static func rfc2253(certificate der: [UInt8]) -> String? {
        subject(certificate: der).flatMap(rfc2253(name:))
    }

    /// The subject's most specific common name (its last CN attribute), as a hostname
    /// verifier falls back on when a certificate has no alternative names; nil without one.
    public static func commonName(certificate der: [UInt8]) -> String? {
        guard let name = subject(certificate: der) else { return nil }
        var common: String?
        var names = DERReader(name)
        while !names.isAtEnd {
            guard let set = names.read(tag: 0x31) else { return nil }
            var attributes = DERReader(set)
            while !attributes.isAtEnd {
                guard let pair = attributes.read(tag: 0x30) else { return nil }
                var fields = DERReader(pair)
                guard let oid = fields.read(tag: 0x06), let value = fields.readElement() else { return nil }
                if dottedOID(oid) == "2.5.4.3", let text = string(value.tag, value.content) { common = text }
            }
        }
        return common
    }

    /// The content of the DER certificate's subject `Name`, or nil if `der` is not a certificate.
    private static func subject(certificate der: [UInt8]) -> ArraySlice<UInt8>? {
        var reader = DERReader(der[...])
        guard let certificate = reader.read(tag: 0x30) else { return nil }
        var fields = DERReader(certificate)
        guard let tbs = fields.read(tag: 0x30) else { return nil }
        var tbsFields = DERReader(tbs)
        if tbsFields.peekTag == 0xA0 { _ = tbsFields.read(tag: 0xA0) }  // version
        guard tbsFields.read(tag: 0x02) != nil,  // serialNumber
              tbsFields.read(tag: 0x30) != nil,  // signature algorithm
              tbsFields.read(tag: 0x30) != nil,  // issuer
              tbsFields.read(tag: 0x30) != nil,  // validity
              let subject = tbsFields.readElement(), subject.tag == 0x30 else { return nil }
        return subject.content
    }

    /// The RFC 2253 string of a DER `Name`'s content (a sequence of relative names).
    static func rfc2253(name: ArraySlice<UInt8>) -> String? {
        var relativeNames: [String] = []
        var names = DERReader(name)
        while !names.isAtEnd {
            guard let set = names.read(tag: 0x31) else { return nil }
            var attributes = DERReader(set)
            var parts: [String] = []
            while !attributes.isAtEnd {
                guard let pair = attributes.read(tag: 0x30) else { return nil }
                var fields = DERReader(pair)
                guard let oid = fields.read(tag: 0x06), let value = fields.readElement(),
                      let dotted = dottedOID(oid) else { return nil }
                if let keyword = keywords[dotted], let text = string(value.tag, value.content) {
                    parts.append(keyword + "=" + escaped(text))
                } else {
                    parts.append(dotted + "=#" + value.encoded.map { hex($0) }.joined())
                }
            }
            relativeNames.append(parts.joined(separator: "+"))
        }
        return relativeNames.reversed().joined(separator: ",")
    }

    private static let keywords: [String: String] = [
        "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
        "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
    ]

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    private static func dottedOID(_ bytes: ArraySlice<UInt8>) -> String? {
        guard let first = bytes.first else { return nil }
        var arcs = [String(first / 40), String(first % 40)]
        var value: UInt64 = 0
        for byte in bytes.dropFirst() {
            guard value < (1 << 56) else { return nil }
            value = value << 7 | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 {
                arcs.append(String(value))
                value = 0
            }
        }
        return arcs.joined(separator: ".")
    }

    /// The text of a directory string: UTF8String, PrintableString, IA5String, T61String
    /// (read as Latin-1), BMPString (UTF-16BE) or UniversalString (UTF-32BE).
    private static func string(_ tag: UInt8, _ content: ArraySlice<UInt8>) -> String? {
        switch tag {
        case 0x0C, 0x13, 0x16: return String(validating: Array(content), as: UTF8.self)
        case 0x14: return String(content.map { Character(Unicode.Scalar($0)) })
        case 0x1E:
            guard content.count % 2 == 0 else { return nil }
            let units = stride(from: content.startIndex, to: content.endIndex, by: 2).map { UInt16(content[$0]) << 8 | UInt16(content[$0 + 1]) }
            return String(decoding: units, as: UTF16.self)
        case 0x1C:
            guard content.count % 4 == 0 else { return nil }
            var scalars = String.UnicodeScalarView()
            for offset in stride(from: content.startIndex, to: content.endIndex, by: 4) {
                let value = content[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                guard let scalar = Unicode.Scalar(value) else { return nil }
                scalars.append(scalar)
            }
            return String(scalars)
        default: return nil
        }
    }

    private static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            if ",=+<>#;\"\\".contains(character) { out.append("\\") }
            out.append(character)
        }
        // Leading and trailing spaces are escaped too.
        if out.hasPrefix(" ") { out = "\\" + out }
        if out.hasSuffix(" ") && !out.hasSuffix("\\ ") { out.insert("\\", at: out.index(before: out.endIndex)) }
        return out
    }
}

/// Reads DER elements (tag, definite length, content) from bytes.
struct DERReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { bytes.isEmpty }
    var peekTag: UInt8? { bytes.first }

    /// The next element's content if its tag is `tag`.
    mutating func read(tag: UInt8) -> ArraySlice<UInt8>? {
        guard peekTag == tag, let element = readElement() else { return nil }
        return element.content
    }

    /// The next element: its tag, its content, and its whole encoding.
    mutating func readElement() -> (tag: UInt8, content: ArraySlice<UInt8>, encoded: ArraySlice<UInt8>)? {
        let start = bytes.startIndex
        guard bytes.count >= 2 else { return nil }
        let tag = bytes[start]
        var index = start + 1
        let first = bytes[index]
        index += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7F)
            guard count >= 1, count <= 4, bytes.endIndex - index >= count else { return nil }
            for _ in 0..<count {
                length = length << 8 | Int(bytes[index])
                index += 1
            }
        }
        guard bytes.endIndex - index >= length else { return nil }
        let content = bytes[index..<index + length]
        let encoded = bytes[start..<index + length]
        bytes = bytes[(index + length)...]
        return (tag, content, encoded)
    }
}
