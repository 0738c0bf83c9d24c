"""A status page's own domain: endpoint 107."""
from __future__ import annotations

from api.resources.base import Resource
from api.schemas.domains import domain_in
from models import domains


class DomainCname(Resource):
    def on_get(self, req, resp, domain):
        """Whether `domain` has a CNAME to the status pages' host
        (`PINGHOME_STATUS_CNAME_TARGET`), looked up in DNS now."""
        resp.media = domains.cname_of(domain_in(domain), settings=self.settings)
