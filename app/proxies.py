"""X-Forwarded-For believed only from the deployment's own proxies (werkzeug's ProxyFix, applied by source)."""
import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """ProxyFix for requests that come from one of `addresses` (all of them when none is given, as before)."""

    def __init__(self, app, hops: int, addresses: tuple[str, ...] = ()):
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        self.networks = [ipaddress.ip_network(a, strict=False) for a in addresses]

    def _trusted(self, remote: str | None) -> bool:
        if not self.networks:
            return True
        try:
            address = ipaddress.ip_address(remote or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        if self._trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
