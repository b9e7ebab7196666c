"""Run a Gateway in its own process (so a test can measure the engine's memory alone).

``python -m tests.llm.gateway_proc '<GatewayConfig JSON>'`` prints one JSON line
(socket path, a label key, pid) and serves until its stdin closes.
"""

import json
import os
import sys

from dgm.models.gateway import Gateway, GatewayConfig

if __name__ == "__main__":
    cfg = GatewayConfig.model_validate(json.loads(sys.argv[1]))
    with Gateway(cfg, environ={"OPENAI_API_KEY": "sk-test"}) as gw:
        print(json.dumps({"socket": gw.access.socket_path, "key": gw.access.key("000001"),
                          "pid": os.getpid()}), flush=True)
        sys.stdin.read()
