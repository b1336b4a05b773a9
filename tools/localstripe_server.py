"""Run localstripe on 127.0.0.1 only (its own command binds every address).

--state FILE keeps localstripe's objects across restarts (the demo);
without it every start is from scratch (the tests).
"""

import argparse
import logging
import pickle

from aiohttp import web
from localstripe import resources, server


def _use_state_file(path):
    store_cls = type(resources.store)

    def load(store):
        try:
            with open(path, "rb") as f:
                store.clear()
                store.update(pickle.load(f))  # noqa: S301 - our own state file
        except FileNotFoundError:
            pass

    def dump(store):
        if path:
            with open(path, "wb") as f:
                pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)

    store_cls.try_load_from_disk = load
    store_cls.dump_to_disk = dump


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", default="")
    args = parser.parse_args()
    _use_state_file(args.state)
    if args.state:
        resources.store.try_load_from_disk()
    logging.basicConfig(level=logging.INFO)
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=None)


if __name__ == "__main__":
    main()
