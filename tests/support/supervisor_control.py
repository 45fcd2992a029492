"""Talk to a running appliance's supervisord over its control socket."""

from __future__ import annotations

import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

from appliance.settings import Settings
from appliance.supervision.layout import control_socket_path


def supervisor_rpc(settings: Settings) -> xmlrpc.client.ServerProxy:
    socket_url = f"unix://{control_socket_path(settings)}"
    transport = SupervisorTransport(None, None, serverurl=socket_url)
    # The host part is ignored: the transport always dials the unix socket.
    return xmlrpc.client.ServerProxy("http://localhost", transport=transport)
