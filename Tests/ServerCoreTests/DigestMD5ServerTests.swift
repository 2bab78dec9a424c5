@testable import ServerCore
import Testing

struct DigestMD5ServerTests {
    /// RFC 2831's own example (section 4): its response and rspauth values.
    @Test func theRFCExampleGivesItsValues() {
        func value(_ prefix: String) -> String {
            DigestMD5Server.responseValue(username: "chris", realm: "elwood.innosoft.com", password: "secret", nonce: "OA6MG9tEQGm2hh",
                                          cnonce: "OA6MHXh6VqTrRk", nc: "00000001", qop: "auth", authzid: nil, a2Prefix: prefix,
                                          digestURI: "imap/elwood.innosoft.com")
        }
        #expect(value("AUTHENTICATE") == "d388dad90d4bbd760a152321f2143af7")
        #expect(value("") == "ea40f60335c427b5527b84dbabcdfffd")
    }

    static func clientResponse(user: String, password: String, nonce: String, uri: String = DigestMD5Server.digestURI) -> [UInt8] {
        let response = DigestMD5Server.responseValue(username: user, realm: DigestMD5Server.realm, password: password, nonce: nonce,
                                                     cnonce: "c-nonce", nc: "00000001", qop: "auth", authzid: nil, a2Prefix: "AUTHENTICATE")
        return Array(#"charset=utf-8,username="\#(user)",realm="zk-sasl-md5",nonce="\#(nonce)",nc=00000001,cnonce="c-nonce",digest-uri="\#(uri)",maxbuf=65536,response=\#(response),qop=auth"#.utf8)
    }

    @Test func aGoodResponseCompletesWithTheUserAsIdentity() throws {
        var server = DigestMD5Server(users: ["bob": "pw"], nonce: "n0nce")
        let challenge = String(decoding: try server.evaluate([]), as: UTF8.self)
        #expect(challenge.contains(#"nonce="n0nce""#) && challenge.contains(#"realm="zk-sasl-md5""#) && challenge.contains("md5-sess"))
        let final = String(decoding: try server.evaluate(Self.clientResponse(user: "bob", password: "pw", nonce: "n0nce")), as: UTF8.self)
        #expect(final.hasPrefix("rspauth="))
        #expect(server.isComplete && server.authorizationID == "bob")
        #expect(throws: DigestMD5Server.Failure.self) { try server.evaluate([]) }
    }

    @Test func wrongPasswordsUsersNoncesAndURIsFail() throws {
        for (user, password, nonce, uri) in [("bob", "wrong", "n0nce", DigestMD5Server.digestURI), ("eve", "pw", "n0nce", DigestMD5Server.digestURI),
                                             ("bob", "pw", "other", DigestMD5Server.digestURI), ("bob", "pw", "n0nce", "ldap/zk-sasl-md5")] {
            var server = DigestMD5Server(users: ["bob": "pw"], nonce: "n0nce")
            _ = try server.evaluate([])
            #expect(throws: DigestMD5Server.Failure.self) {
                try server.evaluate(Self.clientResponse(user: user, password: password, nonce: nonce, uri: uri))
            }
            #expect(!server.isComplete && server.authorizationID == nil)
        }
    }

    @Test func malformedMessagesFailWithoutCrashing() throws {
        for token in ["", "username", #"username="unterminated"#, "a=1,a=2", String(repeating: "x=y,", count: 2000)] {
            var server = DigestMD5Server(users: ["bob": "pw"], nonce: "n")
            _ = try server.evaluate([])
            #expect(throws: DigestMD5Server.Failure.self) { try server.evaluate(Array(token.utf8)) }
        }
        var eager = DigestMD5Server(users: [:], nonce: "n")
        #expect(throws: DigestMD5Server.Failure.self) { try eager.evaluate(Array("username=x".utf8)) }
        #expect(DigestMD5Server.directives(#"a="x\"y", b=2 ,c="""#) == ["a": #"x"y"#, "b": "2", "c": ""])
    }
}

struct DigestMD5ClientTests {
    @Test func aClientAndAServerAgreeOnlyOnTheSamePassword() throws {
        for (password, accepted) in [("pw", true), ("wrong", false)] {
            var server = DigestMD5Server(users: ["member": "pw"], nonce: "n0nce", realm: DigestMD5Server.quorumRealm,
                                         digestURI: DigestMD5Server.quorumDigestURI)
            var client = DigestMD5Client(username: "member", password: password, cnonce: "c")
            let challenge = try server.evaluate([])
            let response = try client.respond(to: challenge)
            if accepted {
                let final = try server.evaluate(response)
                try client.verify(final)
                #expect(server.authorizationID == "member")
            } else {
                #expect(throws: DigestMD5Server.Failure.self) { try server.evaluate(response) }
            }
        }
    }

    @Test func aServerThatDoesNotKnowThePasswordIsFound() throws {
        var client = DigestMD5Client(username: "member", password: "pw", cnonce: "c")
        _ = try client.respond(to: Array(#"realm="zk-quorum-sasl-md5",nonce="n",qop="auth",charset=utf-8,algorithm=md5-sess"#.utf8))
        #expect(throws: DigestMD5Client.Failure.self) { try client.verify(Array("rspauth=00000000000000000000000000000000".utf8)) }
        #expect(throws: DigestMD5Client.Failure.self) { try client.respond(to: Array("qop=auth-int".utf8)) }
    }
}
