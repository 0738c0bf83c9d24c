"""A real DNS server on loopback (UDP, dnspython) answering the CNAME records a test sets;
a name it knows without a CNAME answers NOERROR with no answer, any other name NXDOMAIN."""
from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class DnsServer:
    def __init__(self):
        self.cnames: dict[str, str] = {}    # name -> target
        self.bare: set[str] = set()          # names that exist without a CNAME
        self.silent = False                  # answer nothing (the resolver times out)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self._stopped = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def start(self) -> "DnsServer":
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.socket.close()

    def clear(self) -> None:
        self.cnames.clear()
        self.bare.clear()
        self.silent = False

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                data, peer = self.socket.recvfrom(4096)
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except dns.exception.DNSException:
                continue
            if not self.silent:
                self.socket.sendto(self._answer(query).to_wire(), peer)

    def _answer(self, query) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        if name in self.cnames:
            if question.rdtype in (dns.rdatatype.CNAME, dns.rdatatype.A, dns.rdatatype.ANY):
                response.answer.append(dns.rrset.from_text(
                    question.name, 300, dns.rdataclass.IN, dns.rdatatype.CNAME,
                    dns.name.from_text(self.cnames[name]).to_text()))
        elif name not in self.bare:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response
