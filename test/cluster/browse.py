# A stock mDNS browser (python3-zeroconf from Debian) for the namespace tests: browses
# _edge-esdb._udp.local. until it has resolved `count` services or `seconds` pass, then prints
# {instance: {port, addresses, id}} as JSON. Run inside a namespace with the system python3.
import json
import sys
import time

from zeroconf import ServiceBrowser, ServiceListener, Zeroconf

SERVICE = "_edge-esdb._udp.local."


class Listener(ServiceListener):
    def __init__(self):
        self.names = set()

    def add_service(self, zc, type_, name):
        self.names.add(name)

    def update_service(self, zc, type_, name):
        self.names.add(name)

    def remove_service(self, zc, type_, name):
        pass


seconds, count = float(sys.argv[1]), int(sys.argv[2])
zc = Zeroconf()
listener = Listener()
ServiceBrowser(zc, SERVICE, listener)
found = {}
deadline = time.time() + seconds
while time.time() < deadline and len(found) < count:
    for name in list(listener.names):
        if name in found:
            continue
        info = zc.get_service_info(SERVICE, name, timeout=1000)
        if info is not None:
            found[name] = {
                "port": info.port,
                "addresses": info.parsed_addresses(),
                "id": (info.properties.get(b"id") or b"").decode(),
            }
    time.sleep(0.1)
print(json.dumps(found))
zc.close()
