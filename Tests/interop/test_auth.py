"""ACLs and authentication: world, digest, ip, auth, the super user."""
import hashlib
import base64

import pytest
from kazoo.exceptions import AuthFailedError, InvalidACLError, NoAuthError
from kazoo.security import ACL, Id, make_digest_acl, OPEN_ACL_UNSAFE
from rawzk import RawClient, i32, string, buf
from servers import SUPER_PASSWORD


def digest(user, password):
    return "%s:%s" % (user, base64.b64encode(hashlib.sha1(("%s:%s" % (user, password)).encode()).digest()).decode())


def test_digest_acl(kazoo, base):
    owner = kazoo(auth_data=[("digest", "alice:secret")])
    owner.create(base, b"private", acl=[make_digest_acl("alice", "secret", all=True)])
    acl, stat = owner.get_acls(base)
    assert [(a.perms, a.id.scheme, a.id.id) for a in acl] == [(31, "digest", digest("alice", "secret"))]
    assert owner.get(base)[0] == b"private"

    stranger = kazoo()
    with pytest.raises(NoAuthError):
        stranger.get(base)
    with pytest.raises(NoAuthError):
        stranger.set(base, b"x")
    with pytest.raises(NoAuthError):
        stranger.create(base + "/child")
    assert stranger.exists(base).dataLength == 7, "exists checks no ACL in ZooKeeper 3.8"
    impostor = kazoo(auth_data=[("digest", "alice:wrong")])
    with pytest.raises(NoAuthError):
        impostor.get(base)


def test_auth_scheme_expands_to_callers_ids(kazoo, base):
    owner = kazoo(auth_data=[("digest", "bob:pw")])
    owner.create(base, acl=[ACL(31, Id("auth", ""))])
    acl, _ = owner.get_acls(base)
    assert [(a.id.scheme, a.id.id) for a in acl] == [("digest", digest("bob", "pw"))]
    anonymous = kazoo()
    with pytest.raises(InvalidACLError):
        anonymous.create(base + "-anon", acl=[ACL(31, Id("auth", ""))])


def test_invalid_acls(zk, base):
    with pytest.raises(InvalidACLError):
        zk.create(base, acl=[ACL(31, Id("digest", "no-colon"))])
    with pytest.raises(InvalidACLError):
        zk.create(base, acl=[ACL(31, Id("ip", "300.1.1.1"))])
    with pytest.raises(InvalidACLError):
        zk.create(base, acl=[ACL(31, Id("nosuchscheme", "x"))])
    with pytest.raises(InvalidACLError):
        zk.create(base, acl=[ACL(31, Id("world", "someone"))])
    raw = RawClient(zk.hosts[0][0] + ":" + str(zk.hosts[0][1]))
    assert raw.create(base, acl=[])[0] == -114
    raw.close()


def test_ip_acl(zk, base):
    zk.create(base, acl=[ACL(31, Id("ip", "127.0.0.0/8"))])
    assert zk.get(base)[0] == b""
    zk.create(base + "-other", acl=[ACL(31, Id("ip", "10.0.0.1"))])
    with pytest.raises(NoAuthError):
        zk.get(base + "-other")


def test_read_only_acl_and_set_acl_versions(kazoo, base):
    zk = kazoo(auth_data=[("digest", "carol:pw")])
    zk.create(base, acl=[make_digest_acl("carol", "pw", all=True), ACL(1, Id("world", "anyone"))])
    reader = kazoo()
    assert reader.get(base)[0] == b""
    acl, _ = reader.get_acls(base)
    assert ("digest", "carol:x") in [(a.id.scheme, a.id.id) for a in acl], "non-admins see digests masked"
    with pytest.raises(NoAuthError):
        reader.set(base, b"nope")
    stat = zk.set_acls(base, OPEN_ACL_UNSAFE)
    assert stat.aversion == 1
    from kazoo.exceptions import BadVersionError
    with pytest.raises(BadVersionError):
        zk.set_acls(base, OPEN_ACL_UNSAFE, version=0)
    reader.set(base, b"now open")


def test_super_user_passes_every_check(kazoo, base):
    owner = kazoo(auth_data=[("digest", "dave:pw")])
    owner.create(base, b"locked", acl=[make_digest_acl("dave", "pw", all=True)])
    admin = kazoo(auth_data=[("digest", SUPER_PASSWORD)])
    assert admin.get(base)[0] == b"locked"
    admin.set(base, b"changed by super")
    admin.delete(base)


def test_unknown_auth_scheme_fails_and_closes(address):
    c = RawClient(address)
    body = i32(0) + string("kerberos-please") + buf(b"x")
    err, _, _ = c.call("auth", body, xid=-4)
    assert err == -115
    from rawzk import Closed
    with pytest.raises((Closed, OSError)):
        c.exists("/")
