"""Raw SOCKS5 clients for the black-box suite (RFC 1928), so that tests
control every byte: split writes, bad greetings, UDP headers."""
import ipaddress
import socket
import struct

from conftest import Raw, loopback_config

# Port 0 for both listeners: the readiness line says where they are.
SOCKS_EXTRA = ('socks_url = "socks5://127.0.0.1:0"\n'
               "enable_socks5_udp = {udp}\n")


def socks_config(udp=True, **kw):
    """loopback_config() with the SOCKS5 listener on."""
    kw["extra"] = SOCKS_EXTRA.format(udp=str(udp).lower()) + kw.get(
        "extra", "")
    return loopback_config(socks=True, **kw)


def socks_port(p):
    """The proxy's SOCKS5 port, from its readiness line."""
    return int(p.ready.group(3).rsplit(":", 1)[1])


def addr_bytes(host, port):
    """ATYP, address and port of a request or UDP header."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        name = host.encode() if isinstance(host, str) else host
        return bytes([3, len(name)]) + name + struct.pack(">H", port)
    atyp = 1 if ip.version == 4 else 4
    return bytes([atyp]) + ip.packed + struct.pack(">H", port)


def request(cmd, host, port):
    return bytes([5, cmd, 0]) + addr_bytes(host, port)


def parse_addr(data):
    """(host, port, length) of the address at data[0]."""
    atyp = data[0]
    if atyp == 1:
        return str(ipaddress.ip_address(data[1:5])), \
            struct.unpack(">H", data[5:7])[0], 7
    if atyp == 4:
        return str(ipaddress.ip_address(data[1:17])), \
            struct.unpack(">H", data[17:19])[0], 19
    n = data[1]
    return data[2:2 + n].decode(), \
        struct.unpack(">H", data[2 + n:4 + n])[0], 4 + n


class Socks(Raw):
    """One SOCKS5 client connection (a Raw one that speaks RFC 1928)."""

    def recv_exact(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def method(self):
        ver, m = self.recv_exact(2)
        assert ver == 5
        return m

    def reply(self):
        """(code, bound host, bound port)."""
        head = self.recv_exact(4)
        assert head[0] == 5 and head[2] == 0, head
        assert head[3] in (1, 4), head  # we bind to addresses only
        rest = self.recv_exact(6 if head[3] == 1 else 18)
        host, port, _ = parse_addr(bytes([head[3]]) + rest)
        return head[1], host, port

    def connect(self, host, port, methods=b"\x00"):
        """Greeting and request in one write; returns the reply."""
        self.send(bytes([5, len(methods)]) + methods +
                  request(1, host, port))
        assert self.method() in methods
        return self.reply()



def reply_code(port, data):
    """Send data on a fresh connection; the reply code, then the close."""
    c = Socks(port)
    c.send(data)
    assert c.method() == 0
    code, _, _ = c.reply()
    assert c.is_closed()
    c.close()
    return code


def udp_header(host, port, frag=0):
    return bytes([0, 0, frag]) + addr_bytes(host, port)


def parse_udp(data):
    """(host, port, payload) of a datagram from the relay."""
    assert data[:3] == b"\0\0\0", data
    host, port, n = parse_addr(data[3:])
    return host, port, data[3 + n:]


class Association:
    """A UDP ASSOCIATE: the control connection and a datagram socket."""

    def __init__(self, port, host="127.0.0.1", declare=("0.0.0.0", 0)):
        self.ctl = Socks(port, host)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((host, 0))
        self.udp.settimeout(20)
        self.ctl.send(b"\x05\x01\x00" + request(3, *declare))
        assert self.ctl.method() == 0
        self.code, self.relay_host, self.relay_port = self.ctl.reply()

    def sendto(self, payload, host, port, frag=0, sock=None):
        (sock or self.udp).sendto(udp_header(host, port, frag) + payload,
                                  (self.relay_host, self.relay_port))

    def recv(self):
        data, src = self.udp.recvfrom(65536)
        assert src == (self.relay_host, self.relay_port)
        return parse_udp(data)

    def close(self):
        self.udp.close()
        self.ctl.close()
